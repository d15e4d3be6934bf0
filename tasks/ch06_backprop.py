"""Chapter 6, backpropagation: numerical gradients, the conv layer's backward pass, transposed conv.

Backward functions are compared with the reference's gradients, not only gradient-checked:
a wrong forward with a matching backward would pass a gradient check.

Everything the course knows about each graded function is its Task record below; the
notebook's cells are EXERCISE, in order.
"""
import numpy as np

from autograder.cases import Case, normal, only_where_windows_overlap, window_coverage
from autograder.probes import build
from autograder.protocol import Probe
import solutions as ref

from . import CONV_BACKWARD_EXAMPLES, Code, Example, Exercise, Markdown, Task, randn
from .ch02_convolution import CONV_GRID, conv_case_name, conv_inputs, conv_situations

# numerical_gradient perturbs x in place and must put it back bit-identical: one of the task's
# four requirements (centred differences, weighting by dout, dx's shape and dtype, x put back),
# so a right gradient with x not put back exactly earns the other three quarters.
RESTORE_SHARE = 0.25


def _forward_difference(f, x, dout, h=1e-5):
    f = build(f.name, f.args)
    dx, x = np.zeros_like(x), x.copy()
    base = np.sum(f(x) * dout)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        dx[index] = (np.sum(f(x) * dout) - base) / h
        x[index] = old
    return dx


def _numerical_gradient(rng):
    grid = [(Probe("tanh_affine", [normal(rng, (4, 3)), normal(rng, (3,))]), (5, 4), (5, 3), 1e-3),
            (Probe("cubic", [0.7]), (3, 4), (3, 4), 1e-3),
            (Probe("coupled_sin", [1.3]), (2, 3, 4), (2, 3, 4), 1e-4),
            (Probe("tanh_affine", [normal(rng, (6, 2)), normal(rng, (2,))]), (2, 6), (2, 2), None)]
    cases = []
    for probe, x_shape, out_shape, h in grid:
        kwargs = {} if h is None else {"h": h}
        cases.append(Case("numerical_gradient", f"{probe.name}_x{'x'.join(map(str, x_shape))}_h{h or 'default'}",
                          (probe, normal(rng, x_shape), normal(rng, out_shape)), kwargs,
                          mistakes=[("forward_difference", _forward_difference),
                                    ("ignores_dout", lambda f, x, dout, h=1e-5: ref.numerical_gradient(
                                        build(f.name, f.args), x.copy(), np.ones_like(dout), h))],
                          outputs=("dx",), mutation_id="x_not_restored", restore_share=RESTORE_SHARE,
                          situations=("default h",) * (h is None)))
    return cases


def conv_backward_variant(dout, x, w, b, stride=1, pad=0, *, step=None, overwrite=False, crop=True):
    """A loop conv backward with one rule changed: window step, dx overwriting, or no crop."""
    step = stride if step is None else step
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp, dtype=np.result_type(dout, x)), np.zeros(w.shape, np.result_type(dout, w))
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows, cols = slice(i * step, i * step + HH), slice(j * step, j * step + WW)
                    if rows.stop > xp.shape[2] or cols.stop > xp.shape[3]:
                        continue
                    if overwrite:
                        dxp[n, :, rows, cols] = dout[n, f, i, j] * w[f]
                    else:
                        dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
    dx = dxp[:, :, pad:pad + H, pad:pad + W] if crop else dxp
    return dx, dw, dout.sum(axis=(0, 2, 3))


CONV_BACKWARD_MISTAKES = [
    ("dw_last_sample", lambda d, x, w, b, stride=1, pad=0: (
        None, ref.conv_backward_naive(d[-1:], x[-1:], w, b, stride, pad)[1], None)),
    ("dw_mean_batch", lambda d, x, w, b, stride=1, pad=0: (
        None, ref.conv_backward_naive(d, x, w, b, stride, pad)[1] / x.shape[0], None)),
    ("db_mean", lambda d, x, w, b, stride=1, pad=0: (None, None, d.sum(axis=(0, 2, 3)) / x.shape[0])),
    ("db_mean", lambda d, x, w, b, stride=1, pad=0: (None, None, d.mean(axis=(0, 2, 3)))),
    ("dx_overwrite", lambda d, x, w, b, stride=1, pad=0: conv_backward_variant(d, x, w, b, stride, pad,
                                                                               overwrite=True)),
    ("backward_ignores_stride", lambda d, x, w, b, stride=1, pad=0: conv_backward_variant(d, x, w, b, stride, pad,
                                                                                          step=1)),
    ("dx_overwrite", lambda d, x, w, b, stride=1, pad=0: (only_where_windows_overlap(
        ref.conv_backward_naive(d, x, w, b, stride, pad)[0],
        window_coverage(x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, pad)), None, None)),
    ("dx_not_cropped", lambda d, x, w, b, stride=1, pad=0: conv_backward_variant(d, x, w, b, stride, pad,
                                                                                 crop=False)),
]


def conv_backward_cases(function, rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID:
        x, w, b = conv_inputs(rng, x_shape, w_shape, dtype)
        Hout = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
        Wout = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
        dout = normal(rng, (x_shape[0], w_shape[0], Hout, Wout), dtype)
        N = x_shape[0]
        cases.append(Case(function, conv_case_name(x_shape, w_shape, stride, pad, dtype), (dout, x, w, b),
                          {"stride": stride, "pad": pad}, mistakes=CONV_BACKWARD_MISTAKES, crop=pad,
                          outputs=("dx", "dw", "db"), factors={"N": N, "1/N": 1 / N},
                          situations=conv_situations(stride, pad, dtype), reference=getattr(ref, function)))
    return cases


def _conv_transpose(rng):
    grid = [((2, 3, 4, 5), (3, 2, 3, 3), 1, 0, np.float64), ((1, 2, 3, 4), (2, 3, 3, 2), 2, 1, np.float64),
            ((2, 2, 3, 3), (2, 2, 4, 4), 1, 1, np.float32), ((1, 3, 2, 3), (3, 2, 2, 3), 3, 0, np.float64)]
    cases = []
    for x_shape, w_shape, stride, pad, dtype in grid:
        x, w = normal(rng, x_shape, dtype), normal(rng, w_shape, dtype)
        cases.append(Case("conv_transpose_forward", conv_case_name(x_shape, w_shape, stride, pad, dtype), (x, w),
                          {"stride": stride, "pad": pad}, crop=pad, situations=conv_situations(stride, pad, dtype),
                          mistakes=[
                              ("transpose_kernel_flipped", lambda x, w, stride=1, pad=0: ref.conv_transpose_forward(
                                  x, w[:, :, ::-1, ::-1], stride, pad)),
                              ("transpose_no_crop", lambda x, w, stride=1, pad=0: ref.conv_transpose_forward(
                                  x, w, stride, 0))]))
    return cases


NUMERICAL_GRADIENT_CHECK = '''
# Visible checks: numerical_gradient on functions whose exact gradient is known.
from compare import compare, passed_message, sentence


def _check_numerical_gradient():
    rng = np.random.default_rng(6)
    x, A = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    checks = [("f = np.tanh, x (2, 3)", np.tanh, x, rng.standard_normal((2, 3)),
               lambda dout: dout * (1 - np.tanh(x) ** 2)),
              ("f(x) = x @ A with A (3, 4): f(x) has another shape than x", lambda v: v @ A, x,
               rng.standard_normal((2, 4)), lambda dout: dout @ A.T)]
    for description, f, x, dout, exact in checks:
        before = x.copy()
        try:
            dx = numerical_gradient(f, x, dout)
        except NotImplementedError:
            return report("numerical_gradient is not implemented yet: replace "
                          "`raise NotImplementedError()` in its cell with your code")
        except Exception as error:
            return report(f"numerical_gradient on {description} raised {type(error).__name__}: {error}")
        if not np.array_equal(x, before):
            return report(f"numerical_gradient on {description} did not restore x: "
                          f"put every perturbed element back exactly")
        problem = compare(dx, exact(dout))
        if problem:
            text = sentence(problem, f"the result of numerical_gradient on {description}")
            if problem.kind == "values":
                text += (f" (max error {np.max(np.abs(dx - exact(dout))):.2e}; centred differences are "
                         "accurate to ~1e-9 here)")
            return report(text)
    print(passed_message("numerical_gradient", len(checks)))


_check_numerical_gradient()
'''

# The explanations of CONV_BACKWARD_MISTAKES, for every conv layer backward graded on them (also ch07's).
CONV_BACKWARD_EXPLAINED = {
    "dw_last_sample": "is the reference dw of the last sample only: accumulate over the batch (+=)",
    "dw_mean_batch": "matches dw divided by N: sum over the batch, do not average",
    "db_mean": "matches a mean: db sums dout over the batch and every output position",
    "dx_overwrite": "matches overwriting dx where windows overlap: their contributions add up (+=)",
    "backward_ignores_stride": "matches windows moved by 1 instead of stride: output (i, j) reads rows i*stride "
                               "to i*stride + HH - 1",
    "dx_not_cropped": "dx still includes the padding: crop pad rows and columns from each side",
}


EXERCISE = Exercise(
    assignment="ch06_backprop",
    title="Backpropagation through convolutions",
    intro="""
The gradient of a convolution is two more convolutions: one against the input (for the
weights) and one, with the kernel flipped and the roles of input and output swapped, against
the upstream gradient (for the input). You first write a numerical gradient to check
against, then the backward pass of the conv layer, then the transposed convolution, which is
that input gradient used as a layer of its own.
""",
    cells=(
        Task(
            name="numerical_gradient",
            points=4,
            task="""
`f` maps an array `x` to an array; `dout` has the shape of `f(x)`. Estimate the gradient of
`L(x) = sum(f(x) * dout)` with centred differences, one element at a time:

$$dx[i] = \\frac{L(x + h e_i) - L(x - h e_i)}{2h}.$$

Perturb `x` in place (that is why the function takes `x` itself) and put each element back
exactly as it was, so that `x` is bit-identical on return even if `f` raises (`try/finally`).
Return `dx` with `x`'s shape and dtype. `f` depends on `x` only through its argument.
""",
            visible=NUMERICAL_GRADIENT_CHECK,
            hidden=_numerical_gradient,
            mistakes={
                "forward_difference": "matches one-sided differences (L(x+h) - L(x)) / h: use centred "
                                      "differences (L(x+h) - L(x-h)) / (2h)",
                'ignores_dout': 'matches the gradient of sum(f(x)): the loss is sum(f(x) * dout)',
                'x_not_restored': 'perturb only x, and put each element back bit-identical: save x[i] before perturbing '
                                  'it and assign the saved value back (x[i] += h then x[i] -= h is not exact in '
                                  'floating point)',
            },
        ),
        Task(
            name="conv_backward_naive",
            points=5,
            task="""
Given the upstream gradient `dout` of a conv layer `out = conv_forward_naive(x, w, b, stride, pad)`
(chapter 2), return `(dx, dw, db)`:

- `db[f] = sum_{n,i,j} dout[n, f, i, j]`;
- `dw[f, c, a, b] = sum_{n,i,j} dout[n, f, i, j] * xpad[n, c, i*stride + a, j*stride + b]`;
- `dxpad[n, c, i*stride + a, j*stride + b] += dout[n, f, i, j] * w[f, c, a, b]` for every
  `(n, f, i, j, a, b)`, then `dx` is `dxpad` without its padding.

Loops are fine. Keep the inputs' float dtype.
""",
            examples=CONV_BACKWARD_EXAMPLES,
            hidden=lambda rng: conv_backward_cases("conv_backward_naive", rng),
            mistakes=CONV_BACKWARD_EXPLAINED,
        ),
        Code("""
# Watch a gradient check: your conv_backward_naive against your numerical_gradient, on a
# forward conv built from scipy (stride 1, no padding). Relative errors near 1e-9 mean right.
from scipy.signal import correlate


def conv_forward_scipy(x, w, b):
    return np.stack([np.stack([sum(correlate(x[n, c], w[f, c], mode="valid") for c in range(x.shape[1])) + b[f]
                               for f in range(w.shape[0])]) for n in range(x.shape[0])])


rng = np.random.default_rng(0)
x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
dout = rng.standard_normal((2, 4, 4, 4))
try:
    dx, dw, db = conv_backward_naive(dout, x, w, b)
    numeric = {"dx": numerical_gradient(lambda v: conv_forward_scipy(v, w, b), x, dout),
               "dw": numerical_gradient(lambda v: conv_forward_scipy(x, v, b), w, dout),
               "db": numerical_gradient(lambda v: conv_forward_scipy(x, w, v), b, dout)}
except NotImplementedError:
    print("Implement numerical_gradient and conv_backward_naive to run the gradient check.")
else:
    for name, analytic in zip(("dx", "dw", "db"), (dx, dw, db)):
        error = np.max(np.abs(analytic - numeric[name]) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric[name])))
        print(f"{name}: max relative error {error:.1e}")
"""),
        Task(
            name="conv_transpose_forward",
            points=4,
            task="""
A transposed convolution upsamples: every input value `x[n, c, i, j]` adds a copy of the
kernel `w[c, f]`, scaled by that value, into the output at offset `(i*stride, j*stride)`;
overlapping copies add up; finally `pad` rows and columns are cropped from each border. With
`w` of shape `(C, F, HH, WW)` (PyTorch's `ConvTranspose2d` layout) the output is
`(N, F, (H-1)*stride - 2*pad + HH, (W-1)*stride - 2*pad + WW)`. It equals the input gradient
`dx` of a conv layer with weight `w` (read as `(F', C', HH, WW)` with `F' = C`) applied to `dout = x`.
""",
            examples=(
                Example("x (1, 2, 3, 3), w (2, 3, 3, 3)", lambda r: (randn(r, 1, 2, 3, 3), randn(r, 2, 3, 3, 3))),
                Example("x (2, 1, 3, 4), w (1, 2, 4, 4), stride 2, pad 1",
                     lambda r: (randn(r, 2, 1, 3, 4), randn(r, 1, 2, 4, 4), 2, 1)),
                Example("x (1, 2, 3, 4), w (2, 1, 3, 3), stride 2 (7 x 9, not H*stride x W*stride)",
                        lambda r: (randn(r, 1, 2, 3, 4), randn(r, 2, 1, 3, 3), 2)),
            ),
            hidden=_conv_transpose,
            mistakes={
                'transpose_kernel_flipped': 'matches the kernel flipped: a transposed conv stamps w as it is',
                "transpose_no_crop": "matches the output before cropping: crop pad rows and columns from each"
                                     " side",
                'shape_off_by_one': 'off by one: the output has (H-1)*stride - 2*pad + HH rows and '
                                    '(W-1)*stride - 2*pad + WW columns',
            },
        ),
        Code("""
# Learned upsampling: a transposed conv at stride 2 with a bilinear 4x4 kernel doubles an
# image smoothly (pad 1 crops the ragged border).
bilinear = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16.0
checker = (np.indices((8, 8)).sum(axis=0) % 2).astype(float)
try:
    up = conv_transpose_forward(checker[None, None], bilinear[None, None], stride=2, pad=1)
except NotImplementedError:
    print("Implement conv_transpose_forward to see it upsample.")
else:
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    axes[0].imshow(checker, cmap="gray")
    axes[0].set_title("input 8 x 8")
    axes[1].imshow(up[0, 0], cmap="gray")
    axes[1].set_title(f"transposed conv, stride 2: {up.shape[2]} x {up.shape[3]}")
    plt.show()
"""),
    ),
)
