"""Cases of ch04_pooling: max/avg pooling and their gradients, global pooling, upsampling, unpooling."""
import numpy as np

import solutions as ref

from . import Case, normal, only_where_windows_overlap, ties, window_coverage

POOL_GRID = [  # x shape, pool, stride, tied values?, dtype: overlapping windows when stride < pool
    ((2, 3, 6, 8), 2, 2, True, np.float64),
    ((1, 2, 7, 7), 3, 2, True, np.float64),
    ((2, 2, 5, 6), 2, 1, False, np.float32),
    ((1, 2, 9, 7), 3, 3, True, np.float64),
    ((2, 1, 6, 5), 3, 1, False, np.float64),
]


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
                          factors={"pool*pool": pool * pool}, outputs=("dx",) if backward else ("out",)))
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
                 factors={"H*W": s[2] * s[3]}) for s, dt in grid]


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
                 mistakes=mistakes) for s, f, dt in grid]


def _max_unpool(rng):
    grid = [((2, 3, 6, 8), 2, True, np.float64), ((1, 2, 9, 6), 3, True, np.float64),
            ((2, 2, 4, 6), 2, False, np.float32), ((1, 1, 7, 5), 2, True, np.float64)]

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
                          mistakes=[("unpool_top_left", top_left)]))
    return cases


BUILDERS = {
    "max_pool_forward": lambda rng: _pool_cases("max_pool_forward", rng, False),
    "avg_pool_forward": lambda rng: _pool_cases("avg_pool_forward", rng, False),
    "max_pool_backward": _max_pool_backward,
    "avg_pool_backward": _avg_pool_backward,
    "global_avg_pool": lambda rng: _global("global_avg_pool", rng),
    "global_max_pool": lambda rng: _global("global_max_pool", rng),
    "upsample_nearest": lambda rng: _upsample("upsample_nearest", rng),
    "upsample_bed_of_nails": lambda rng: _upsample("upsample_bed_of_nails", rng),
    "max_unpool": _max_unpool,
}

# Arguments the task says are a ValueError: (why, args, kwargs) built from the case's generator.
INVALID = {
    "max_unpool": lambda rng: [("stride != pool", (normal(rng, (1, 2, 3, 3)), normal(rng, (1, 2, 4, 4))),
                                {"pool": 2, "stride": 1})],
}
