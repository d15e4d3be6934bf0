"""Exercise spec: chapter 7, im2col."""
from . import CONV_BACKWARD_CASES, CONV_FORWARD_CASES, Case, Code, Exercise, Graded, Markdown, randn

EXERCISE = Exercise(
    assignment="ch07_im2col",
    title="im2col: convolution as one matrix product",
    intro="""
A Python loop per output value is slow. `im2col` copies every window of the input into a
column of one big matrix, so that the whole convolution becomes a single matrix product that
numpy hands to an optimised BLAS routine; `col2im`, its adjoint, brings gradients back. The
two conv functions here are graded for speed too: at least 10 times faster than the
per-output-value loop shown below, on `x (8, 16, 16, 16)`, `w (16, 16, 3, 3)`, stride 1, pad 1.
""",
    cells=(
        Graded(
            name="im2col",
            task="""
Zero-pad `x` by `pad`, then lay every `HH x WW` window out as a column:

`cols[(c*HH + i)*WW + j, (n*Hout + oh)*Wout + ow] = xpad[n, c, oh*stride + i, ow*stride + j]`,

so rows are ordered `(c, i, j)` and columns `(n, oh, ow)`, both in C order, and `cols` has
shape `(C*HH*WW, N*Hout*Wout)`. With this order `w.reshape(F, -1) @ cols` is the convolution.
Avoid a Python loop over output positions: loop over the `HH*WW` kernel offsets at most, or use
`np.lib.stride_tricks.sliding_window_view`.
""",
            cases=(
                Case("x (1, 1, 3, 3), 2x2 windows", lambda r: (randn(r, 1, 1, 3, 3), 2, 2)),
                Case("x (2, 3, 5, 4), 3x2 windows, stride 2, pad 1", lambda r: (randn(r, 2, 3, 5, 4), 3, 2, 2, 1)),
                Case("float32 x (2, 2, 4, 4), 3x3 windows, pad 1",
                     lambda r: (randn(r, 2, 2, 4, 4, dtype="float32"), 3, 3, 1, 1)),
            ),
        ),
        Graded(
            name="col2im",
            task="""
`col2im` is the adjoint (transpose) of `im2col`: for every entry of `cols`, add it to the
position of the padded input it was copied from; where windows overlap the contributions add
up; finally crop the padding and return an array of shape `x_shape`. (Adjoint means
`np.sum(im2col(x, ...) * cols) == np.sum(x * col2im(cols, x.shape, ...))` for all `x`, `cols`.)
""",
            cases=(
                Case("x_shape (1, 1, 3, 3), 2x2 windows", lambda r: (randn(r, 4, 4), (1, 1, 3, 3), 2, 2)),
                Case("x_shape (2, 3, 5, 4), 3x2 windows, stride 2, pad 1",
                     lambda r: (randn(r, 18, 2 * 3 * 3), (2, 3, 5, 4), 3, 2, 2, 1)),
            ),
        ),
        Graded(
            name="conv_forward_im2col",
            task="""
The conv layer of chapter 2 (same inputs, same output), computed as
`w.reshape(F, -1) @ im2col(x, HH, WW, stride, pad)` plus the bias, reshaped from
`(F, N*Hout*Wout)` to `(N, F, Hout, Wout)`. Graded for speed as well as correctness.
""",
            cases=CONV_FORWARD_CASES,
        ),
        Graded(
            name="conv_backward_im2col",
            task="""
Backward pass of `conv_forward_im2col`, returning `(dx, dw, db)` as in chapter 6. With
`cols = im2col(x, ...)` and `dout_row = dout` rearranged to `(F, N*Hout*Wout)` (columns in
`(n, oh, ow)` order): `dw = (dout_row @ cols.T).reshape(w.shape)`,
`dx = col2im(w.reshape(F, -1).T @ dout_row, x.shape, HH, WW, stride, pad)`,
`db = dout.sum(axis=(0, 2, 3))`. Graded for speed as well as correctness.
""",
            cases=CONV_BACKWARD_CASES,
        ),
        Code("""
# Naive vs im2col on the graded benchmark: x (8, 16, 16, 16), w (16, 16, 3, 3), stride 1, pad 1.
# The baseline is the grader's: one np.sum(window * w[f]) per output value.
import time


def conv_per_output_value(x, w, b, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, F, HH, WW = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    Hout, Wout = xp.shape[2] - HH + 1, xp.shape[3] - WW + 1
    out = np.empty((N, F, Hout, Wout))
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    out[n, f, i, j] = np.sum(xp[n, :, i:i + HH, j:j + WW] * w[f]) + b[f]
    return out


def best_of(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


rng = np.random.default_rng(0)
x, w, b = rng.standard_normal((8, 16, 16, 16)), rng.standard_normal((16, 16, 3, 3)), rng.standard_normal(16)
try:
    fast, out = best_of(3, lambda: conv_forward_im2col(x, w, b, 1, 1))
except NotImplementedError:
    print("Implement im2col and conv_forward_im2col to time them.")
else:
    slow, expected = best_of(1, lambda: conv_per_output_value(x, w, b, 1))
    print(f"per output value: {slow * 1e3:8.1f} ms\\nim2col:           {fast * 1e3:8.1f} ms  "
          f"({slow / fast:.0f}x faster; the grader asks for 10x)")
    print("same result:", np.allclose(out, expected))
"""),
    ),
)
