"""Chapter 4, pooling: max/avg pooling and their gradients, global pooling, upsampling, unpooling.

Everything the course knows about each graded function is its Task record below; the
notebook's cells are EXERCISE, in order.
"""
import numpy as np

from autograder.cases import Case, normal, only_where_windows_overlap, ties, window_coverage
import solutions as ref

from . import Code, Example, Exercise, Markdown, Task, grey_photo, randn


# x shape, pool, stride, tied values?, dtype. Each situation a pooling function must handle is in
# two or three of the six cases, never most of them: tied maxima, overlapping windows (stride <
# pool), leftover rows or columns that no window covers, float32.
POOL_GRID = [
    ((2, 3, 6, 8), 2, 2, True, np.float64),
    ((1, 2, 7, 7), 3, 2, False, np.float64),
    ((2, 2, 5, 6), 2, 1, False, np.float32),
    ((1, 2, 9, 7), 3, 3, True, np.float64),
    ((2, 1, 6, 5), 3, 1, False, np.float64),
    ((2, 2, 7, 5), 2, 2, False, np.float32),
]
POOL_OUTPUT_SIZE = ("off by one: Hout = (H - pool) // stride + 1 (Wout likewise); the last window that fits counts, "
                    "rows or columns left over are dropped")


def pool_situations(x_shape, pool, stride, tied, dtype):
    """What a pooling case exercises beyond disjoint windows that tile x exactly, float64, no ties."""
    leftover = (x_shape[2] - pool) % stride or (x_shape[3] - pool) % stride
    return (("ties",) * tied + ("overlap",) * (stride < pool) + ("leftover",) * bool(leftover)
            + ("float32",) * (np.dtype(dtype) == np.float32))


def _windows(x_shape, pool, stride):
    Hout, Wout = (x_shape[2] - pool) // stride + 1, (x_shape[3] - pool) // stride + 1
    for i in range(Hout):
        for j in range(Wout):
            yield i, j, slice(i * stride, i * stride + pool), slice(j * stride, j * stride + pool)


def _max_backward_variant(dout, x, pool=2, stride=2, *, tie="first", write="add"):
    """A loop max-pool backward with one rule changed.

    tie: which tied maxima get the gradient ("first", "last", "all"); write: "add" (right),
    "cell" (assign to the max cell) or "window" (assign the whole window, zeros included).
    """
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i, j, rows, cols in _windows(x.shape, pool, stride):
                window = x[n, c, rows, cols]
                hits = (window == window.max())
                if tie != "all":
                    flat = np.flatnonzero(hits)
                    hits = np.zeros_like(hits)
                    hits.flat[flat[0] if tie == "first" else flat[-1]] = True
                if write == "add":
                    dx[n, c, rows, cols] += hits * dout[n, c, i, j]
                elif write == "cell":
                    dx[n, c, rows, cols][hits] = dout[n, c, i, j]
                else:
                    dx[n, c, rows, cols] = hits * dout[n, c, i, j]
    return dx


def _avg_overwrite(dout, x, pool=2, stride=2):
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    for i, j, rows, cols in _windows(x.shape, pool, stride):
        dx[:, :, rows, cols] = dout[:, :, i:i + 1, j:j + 1] / pool ** 2
    return dx


def _overlap_overwrite(reference):
    def mistake(dout, x, pool=2, stride=2):
        coverage = window_coverage(x.shape[2], x.shape[3], pool, pool, stride)
        return only_where_windows_overlap(reference(dout, x, pool, stride), coverage)
    return mistake


def _pool_cases(function, rng, backward, mistakes=()):
    cases = []
    for x_shape, pool, stride, tied, dtype in POOL_GRID:
        x = ties(rng, x_shape, dtype) if tied else normal(rng, x_shape, dtype)
        Hout, Wout = (x_shape[2] - pool) // stride + 1, (x_shape[3] - pool) // stride + 1
        args = (normal(rng, x_shape[:2] + (Hout, Wout), dtype), x) if backward else (x,)
        name = f"x{'x'.join(map(str, x_shape))}_pool{pool}_s{stride}{'_ties' if tied else ''}_{np.dtype(dtype)}"
        cases.append(Case(function, name, args, {"pool": pool, "stride": stride}, mistakes=list(mistakes),
                          factors={"pool*pool": pool * pool}, outputs=("dx",) if backward else ("out",),
                          situations=pool_situations(x_shape, pool, stride, tied, dtype)))
    return cases


def _max_pool_backward(rng):
    return _pool_cases("max_pool_backward", rng, True, [
        ("tie_all", lambda d, x, pool=2, stride=2: _max_backward_variant(d, x, pool, stride, tie="all")),
        ("tie_last", lambda d, x, pool=2, stride=2: _max_backward_variant(d, x, pool, stride, tie="last")),
        ("overlap_overwrite", lambda d, x, pool=2, stride=2: _max_backward_variant(d, x, pool, stride, write="cell")),
        ("overlap_overwrite", lambda d, x, pool=2, stride=2: _max_backward_variant(d, x, pool, stride, write="window")),
        ("overlap_overwrite", _overlap_overwrite(ref.max_pool_backward)),
    ])


def _avg_pool_backward(rng):
    return _pool_cases("avg_pool_backward", rng, True, [
        ("avg_no_divide", lambda d, x, pool=2, stride=2: ref.avg_pool_backward(d, x, pool, stride) * pool ** 2),
        ("overlap_overwrite", _avg_overwrite),
        ("overlap_overwrite", _overlap_overwrite(ref.avg_pool_backward)),
    ])


def _global(function, rng):
    grid = [((2, 3, 4, 5), np.float64), ((3, 2, 6, 6), np.float32), ((1, 4, 3, 7), np.float64)]
    reduce = np.mean if function == "global_avg_pool" else np.max
    wrong = [("wrong_axes", lambda x, axes=axes: reduce(x, axis=axes)) for axes in [(0, 1), (1, 2), (1, 3), (0, 2, 3)]]
    # channels-last confusion: (N, C, H, W) read as (N, H*W, C)
    wrong.append(("wrong_axes", lambda x: reduce(x.reshape(x.shape[0], -1, x.shape[1]), axis=1)))
    return [Case(function, f"x{'x'.join(map(str, s))}_{np.dtype(dt)}", (normal(rng, s, dt),), mistakes=wrong,
                 factors={"H*W": s[2] * s[3]}, situations=("float32",) * (np.dtype(dt) == np.float32))
            for s, dt in grid]


def _upsample(function, rng):
    grid = [((2, 3, 3, 4), 2, np.float64), ((1, 2, 2, 3), 3, np.float32), ((2, 1, 4, 2), 1, np.float64)]

    def corner(x, factor, a, b):
        out = np.zeros(x.shape[:2] + (x.shape[2] * factor, x.shape[3] * factor), x.dtype)
        out[:, :, a::factor, b::factor] = x
        return out

    mistakes = []
    if function == "upsample_bed_of_nails":
        mistakes = [("wrong_corner", lambda x, f, a=a, b=b: corner(x, f, a * (f - 1), b * (f - 1)))
                    for a, b in [(1, 1), (0, 1), (1, 0)]] + [
            ("wrong_corner", lambda x, f: corner(x, f, f // 2, f // 2))]
    return [Case(function, f"x{'x'.join(map(str, s))}_factor{f}_{np.dtype(dt)}", (normal(rng, s, dt), f),
                 mistakes=mistakes, situations=("factor 1",) * (f == 1) + ("float32",) * (np.dtype(dt) == np.float32))
            for s, f, dt in grid]


def _max_unpool(rng):
    grid = [((2, 3, 6, 8), 2, True, np.float64), ((1, 2, 9, 6), 3, True, np.float64),
            ((2, 2, 4, 6), 2, False, np.float32), ((1, 1, 7, 5), 2, False, np.float64)]

    def top_left(y, x, pool=2, stride=2):
        out = np.zeros(x.shape, dtype=y.dtype)
        Hout, Wout = y.shape[2:]
        out[:, :, :Hout * stride:stride, :Wout * stride:stride] = y
        return out

    cases = []
    for x_shape, pool, tied, dtype in grid:
        x = ties(rng, x_shape, dtype) if tied else normal(rng, x_shape, dtype)
        Hout, Wout = (x_shape[2] - pool) // pool + 1, (x_shape[3] - pool) // pool + 1
        y = normal(rng, x_shape[:2] + (Hout, Wout), dtype)
        cases.append(Case("max_unpool", f"x{'x'.join(map(str, x_shape))}_pool{pool}{'_ties' if tied else ''}"
                                        f"_{np.dtype(dtype)}", (y, x), {"pool": pool, "stride": pool},
                          mistakes=[("unpool_top_left", top_left)],
                          situations=pool_situations(x_shape, pool, pool, tied, dtype)))
    return cases


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
        Task(
            name="max_pool_forward",
            points=5,
            task="""
`out[n, c, i, j] = max_{a,b < pool} x[n, c, i*stride + a, j*stride + b]`, with
`Hout = (H - pool) // stride + 1` (no padding; rows or columns left over are dropped) and
`Wout` likewise. Windows overlap when `stride < pool`.
""",
            examples=(
                Example("x (2, 3, 4, 4), pool 2, stride 2", lambda r: (randn(r, 2, 3, 4, 4),)),
                Example("x (1, 2, 6, 7), pool 3, stride 2 (overlapping; 2 rows of windows, not 6 // 2)",
                        lambda r: (randn(r, 1, 2, 6, 7), 3, 2)),
                Example("float32 x (1, 1, 5, 5), pool 2, stride 2 (leftover row)",
                     lambda r: (randn(r, 1, 1, 5, 5, dtype="float32"), 2, 2)),
            ),
            hidden=lambda rng: _pool_cases("max_pool_forward", rng, False),
            mistakes={'shape_off_by_one': POOL_OUTPUT_SIZE},
        ),
        Task(
            name="avg_pool_forward",
            points=5,
            task="""
Same windows as max pooling, but `out[n, c, i, j]` is the mean of the `pool*pool` values in the
window. Keep `x`'s float dtype.
""",
            examples=(
                Example("x (2, 3, 4, 4), pool 2, stride 2", lambda r: (randn(r, 2, 3, 4, 4),)),
                Example("x (1, 2, 6, 5), pool 3, stride 1", lambda r: (randn(r, 1, 2, 6, 5), 3, 1)),
                Example("x (2, 1, 6, 5), pool 4, stride 2 (2 rows and 1 column of windows, not 6 // 2 and 5 // 2)",
                        lambda r: (randn(r, 2, 1, 6, 5), 4, 2)),
            ),
            hidden=lambda rng: _pool_cases("avg_pool_forward", rng, False),
            mistakes={'shape_off_by_one': POOL_OUTPUT_SIZE},
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
        Task(
            name="max_pool_backward",
            points=5,
            task="""
Backpropagate through `max_pool_forward(x, pool, stride)`: each window's upstream gradient
`dout[n, c, i, j]` goes, whole, to the position of that window's maximum in `x`; every other
position gets nothing from that window. When several values tie for the maximum, the
gradient goes to the **first** one in row-major order (as `np.argmax` picks it). When windows
overlap, a position that is the maximum of several windows receives the **sum** of their
gradients. Return `dx` with `x`'s shape.
""",
            examples=(
                Example("x (1, 2, 4, 4), pool 2, stride 2", lambda r: (randn(r, 1, 2, 2, 2), randn(r, 1, 2, 4, 4))),
                Example("tied maxima, x (2, 1, 4, 6)", lambda r: (randn(r, 2, 1, 2, 3), ties(r, (2, 1, 4, 6), levels=3))),
                Example("overlapping windows, x (1, 2, 5, 5), pool 3, stride 1",
                     lambda r: (randn(r, 1, 2, 3, 3), randn(r, 1, 2, 5, 5), 3, 1)),
                Example("overlapping windows, x (1, 2, 6, 7), pool 3, stride 2 (2 rows of windows, not 6 // 2)",
                        lambda r: (randn(r, 1, 2, 2, 3), randn(r, 1, 2, 6, 7), 3, 2)),
            ),
            hidden=_max_pool_backward,
            mistakes={
                "tie_all": "matches sending the gradient to every tied maximum: only the first maximum "
                           "(row-major) gets it",
                "tie_last": "matches sending the gradient to the last tied maximum: use the first one in "
                            "row-major order",
                "overlap_overwrite": "matches overwriting where windows overlap: gradients of overlapping "
                                     "windows add up (+=)",
            },
        ),
        Task(
            name="avg_pool_backward",
            points=5,
            task="""
Backpropagate through `avg_pool_forward(x, pool, stride)`: each window's gradient is shared
equally, `dout[n, c, i, j] / pool**2`, among its `pool*pool` positions; overlapping windows add
up; positions in no window (leftover rows/columns) get 0. Return `dx` with `x`'s shape.
""",
            examples=(
                Example("x (1, 2, 4, 4), pool 2, stride 2", lambda r: (randn(r, 1, 2, 2, 2), randn(r, 1, 2, 4, 4))),
                Example("overlapping windows, x (2, 1, 4, 5), pool 2, stride 1",
                     lambda r: (randn(r, 2, 1, 3, 4), randn(r, 2, 1, 4, 5), 2, 1)),
                Example("overlapping windows, x (1, 2, 6, 7), pool 3, stride 2 (2 rows of windows, not 6 // 2)",
                        lambda r: (randn(r, 1, 2, 2, 3), randn(r, 1, 2, 6, 7), 3, 2)),
            ),
            hidden=_avg_pool_backward,
            mistakes={
                'avg_no_divide': 'matches forgetting the division: each cell of a window gets dout / pool**2',
                "overlap_overwrite": "matches overwriting where windows overlap: gradients of overlapping "
                                     "windows add up (+=)",
            },
        ),
        Task(
            name="global_avg_pool",
            points=3,
            task="""
Average every feature map over all its pixels: `out[n, c] = mean_{h, w} x[n, c, h, w]`, shape
`(N, C)`. This is how most modern CNNs turn feature maps into one vector per image.
""",
            examples=(Example("x (2, 3, 4, 5)", lambda r: (randn(r, 2, 3, 4, 5),)),),
            hidden=lambda rng: _global("global_avg_pool", rng),
            mistakes={
                'wrong_axes': 'matches a mean over the wrong axes: average over H and W (axes 2 and 3) of each '
                              'sample and channel',
                'shape_hw_swapped': 'the result is transposed: it is (N, C), one row per sample',
            },
        ),
        Task(
            name="global_max_pool",
            points=3,
            task="`out[n, c] = max_{h, w} x[n, c, h, w]`, shape `(N, C)`.",
            examples=(Example("x (2, 3, 4, 5)", lambda r: (randn(r, 2, 3, 4, 5),)),),
            hidden=lambda rng: _global("global_max_pool", rng),
            mistakes={
                'wrong_axes': 'matches a maximum over the wrong axes: take the maximum over H and W (axes 2 and 3) '
                              'of each sample and channel',
                'shape_hw_swapped': 'the result is transposed: it is (N, C), one row per sample',
            },
        ),
        Task(
            name="upsample_nearest",
            points=3,
            task="""
Nearest-neighbour upsampling: `out[n, c, i, j] = x[n, c, i // factor, j // factor]`, shape
`(N, C, H*factor, W*factor)`. `factor` is an int >= 1.
""",
            examples=(
                Example("x (1, 2, 2, 3), factor 2", lambda r: (randn(r, 1, 2, 2, 3), 2)),
                Example("x (2, 1, 3, 2), factor 3", lambda r: (randn(r, 2, 1, 3, 2), 3)),
            ),
            hidden=lambda rng: _upsample("upsample_nearest", rng),
        ),
        Task(
            name="upsample_bed_of_nails",
            points=3,
            task="""
"Bed of nails" upsampling: `out[n, c, factor*i, factor*j] = x[n, c, i, j]` and every other
entry is 0; shape `(N, C, H*factor, W*factor)`.
""",
            examples=(
                Example("x (1, 2, 2, 3), factor 2", lambda r: (randn(r, 1, 2, 2, 3), 2)),
                Example("x (2, 1, 2, 2), factor 3", lambda r: (randn(r, 2, 1, 2, 2), 3)),
            ),
            hidden=lambda rng: _upsample("upsample_bed_of_nails", rng),
            mistakes={
                "wrong_corner": "matches putting each value in the wrong cell of its block: bed of nails uses"
                                " the top-left cell",
            },
        ),
        Task(
            name="max_unpool",
            points=4,
            task="""
Max unpooling (as in SegNet): `x` is the input that was max-pooled, `y` has the pooled shape.
Return an array of `x`'s shape, zero everywhere except that each `y[n, c, i, j]` is placed at
the position of the maximum of window `(i, j)` in `x` (the first maximum in row-major order on
ties). Windows must not overlap: `stride != pool` is a `ValueError`.
""",
            examples=(
                Example("x (1, 2, 4, 4), pool 2", lambda r: (randn(r, 1, 2, 2, 2), randn(r, 1, 2, 4, 4))),
                Example("tied maxima, x (2, 1, 6, 6), pool 3, stride 3",
                     lambda r: (randn(r, 2, 1, 2, 2), ties(r, (2, 1, 6, 6), levels=3), 3, 3)),
                Example("x (1, 1, 7, 5), pool 2 (a leftover row and column)",
                        lambda r: (randn(r, 1, 1, 3, 2), randn(r, 1, 1, 7, 5))),
                Example("pool 2, stride 1", lambda r: (randn(r, 1, 2, 3, 3), randn(r, 1, 2, 4, 4), 2, 1),
                        invalid="stride != pool"),
            ),
            hidden=_max_unpool,
            invalid=lambda rng: [("stride != pool", (normal(rng, (1, 2, 3, 3)), normal(rng, (1, 2, 4, 4))),
                                {"pool": 2, "stride": 1})],
            mistakes={
                "unpool_top_left": "matches putting each value in its window's top-left cell: put it where "
                                   "the window's maximum was in x",
            },
        ),
        Code("""
# Three ways back up: nearest, bed of nails, and unpooling with the max positions of the photo.
top, left = photo.shape[0] // 2 - 32, photo.shape[1] // 2 - 32     # 64 x 64 from the centre
crop = photo[None, None, top:top + 64, left:left + 64]
try:
    small = max_pool_forward(crop, 4, 4)
    ups = {"nearest": upsample_nearest(small, 4), "bed of nails": upsample_bed_of_nails(small, 4),
           "max unpool": max_unpool(small, crop, 4, 4)}
except NotImplementedError:
    print("Implement the pooling and upsampling functions to compare them.")
else:
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    axes[0].imshow(crop[0, 0], cmap="gray")
    axes[0].set_title(f"crop {crop.shape[2]} x {crop.shape[3]}")
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
