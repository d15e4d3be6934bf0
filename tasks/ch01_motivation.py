"""Chapter 1, motivation: parameter counts and the convolution as a dense matrix.

Everything the course knows about each graded function is its Task record below; the
notebook's cells are EXERCISE, in order.
"""
import numpy as np

from autograder.cases import Case, normal
import solutions as ref

from . import Code, Example, Exercise, Markdown, Task, randn


def _bias(bias):
    """The situation a parameter count exercises: with biases or without. Half the cases each, so
    that counting the biases wrongly, or counting them when bias is false, costs half."""
    return ("bias",) if bias else ("no bias",)


def _dense(rng):
    grid = [((3, 32, 32), 10, True), ((1, 28, 28), 100, False), ((16, 7, 5), 3, True), ((2, 5, 9), 7, False)]
    return [Case("dense_param_count", f"in{'x'.join(map(str, s))}_units{u}_bias{b}", (s, u), {"bias": b},
                 mistakes=[("bias_ignored", lambda s, u, bias=True: ref.dense_param_count(s, u, False))],
                 situations=_bias(b))
            for s, u, b in grid]


def _conv(rng):
    grid = [(3, 16, 3, True), (16, 8, 5, False), (1, 4, 1, True), (7, 3, 3, False)]
    return [Case("conv_param_count", f"cin{c}_cout{f}_k{k}_bias{b}", (c, f, k), {"bias": b},
                 mistakes=[("bias_ignored", lambda c, f, k, bias=True: ref.conv_param_count(c, f, k, False))],
                 situations=_bias(b))
            for c, f, k, b in grid]


def _shared_bias(in_shape, c_out, k, stride=1, pad=0, bias=True):
    weights = ref.locally_connected_param_count(in_shape, c_out, k, stride, pad, False)
    return weights + (c_out if bias else 0)


def _locally_connected(rng):
    grid = [((3, 8, 8), 4, 3, 1, 0, True), ((2, 9, 7), 3, 3, 2, 1, True),
            ((1, 6, 5), 2, 2, 1, 0, False), ((4, 10, 10), 5, 3, 3, 1, False)]
    return [Case("locally_connected_param_count", f"in{'x'.join(map(str, s))}_k{k}_s{st}_p{p}_bias{b}",
                 (s, f, k), {"stride": st, "pad": p, "bias": b}, mistakes=[("shared_bias", _shared_bias)],
                 situations=_bias(b) + ("stride",) * (st > 1) + ("pad",) * (p > 0))
            for s, f, k, st, p, b in grid]


def _conv_as_matrix(rng):
    grid = [((2, 3, 3, 3), (3, 5, 6), 1, 0, np.float64), ((2, 2, 3, 2), (2, 6, 5), 2, 1, np.float64),
            ((3, 1, 2, 2), (1, 4, 4), 1, 1, np.float64), ((2, 3, 3, 3), (3, 7, 5), 2, 0, np.float32)]
    cases = []
    for w_shape, in_shape, stride, pad, dtype in grid:
        w = normal(rng, w_shape, dtype)
        cases.append(Case("conv_as_matrix", f"w{'x'.join(map(str, w_shape))}_s{stride}_p{pad}_{np.dtype(dtype)}",
                          (w, in_shape), {"stride": stride, "pad": pad},
                          mistakes=[("matrix_transposed", lambda w, s, stride=1, pad=0:
                                     ref.conv_as_matrix(w, s, stride, pad).T)],
                          situations=("stride",) * (stride > 1) + ("pad",) * (pad > 0)
                          + ("float32",) * (np.dtype(dtype) == np.float32)))
    return cases


EXERCISE = Exercise(
    assignment="ch01_motivation",
    title="Why convolutions",
    intro="""
A dense layer on an image connects every output unit to every pixel. A convolutional layer
makes two assumptions instead: *locality* (a unit looks at a small window) and *weight
sharing* (every window is read by the same filter). Here you count what each assumption saves
and write a convolution as the big, sparse, repetitive matrix that a dense layer would need.
""",
    cells=(
        Task(
            name="dense_param_count",
            points=4,
            task="""
A dense layer flattens its input of shape `in_shape = (C, H, W)` and connects each of its
`units` outputs to all `C*H*W` inputs. Return the number of parameters as a Python `int`:
`C*H*W*units` weights, plus one bias per unit when `bias` is true.
Example: `dense_param_count((3, 32, 32), 10)` is `30730`.
""",
            examples=(
                Example("in_shape (3, 32, 32), 10 units", lambda r: ((3, 32, 32), 10)),
                Example("in_shape (1, 28, 28), 100 units, no bias", lambda r: ((1, 28, 28), 100, False)),
                Example("in_shape (2, 5, 9), 7 units", lambda r: ((2, 5, 9), 7)),
            ),
            hidden=_dense,
            mistakes={
                'bias_ignored': 'matches the count without biases: add the biases when bias=True',
            },
        ),
        Task(
            name="conv_param_count",
            points=4,
            task="""
A conv layer has `c_out` filters, each of shape `(c_in, k, k)`, and one bias per filter.
Return the number of parameters as an `int`. It does not depend on the image size: that is
weight sharing. Example: `conv_param_count(3, 16, 3)` is `448`.
""",
            examples=(
                Example("c_in 3, c_out 16, k 3", lambda r: (3, 16, 3)),
                Example("c_in 64, c_out 128, k 1, no bias", lambda r: (64, 128, 1, False)),
            ),
            hidden=_conv,
            mistakes={
                'bias_ignored': 'matches the count without biases: add the biases when bias=True',
            },
        ),
        Task(
            name="locally_connected_param_count",
            points=4,
            task="""
A *locally connected* layer keeps locality but drops weight sharing: every output unit
`(f, i, j)` has its own `C x k x k` filter, and, when `bias` is true, its own bias. The output
is `c_out x Hout x Wout` with `Hout = floor((H + 2*pad - k) / stride) + 1` (likewise `Wout`).
Return the parameter count as an `int`. Example: `locally_connected_param_count((3, 32, 32), 16, 3)`
is `16*30*30*(27 + 1) = 403200`.
""",
            examples=(
                Example("in_shape (3, 32, 32), 16 filters, k 3", lambda r: ((3, 32, 32), 16, 3)),
                Example("in_shape (2, 9, 7), 4 filters, k 3, stride 2, pad 1", lambda r: ((2, 9, 7), 4, 3, 2, 1)),
                Example("in_shape (1, 5, 5), 2 filters, k 2, no bias", lambda r: ((1, 5, 5), 2, 2, 1, 0, False)),
            ),
            hidden=_locally_connected,
            mistakes={
                "shared_bias": "matches one bias per output channel: without weight sharing every output unit"
                               " has its own bias",
            },
        ),
        Code("""
# How much do locality and weight sharing save on one 224 x 224 RGB image, 64 outputs?
try:
    counts = {"dense (64 units)": dense_param_count((3, 224, 224), 64),
              "locally connected 3x3": locally_connected_param_count((3, 224, 224), 64, 3, pad=1),
              "conv 3x3": conv_param_count(3, 64, 3)}
except NotImplementedError:
    print("Implement the three counts above to see this comparison.")
else:
    for name, count in counts.items():
        print(f"{name:>24}: {count:>12,d} parameters")
"""),
        Task(
            name="conv_as_matrix",
            points=4,
            task="""
A convolution is linear in its input, so it is a matrix. Build `M` of shape
`(F*Hout*Wout, C*H*W)` such that, for one image `x` of shape `in_shape = (C, H, W)`,
`M @ x.ravel()` equals the conv layer's output (cross-correlation, zero padding `pad`, stride
`stride`, no bias) flattened in C order, i.e. `out[f, i, j]` sits at row `(f*Hout + i)*Wout + j`.
Row `(f, i, j)` holds `w[f, c, a, b]` in column `(c*H + i*stride + a - pad)*W + (j*stride + b - pad)`
for every tap that lands inside the image; taps on the padding contribute nothing.
`M` has `w`'s float dtype.
""",
            examples=(
                Example("w (1, 1, 2, 2), in_shape (1, 3, 3)", lambda r: (randn(r, 1, 1, 2, 2), (1, 3, 3))),
                Example("w (2, 3, 3, 3), in_shape (3, 4, 5), stride 2, pad 1",
                     lambda r: (randn(r, 2, 3, 3, 3), (3, 4, 5), 2, 1)),
                Example("float32 w (2, 1, 3, 2), in_shape (1, 5, 4), pad 1",
                     lambda r: (randn(r, 2, 1, 3, 2, dtype="float32"), (1, 5, 4), 1, 1)),
            ),
            hidden=_conv_as_matrix,
            mistakes={
                "matrix_transposed": "matches M.T: M has one row per output value (F*Hout*Wout) and one "
                                     "column per input value (C*H*W)",
            },
        ),
        Code("""
# The matrix of a 3x3 conv on a 1-channel 8x8 image: each row is the same filter, shifted.
# Sparse (locality) and repetitive (weight sharing): compare its size with dense_param_count.
try:
    M = conv_as_matrix(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), (1, 8, 8), pad=1)
except NotImplementedError:
    print("Implement conv_as_matrix to see its structure.")
else:
    print(f"M has shape {M.shape}; {np.count_nonzero(M)} of its {M.size} entries are non-zero")
    plt.figure(figsize=(6, 6))
    plt.imshow(M, cmap="viridis", interpolation="nearest")
    plt.title("conv_as_matrix: 3x3 kernel, 8x8 image, pad 1")
    plt.xlabel("input pixel (c, h, w)")
    plt.ylabel("output unit (f, i, j)")
    plt.show()
"""),
    ),
)
