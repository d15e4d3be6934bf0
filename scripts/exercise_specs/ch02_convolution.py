"""Exercise spec: chapter 2, convolution."""
from . import CONV_FORWARD_CASES, Case, Code, Exercise, Graded, Markdown, grey_photo, randn

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
        Graded(
            name="corr2d",
            task="""
Compute the *valid* cross-correlation of a 2D image `x` (H, W) with a 2D kernel `k` (HH, WW):

$$y[i, j] = \\sum_{a=0}^{HH-1} \\sum_{b=0}^{WW-1} x[i + a, j + b]\\, k[a, b],$$

for every position where the kernel fits entirely, so `y` has shape `(H - HH + 1, W - WW + 1)`.
The result has the inputs' float dtype. A kernel larger than the image is a `ValueError`.
""",
            cases=(
                Case("a 4x4 image and a 2x2 kernel", lambda r: (randn(r, 4, 4), randn(r, 2, 2))),
                Case("a 5x7 image and a 3x2 kernel", lambda r: (randn(r, 5, 7), randn(r, 3, 2))),
                Case("float32 6x5 image, 3x3 kernel",
                     lambda r: (randn(r, 6, 5, dtype="float32"), randn(r, 3, 3, dtype="float32"))),
            ),
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
        Graded(
            name="convolve2d",
            task="""
The mathematical convolution flips the kernel: `y[i, j] = sum_{a,b} x[i + a, j + b] * k[HH-1-a, WW-1-b]`.
Write it (valid mode, same shapes as `corr2d`). You may call your `corr2d`. Deep-learning
libraries call cross-correlation "convolution"; this function is the one that is not.
""",
            cases=(
                Case("a 4x5 image and an asymmetric 2x3 kernel", lambda r: (randn(r, 4, 5), randn(r, 2, 3))),
                Case("a 6x6 image and a 3x3 kernel", lambda r: (randn(r, 6, 6), randn(r, 3, 3))),
            ),
        ),
        Graded(
            name="conv_forward_naive",
            task="""
Write the forward pass of a convolutional layer. `x` is a batch of images (N, C, H, W), `w`
holds F filters (F, C, HH, WW), `b` one bias per filter (F,). Zero-pad the two spatial axes by
`pad`, then

$$out[n, f, i, j] = b[f] + \\sum_{c, a, b} x_{pad}[n, c, i \\cdot stride + a, j \\cdot stride + b]\\; w[f, c, a, b].$$

`out` has shape `(N, F, Hout, Wout)` with `Hout = floor((H + 2*pad - HH) / stride) + 1`. Loops
are fine here (chapter 7 makes it fast). Raise `ValueError` when `w` and `x` disagree on C,
when `stride < 1` or `pad < 0`, or when the output would be empty.
""",
            cases=CONV_FORWARD_CASES + (
                Case("float32 x (2, 1, 4, 4), w (2, 1, 2, 2), pad 2",
                     lambda r: (randn(r, 2, 1, 4, 4, dtype="float32"), randn(r, 2, 1, 2, 2, dtype="float32"),
                                randn(r, 2, dtype="float32"), 1, 2)),
            ),
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
        Graded(
            name="conv1x1",
            task="""
A 1x1 convolution looks at one pixel at a time and mixes its C channels into F new ones with
the same matrix everywhere: `out[n, f, i, j] = b[f] + sum_c w[f, c] * x[n, c, i, j]`, with
`w` of shape `(F, C)`. Return `(N, F, H, W)`. Write it without a loop over pixels (one
`np.einsum`, `np.tensordot` or matrix product does it).
""",
            cases=(
                Case("x (2, 3, 4, 5), w (2, 3)", lambda r: (randn(r, 2, 3, 4, 5), randn(r, 2, 3), randn(r, 2))),
                Case("x (1, 4, 3, 3), w (6, 4)", lambda r: (randn(r, 1, 4, 3, 3), randn(r, 6, 4), randn(r, 6))),
            ),
        ),
        Graded(
            name="dilate",
            task="""
Dilate `a` by `d`: along each of its last two axes, put `d - 1` zeros between neighbouring
elements, so `(..., H, W)` becomes `(..., (H-1)*d + 1, (W-1)*d + 1)` with
`out[..., d*i, d*j] = a[..., i, j]` and zeros elsewhere. `d = 1` returns a copy (not `a`
itself). Leading axes are kept, so you can dilate a whole weight tensor `(F, C, HH, WW)`: a
dilated convolution is a convolution with `dilate(w, d)`. `d < 1` is a `ValueError`.
""",
            cases=(
                Case("a 2x3 array, d 2", lambda r: (randn(r, 2, 3), 2)),
                Case("weights (2, 1, 3, 3), d 3", lambda r: (randn(r, 2, 1, 3, 3), 3)),
                Case("a 2x2 array, d 1", lambda r: (randn(r, 2, 2), 1)),
            ),
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
