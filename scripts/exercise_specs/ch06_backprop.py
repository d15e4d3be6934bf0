"""Exercise spec: chapter 6, backpropagation through a conv layer."""
from . import CONV_BACKWARD_CASES, Case, Code, Exercise, Graded, Markdown, randn

NUMERICAL_GRADIENT_CHECK = '''
# Visible checks: numerical_gradient on functions whose exact gradient is known.
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
        problem = _difference(f"numerical_gradient on {description}", dx, exact(dout))
        if problem and isinstance(dx, np.ndarray) and dx.shape == x.shape and dx.dtype == x.dtype:
            error = np.max(np.abs(dx - exact(dout)))
            problem = None if error < 1e-6 else f"{problem} (max error {error:.2e}; centred differences are accurate to ~1e-9 here)"
        if problem:
            return report(problem)
    print(f"numerical_gradient: all {len(checks)} visible checks passed. The hidden tests check more.")


_check_numerical_gradient()
'''

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
        Graded(
            name="numerical_gradient",
            task="""
`f` maps an array `x` to an array; `dout` has the shape of `f(x)`. Estimate the gradient of
`L(x) = sum(f(x) * dout)` with centred differences, one element at a time:

$$dx[i] = \\frac{L(x + h e_i) - L(x - h e_i)}{2h}.$$

Perturb `x` in place (that is why the function takes `x` itself) and put each element back
exactly as it was, so that `x` is bit-identical on return even if `f` raises (`try/finally`).
Return `dx` with `x`'s shape and dtype. `f` depends on `x` only through its argument.
""",
            visible=NUMERICAL_GRADIENT_CHECK,
        ),
        Graded(
            name="conv_backward_naive",
            task="""
Given the upstream gradient `dout` of a conv layer `out = conv_forward_naive(x, w, b, stride, pad)`
(chapter 2), return `(dx, dw, db)`:

- `db[f] = sum_{n,i,j} dout[n, f, i, j]`;
- `dw[f, c, a, b] = sum_{n,i,j} dout[n, f, i, j] * xpad[n, c, i*stride + a, j*stride + b]`;
- `dxpad[n, c, i*stride + a, j*stride + b] += dout[n, f, i, j] * w[f, c, a, b]` for every
  `(n, f, i, j, a, b)`, then `dx` is `dxpad` without its padding.

Loops are fine. Keep the inputs' float dtype.
""",
            cases=CONV_BACKWARD_CASES,
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
        Graded(
            name="conv_transpose_forward",
            task="""
A transposed convolution upsamples: every input value `x[n, c, i, j]` adds a copy of the
kernel `w[c, f]`, scaled by that value, into the output at offset `(i*stride, j*stride)`;
overlapping copies add up; finally `pad` rows and columns are cropped from each border. With
`w` of shape `(C, F, HH, WW)` (PyTorch's `ConvTranspose2d` layout) the output is
`(N, F, (H-1)*stride - 2*pad + HH, (W-1)*stride - 2*pad + WW)`. It equals the input gradient
`dx` of a conv layer with weight `w` (read as `(F', C', HH, WW)` with `F' = C`) applied to `dout = x`.
""",
            cases=(
                Case("x (1, 2, 3, 3), w (2, 3, 3, 3)", lambda r: (randn(r, 1, 2, 3, 3), randn(r, 2, 3, 3, 3))),
                Case("x (2, 1, 3, 4), w (1, 2, 4, 4), stride 2, pad 1",
                     lambda r: (randn(r, 2, 1, 3, 4), randn(r, 1, 2, 4, 4), 2, 1)),
            ),
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
