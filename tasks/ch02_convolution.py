"""Chapter 2, convolution: corr2d, convolve2d, conv layer forward, 1x1 conv, dilation.

Everything the course knows about each graded function is its Task record below; the
notebook's cells are EXERCISE, in order.
"""
import numpy as np

from autograder.cases import Case, normal
import solutions as ref

from . import CONV_FORWARD_EXAMPLES, Code, Example, Exercise, Markdown, Task, grey_photo, randn


# x shape, w shape, stride, pad, dtype: non-square inputs and kernels, even kernels; stride > 1,
# pad > 0 and float32 each in two of the five cases, so that no one of them weighs most.
CONV_GRID = [
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, 0, np.float64),
    ((2, 2, 9, 8), (3, 2, 3, 3), 2, 1, np.float64),
    ((1, 3, 6, 7), (2, 3, 2, 2), 1, 2, np.float32),
    ((3, 2, 8, 9), (2, 2, 4, 3), 3, 0, np.float64),
    ((2, 4, 5, 6), (3, 4, 1, 2), 1, 0, np.float32),
]


CONV_FORWARD_MISTAKES = [
    ("flipped_kernel", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, stride, pad)),
    ("missing_bias", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w, np.zeros_like(b), stride, pad)),
    ("stride_ignored", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w, b, 1, pad)),
    ("pad_ignored", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w, b, stride, 0)),
]


# How a conv layer's output size is computed: the hint for an output off by one.
CONV_OUTPUT_SIZE = ("off by one: Hout = (H + 2*pad - HH) // stride + 1 (Wout likewise); the last window that "
                    "fits counts too")
PLANE_OUTPUT_SIZE = "off by one: a valid result has H - HH + 1 rows and W - WW + 1 columns"


def conv_situations(stride=1, pad=0, dtype=np.float64):
    """What a conv case exercises beyond stride 1, no padding, float64."""
    return (("stride",) * (stride > 1) + ("pad",) * (pad > 0)
            + ("float32",) * (np.dtype(dtype) == np.float32))


def conv_case_name(x_shape, w_shape, stride, pad, dtype):
    return (f"x{'x'.join(map(str, x_shape))}_w{'x'.join(map(str, w_shape))}"
            f"_s{stride}_p{pad}_{np.dtype(dtype)}")


def conv_inputs(rng, x_shape, w_shape, dtype):
    return normal(rng, x_shape, dtype), normal(rng, w_shape, dtype), normal(rng, w_shape[:1], dtype)


def conv_forward_cases(function, rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID:
        x, w, b = conv_inputs(rng, x_shape, w_shape, dtype)
        cases.append(Case(function, conv_case_name(x_shape, w_shape, stride, pad, dtype), (x, w, b),
                          {"stride": stride, "pad": pad}, mistakes=CONV_FORWARD_MISTAKES,
                          situations=conv_situations(stride, pad, dtype),
                          factors={"HH*WW": w_shape[2] * w_shape[3], "C": x_shape[1]},
                          reference=getattr(ref, function)))
    return cases


def _plane_grid(rng, function, mistakes):
    grid = [((5, 7), (3, 2), np.float64), ((6, 6), (3, 3), np.float64),
            ((8, 5), (2, 4), np.float32), ((4, 9), (1, 3), np.float64)]
    return [Case(function, f"x{h}x{w}_k{kh}x{kw}_{np.dtype(dt)}", (normal(rng, (h, w), dt), normal(rng, (kh, kw), dt)),
                 mistakes=mistakes, factors={"HH*WW": kh * kw}, situations=conv_situations(dtype=dt))
            for (h, w), (kh, kw), dt in grid]


def _corr2d(rng):
    return _plane_grid(rng, "corr2d", [("flipped_kernel", lambda x, k: ref.corr2d(x, k[::-1, ::-1]))])


def _convolve2d(rng):
    return _plane_grid(rng, "convolve2d", [("not_flipped", ref.corr2d)])


def _conv1x1(rng):
    # F == C in two cases: only then does using w.T instead of w run without an error.
    grid = [((2, 3, 4, 5), 4, np.float64), ((1, 4, 3, 3), 4, np.float64), ((2, 5, 2, 3), 5, np.float32)]
    cases = []
    for x_shape, F, dtype in grid:
        x, w, b = normal(rng, x_shape, dtype), normal(rng, (F, x_shape[1]), dtype), normal(rng, (F,), dtype)
        cases.append(Case("conv1x1", f"x{'x'.join(map(str, x_shape))}_F{F}_{np.dtype(dtype)}", (x, w, b),
                          mistakes=[("weight_transposed", lambda x, w, b: ref.conv1x1(x, w.T, b))],
                          factors={"C": x_shape[1]}, situations=conv_situations(dtype=dtype)))
    return cases


def _dilate(rng):
    grid = [((3, 4), 2, np.float64), ((2, 3, 4, 5), 3, np.float64), ((2, 2, 3, 3), 1, np.float64),
            ((1, 1, 4, 2), 2, np.float32)]
    return [Case("dilate", f"a{'x'.join(map(str, s))}_d{d}_{np.dtype(dt)}", (normal(rng, s, dt), d),
                 mistakes=[("dilate_d_zeros", lambda a, d: ref.dilate(a, d + 1))],
                 situations=("d 1",) * (d == 1) + ("2-D",) * (len(s) == 2) + conv_situations(dtype=dt))
            for s, d, dt in grid]


# The explanations of CONV_FORWARD_MISTAKES, for every conv layer forward graded on them (also ch07's).
CONV_FORWARD_EXPLAINED = {
    "flipped_kernel": "matches the reference computed with the kernel flipped: a layer's convolution is a "
                      "cross-correlation, do not flip w",
    "missing_bias": "matches the reference without the bias: add b[f] to every output of filter f",
    "stride_ignored": "matches the reference computed at stride 1: move the window by `stride`",
    "pad_ignored": "matches the reference without padding: zero-pad H and W by `pad` on each side first",
    "shape_off_by_one": CONV_OUTPUT_SIZE,
}


EXERCISE = Exercise(
    assignment="ch02_convolution",
    title="Convolution",
    intro="""
A convolutional layer slides each filter over the image and takes a dot product with every
window. You start with one channel and one kernel, then write the full layer (batch,
channels, filters, bias, padding, stride), the 1x1 convolution that only mixes channels, and
the dilation that spreads a kernel out.
""",
    cells=(
        Task(
            name="corr2d",
            points=4,
            task="""
Compute the *valid* cross-correlation of a 2D image `x` (H, W) with a 2D kernel `k` (HH, WW):

$$y[i, j] = \\sum_{a=0}^{HH-1} \\sum_{b=0}^{WW-1} x[i + a, j + b]\\, k[a, b],$$

for every position where the kernel fits entirely, so `y` has shape `(H - HH + 1, W - WW + 1)`.
The result has the inputs' float dtype. A kernel larger than the image is a `ValueError`.
""",
            examples=(
                Example("a 4x4 image and a 2x2 kernel", lambda r: (randn(r, 4, 4), randn(r, 2, 2))),
                Example("a 5x7 image and a 3x2 kernel", lambda r: (randn(r, 5, 7), randn(r, 3, 2))),
                Example("float32 6x5 image, 3x3 kernel",
                     lambda r: (randn(r, 6, 5, dtype="float32"), randn(r, 3, 3, dtype="float32"))),
                Example("a 3x3 image and a 4x2 kernel", lambda r: (randn(r, 3, 3), randn(r, 4, 2)),
                        invalid="the kernel is larger than the image"),
            ),
            hidden=_corr2d,
            invalid=lambda rng: [("the kernel is larger than the image", (normal(rng, (3, 3)), normal(rng, (4, 2))), {})],
            mistakes={
                "flipped_kernel": "matches the reference computed with the kernel flipped: corr2d is a "
                                  "cross-correlation, do not flip k",
                'shape_off_by_one': PLANE_OUTPUT_SIZE,
            },
        ),
        Code("""
# Your corr2d on a real photo: the Sobel kernel responds to vertical edges (left-right changes).
with np.load("photo.npz") as data:      # scikit-learn's china.jpg, grey, shipped with this notebook
    photo = data["grey"] / 255.0                                        # 214 x 320
sobel_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
try:
    edges = corr2d(photo, sobel_x)
except NotImplementedError:
    print("Implement corr2d to see the edges of this photo.")
else:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].imshow(photo, cmap="gray")
    axes[0].set_title("input")
    axes[1].imshow(np.abs(edges), cmap="magma")
    axes[1].set_title("|corr2d(photo, sobel_x)|")
    for ax in axes:
        ax.axis("off")
    plt.show()
"""),
        Task(
            name="convolve2d",
            points=4,
            task="""
The mathematical convolution flips the kernel: `y[i, j] = sum_{a,b} x[i + a, j + b] * k[HH-1-a, WW-1-b]`.
Write it (valid mode, same shapes as `corr2d`). You may call your `corr2d`. Deep-learning
libraries call cross-correlation "convolution"; this function is the one that is not.
""",
            examples=(
                Example("a 4x5 image and an asymmetric 2x3 kernel", lambda r: (randn(r, 4, 5), randn(r, 2, 3))),
                Example("a 6x6 image and a 3x3 kernel", lambda r: (randn(r, 6, 6), randn(r, 3, 3))),
            ),
            hidden=_convolve2d,
            mistakes={
                "not_flipped": "matches a cross-correlation: a true convolution flips the kernel on both "
                               "axes, k[::-1, ::-1]",
                'shape_off_by_one': PLANE_OUTPUT_SIZE,
            },
        ),
        Task(
            name="conv_forward_naive",
            points=5,
            task="""
Write the forward pass of a convolutional layer. `x` is a batch of images (N, C, H, W), `w`
holds F filters (F, C, HH, WW), `b` one bias per filter (F,). Zero-pad the two spatial axes by
`pad`, then

$$out[n, f, i, j] = b[f] + \\sum_{c, a, b} x_{pad}[n, c, i \\cdot stride + a, j \\cdot stride + b]\\; w[f, c, a, b].$$

`out` has shape `(N, F, Hout, Wout)` with `Hout = floor((H + 2*pad - HH) / stride) + 1`. Loops
are fine here (chapter 7 makes it fast). Raise `ValueError` when `w` and `x` disagree on C,
when `stride < 1` or `pad < 0`, or when the output would be empty.
""",
            examples=CONV_FORWARD_EXAMPLES + (
                Example("float32 x (2, 1, 4, 4), w (2, 1, 2, 2), pad 2",
                     lambda r: (randn(r, 2, 1, 4, 4, dtype="float32"), randn(r, 2, 1, 2, 2, dtype="float32"),
                                randn(r, 2, dtype="float32"), 1, 2)),
                Example("x (2, 3, 5, 5) with 3 channels, w (4, 2, 3, 3) with 2",
                        lambda r: (randn(r, 2, 3, 5, 5), randn(r, 4, 2, 3, 3), randn(r, 4)),
                        invalid="w and x disagree on C"),
                Example("x (1, 2, 5, 6), w (3, 2, 3, 3), stride 0",
                        lambda r: (randn(r, 1, 2, 5, 6), randn(r, 3, 2, 3, 3), randn(r, 3), 0), invalid="stride < 1"),
                Example("x (1, 2, 5, 6), w (3, 2, 3, 3), pad -1",
                        lambda r: (randn(r, 1, 2, 5, 6), randn(r, 3, 2, 3, 3), randn(r, 3), 1, -1), invalid="pad < 0"),
                Example("x (1, 1, 2, 2), w (1, 1, 3, 3), no padding",
                        lambda r: (randn(r, 1, 1, 2, 2), randn(r, 1, 1, 3, 3), randn(r, 1)),
                        invalid="the output would be empty"),
            ),
            hidden=lambda rng: conv_forward_cases("conv_forward_naive", rng),
            invalid=lambda rng: [
        ("w and x disagree on C", (normal(rng, (2, 3, 5, 5)), normal(rng, (4, 2, 3, 3)), normal(rng, (4,))), {}),
        ("stride < 1", (normal(rng, (1, 2, 5, 5)), normal(rng, (3, 2, 3, 3)), normal(rng, (3,))), {"stride": 0}),
        ("pad < 0", (normal(rng, (1, 2, 5, 5)), normal(rng, (3, 2, 3, 3)), normal(rng, (3,))), {"pad": -1}),
        ("the output would be empty", (normal(rng, (1, 1, 2, 2)), normal(rng, (1, 1, 3, 3)), normal(rng, (1,))), {}),
    ],
            mistakes=CONV_FORWARD_EXPLAINED,
        ),
        Code("""
# A layer with two filters (Sobel x and Sobel y) on the photo, at stride 2: two feature maps.
sobel = np.stack([sobel_x, sobel_x.T])[:, None]            # (F=2, C=1, 3, 3)
try:
    maps = conv_forward_naive(photo[None, None], sobel, np.zeros(2), stride=2, pad=1)
except NotImplementedError:
    print("Implement conv_forward_naive to see the two feature maps.")
else:
    print("feature maps:", maps.shape)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, image, title in zip(axes, [maps[0, 0], maps[0, 1], np.hypot(maps[0, 0], maps[0, 1])],
                                ["vertical edges", "horizontal edges", "gradient magnitude"]):
        ax.imshow(np.abs(image), cmap="magma")
        ax.set_title(title)
        ax.axis("off")
    plt.show()
"""),
        Task(
            name="conv1x1",
            points=3,
            task="""
A 1x1 convolution looks at one pixel at a time and mixes its C channels into F new ones with
the same matrix everywhere: `out[n, f, i, j] = b[f] + sum_c w[f, c] * x[n, c, i, j]`, with
`w` of shape `(F, C)`. Return `(N, F, H, W)`. Write it without a loop over pixels (one
`np.einsum`, `np.tensordot` or matrix product does it).
""",
            examples=(
                Example("x (2, 3, 4, 5), w (2, 3)", lambda r: (randn(r, 2, 3, 4, 5), randn(r, 2, 3), randn(r, 2))),
                Example("x (1, 4, 3, 3), w (6, 4)", lambda r: (randn(r, 1, 4, 3, 3), randn(r, 6, 4), randn(r, 6))),
            ),
            hidden=_conv1x1,
            mistakes={
                "weight_transposed": "matches the reference with w transposed: w is (F, C) and out[:, f] = "
                                     "sum_c w[f, c] * x[:, c]",
            },
        ),
        Task(
            name="dilate",
            points=4,
            task="""
Dilate `a` by `d`: along each of its last two axes, put `d - 1` zeros between neighbouring
elements, so `(..., H, W)` becomes `(..., (H-1)*d + 1, (W-1)*d + 1)` with
`out[..., d*i, d*j] = a[..., i, j]` and zeros elsewhere. `d = 1` returns a copy (not `a`
itself). Leading axes are kept, so you can dilate a whole weight tensor `(F, C, HH, WW)`: a
dilated convolution is a convolution with `dilate(w, d)`. `d < 1` is a `ValueError`.
""",
            examples=(
                Example("a 2x3 array, d 2", lambda r: (randn(r, 2, 3), 2)),
                Example("weights (2, 1, 3, 2), d 3", lambda r: (randn(r, 2, 1, 3, 2), 3)),
                Example("a 2x2 array, d 1", lambda r: (randn(r, 2, 2), 1)),
                Example("a 2x3 array, d 0", lambda r: (randn(r, 2, 3), 0), invalid="d < 1"),
            ),
            hidden=_dilate,
            invalid=lambda rng: [("d < 1", (normal(rng, (2, 3, 3, 3)), 0), {})],
            mistakes={
                "dilate_d_zeros": "matches inserting d zeros between elements: dilation d inserts d - 1 zeros",
                'shape_off_by_one': 'off by one: (..., H, W) becomes (..., (H-1)*d + 1, (W-1)*d + 1)',
            },
        ),
        Code("""
# A dilated Sobel kernel reads pixels 4 apart: same 9 weights, a 9x9 field of view.
try:
    wide = corr2d(photo, dilate(sobel_x, 4))
except NotImplementedError:
    print("Implement dilate (and corr2d) to compare a dilated kernel with the plain one.")
else:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].imshow(np.abs(edges), cmap="magma")
    axes[0].set_title("3x3 Sobel")
    axes[1].imshow(np.abs(wide), cmap="magma")
    axes[1].set_title("Sobel dilated by 4 (9x9 field)")
    for ax in axes:
        ax.axis("off")
    plt.show()
"""),
    ),
    data={"photo.npz": lambda: grey_photo("china.jpg")},
)
