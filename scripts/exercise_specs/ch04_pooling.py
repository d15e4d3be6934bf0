"""Exercise spec: chapter 4, pooling."""
from . import Case, Code, Exercise, Graded, Markdown, grey_photo, randn


def ties(rng, *shape):
    """Small integers as floats: many windows have tied maxima."""
    return rng.integers(0, 3, shape).astype(float)


EXERCISE = Exercise(
    assignment="ch04_pooling",
    title="Pooling",
    intro="""
Pooling summarises each window by one number, its maximum or its mean, shrinking the feature
maps and making them less sensitive to small shifts. Its backward pass routes each gradient
to where it came from; unpooling and upsampling go the other way, from small maps to large.
All functions take NCHW arrays and work on every (sample, channel) separately.
""",
    cells=(
        Graded(
            name="max_pool_forward",
            task="""
`out[n, c, i, j] = max_{a,b < pool} x[n, c, i*stride + a, j*stride + b]`, with
`Hout = (H - pool) // stride + 1` (no padding; rows or columns left over are dropped) and
`Wout` likewise. Windows overlap when `stride < pool`.
""",
            cases=(
                Case("x (2, 3, 4, 4), pool 2, stride 2", lambda r: (randn(r, 2, 3, 4, 4),)),
                Case("x (1, 2, 5, 7), pool 3, stride 2 (overlapping)", lambda r: (randn(r, 1, 2, 5, 7), 3, 2)),
                Case("float32 x (1, 1, 5, 5), pool 2, stride 2 (leftover row)",
                     lambda r: (randn(r, 1, 1, 5, 5, dtype="float32"), 2, 2)),
            ),
        ),
        Graded(
            name="avg_pool_forward",
            task="""
Same windows as max pooling, but `out[n, c, i, j]` is the mean of the `pool*pool` values in the
window. Keep `x`'s float dtype.
""",
            cases=(
                Case("x (2, 3, 4, 4), pool 2, stride 2", lambda r: (randn(r, 2, 3, 4, 4),)),
                Case("x (1, 2, 6, 5), pool 3, stride 1", lambda r: (randn(r, 1, 2, 6, 5), 3, 1)),
            ),
        ),
        Code("""
# Pooling a real photo: max keeps the bright details, average blurs. Each is 4x smaller.
with np.load("photo.npz") as data:      # scikit-learn's flower.jpg, grey, shipped with this notebook
    photo = data["grey"] / 255.0                                        # 214 x 320
try:
    pooled = {"max 4x4": max_pool_forward(photo[None, None], 4, 4)[0, 0],
              "average 4x4": avg_pool_forward(photo[None, None], 4, 4)[0, 0]}
except NotImplementedError:
    print("Implement max_pool_forward and avg_pool_forward to see the pooled photo.")
else:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].imshow(photo, cmap="gray")
    axes[0].set_title(f"input {photo.shape}")
    for ax, (name, image) in zip(axes[1:], pooled.items()):
        ax.imshow(image, cmap="gray")
        ax.set_title(f"{name} pool {image.shape}")
    for ax in axes:
        ax.axis("off")
    plt.show()
"""),
        Graded(
            name="max_pool_backward",
            task="""
Backpropagate through `max_pool_forward(x, pool, stride)`: each window's upstream gradient
`dout[n, c, i, j]` goes, whole, to the position of that window's maximum in `x`; every other
position gets nothing from that window. When several values tie for the maximum, the
gradient goes to the **first** one in row-major order (as `np.argmax` picks it). When windows
overlap, a position that is the maximum of several windows receives the **sum** of their
gradients. Return `dx` with `x`'s shape.
""",
            cases=(
                Case("x (1, 2, 4, 4), pool 2, stride 2", lambda r: (randn(r, 1, 2, 2, 2), randn(r, 1, 2, 4, 4))),
                Case("tied maxima, x (2, 1, 4, 6)", lambda r: (randn(r, 2, 1, 2, 3), ties(r, 2, 1, 4, 6))),
                Case("overlapping windows, pool 3, stride 1",
                     lambda r: (randn(r, 1, 2, 3, 3), randn(r, 1, 2, 5, 5), 3, 1)),
            ),
        ),
        Graded(
            name="avg_pool_backward",
            task="""
Backpropagate through `avg_pool_forward(x, pool, stride)`: each window's gradient is shared
equally, `dout[n, c, i, j] / pool**2`, among its `pool*pool` positions; overlapping windows add
up; positions in no window (leftover rows/columns) get 0. Return `dx` with `x`'s shape.
""",
            cases=(
                Case("x (1, 2, 4, 4), pool 2, stride 2", lambda r: (randn(r, 1, 2, 2, 2), randn(r, 1, 2, 4, 4))),
                Case("overlapping windows, pool 2, stride 1",
                     lambda r: (randn(r, 2, 1, 3, 4), randn(r, 2, 1, 4, 5), 2, 1)),
            ),
        ),
        Graded(
            name="global_avg_pool",
            task="""
Average every feature map over all its pixels: `out[n, c] = mean_{h, w} x[n, c, h, w]`, shape
`(N, C)`. This is how most modern CNNs turn feature maps into one vector per image.
""",
            cases=(Case("x (2, 3, 4, 5)", lambda r: (randn(r, 2, 3, 4, 5),)),),
        ),
        Graded(
            name="global_max_pool",
            task="`out[n, c] = max_{h, w} x[n, c, h, w]`, shape `(N, C)`.",
            cases=(Case("x (2, 3, 4, 5)", lambda r: (randn(r, 2, 3, 4, 5),)),),
        ),
        Graded(
            name="upsample_nearest",
            task="""
Nearest-neighbour upsampling: `out[n, c, i, j] = x[n, c, i // factor, j // factor]`, shape
`(N, C, H*factor, W*factor)`. `factor` is an int >= 1.
""",
            cases=(
                Case("x (1, 2, 2, 3), factor 2", lambda r: (randn(r, 1, 2, 2, 3), 2)),
                Case("x (2, 1, 3, 2), factor 3", lambda r: (randn(r, 2, 1, 3, 2), 3)),
            ),
        ),
        Graded(
            name="upsample_bed_of_nails",
            task="""
"Bed of nails" upsampling: `out[n, c, factor*i, factor*j] = x[n, c, i, j]` and every other
entry is 0; shape `(N, C, H*factor, W*factor)`.
""",
            cases=(
                Case("x (1, 2, 2, 3), factor 2", lambda r: (randn(r, 1, 2, 2, 3), 2)),
                Case("x (2, 1, 2, 2), factor 3", lambda r: (randn(r, 2, 1, 2, 2), 3)),
            ),
        ),
        Graded(
            name="max_unpool",
            task="""
Max unpooling (as in SegNet): `x` is the input that was max-pooled, `y` has the pooled shape.
Return an array of `x`'s shape, zero everywhere except that each `y[n, c, i, j]` is placed at
the position of the maximum of window `(i, j)` in `x` (the first maximum in row-major order on
ties). Windows must not overlap: `stride != pool` is a `ValueError`.
""",
            cases=(
                Case("x (1, 2, 4, 4), pool 2", lambda r: (randn(r, 1, 2, 2, 2), randn(r, 1, 2, 4, 4))),
                Case("tied maxima, x (2, 1, 6, 6), pool 3, stride 3",
                     lambda r: (randn(r, 2, 1, 2, 2), ties(r, 2, 1, 6, 6), 3, 3)),
            ),
        ),
        Code("""
# Three ways back up: nearest, bed of nails, and unpooling with the max positions of the photo.
crop = photo[None, None, 100:164, 300:364]
try:
    small = max_pool_forward(crop, 4, 4)
    ups = {"nearest": upsample_nearest(small, 4), "bed of nails": upsample_bed_of_nails(small, 4),
           "max unpool": max_unpool(small, crop, 4, 4)}
except NotImplementedError:
    print("Implement the pooling and upsampling functions to compare them.")
else:
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    axes[0].imshow(crop[0, 0], cmap="gray")
    axes[0].set_title("crop 64 x 64")
    for ax, (name, image) in zip(axes[1:], ups.items()):
        ax.imshow(image[0, 0], cmap="gray")
        ax.set_title(f"{name} of the 16 x 16 max pool")
    for ax in axes:
        ax.axis("off")
    plt.show()
"""),
    ),
    data={"photo.npz": lambda: grey_photo("flower.jpg")},
)
