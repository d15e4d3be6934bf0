"""Chapter 4: pooling, global pooling and unpooling."""
import numpy as np

from . import _parallel
from ._checks import as_float, check_int, check_ndim, check_shape, float_dtype, output_size

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = [
    "avg_pool_backward", "avg_pool_forward", "global_avg_pool", "global_max_pool", "max_pool_backward",
    "max_pool_forward", "max_unpool", "upsample_bed_of_nails", "upsample_nearest",
]


def _pool_args(x, pool, stride):
    """Check (x, pool, stride) and return x, pool, stride, Hout, Wout."""
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    pool = check_int("pool", pool, 1)
    stride = check_int("stride", stride, 1)
    Hout = output_size(x.shape[2], pool, stride, what="input height")
    Wout = output_size(x.shape[3], pool, stride, what="input width")
    return x, pool, stride, Hout, Wout


def _windows(x, pool, stride):
    """View of the pooling windows: (N, C, H, W) -> (N, C, Hout, Wout, pool, pool)."""
    view = np.lib.stride_tricks.sliding_window_view(x, (pool, pool), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


def _offset_view(a, i, j, stride, Hout, Wout):
    """The cell at offset (i, j) of every window: (..., H, W) -> view (..., Hout, Wout)."""
    return a[..., i:i + stride * Hout:stride, j:j + stride * Wout:stride]


def _planes(a):
    """(N, C, H, W) -> (N*C, H, W): pooling treats every channel of every image alike."""
    return a.reshape((-1,) + a.shape[2:])


def _plane_bytes(x):
    """Bytes in one (H, W) plane of x: (N, C, H, W)."""
    return x.shape[2] * x.shape[3] * x.itemsize


def _window_max(x, pool, stride, out):
    """Write the max of each window of x: (..., H, W) into out: (..., Hout, Wout)."""
    Hout, Wout = out.shape[-2:]
    # One elementwise maximum per window offset: pool*pool fast passes over (..., Hout, Wout)
    # arrays, where a reduction over the two tiny window axes would crawl.
    np.copyto(out, _offset_view(x, 0, 0, stride, Hout, Wout))
    for i in range(pool):
        for j in range(pool):
            if i or j:
                np.maximum(out, _offset_view(x, i, j, stride, Hout, Wout), out=out)
    return out


def _first_max_masks(x, out, pool, stride):
    """Yield (i, j, mask) for each window offset in row-major order.

    x: (..., H, W), out: its window maxima (..., Hout, Wout). mask (..., Hout, Wout) marks
    the windows whose first maximum (row-major) sits at offset (i, j); it is one buffer,
    overwritten at every step.
    """
    Hout, Wout = out.shape[-2:]
    # argmax rule for a window holding a NaN: its max is NaN and the first NaN wins.
    has_nan = np.isnan(out).any()
    unclaimed = np.ones(out.shape, dtype=bool)
    mask = np.empty(out.shape, dtype=bool)
    for i in range(pool):
        for j in range(pool):
            cell = _offset_view(x, i, j, stride, Hout, Wout)
            np.equal(cell, out, out=mask)
            if has_nan:
                mask |= np.isnan(cell)
            mask &= unclaimed          # ties: an earlier offset already holds the first maximum
            unclaimed ^= mask
            yield i, j, mask


def max_pool_forward(x, pool=2, stride=2):
    """Max over each pool x pool window, moved by stride.

    x: (N, C, H, W) -> (N, C, Hout, Wout), Hout = (H - pool) // stride + 1.
    """
    x, pool, stride, Hout, Wout = _pool_args(x, pool, stride)
    out = np.empty(x.shape[:2] + (Hout, Wout), dtype=x.dtype)
    x_planes, out_planes = _planes(x), _planes(out)
    _parallel.run(lambda s: _window_max(x_planes[s], pool, stride, out_planes[s]),
                  _parallel.chunks(len(x_planes), _plane_bytes(x)))
    return out


def avg_pool_forward(x, pool=2, stride=2):
    """Mean over each pool x pool window, moved by stride.

    x: (N, C, H, W) -> (N, C, Hout, Wout), Hout = (H - pool) // stride + 1.
    """
    x, pool, stride, _, _ = _pool_args(x, pool, stride)
    return _windows(x, pool, stride).mean(axis=(4, 5), dtype=float_dtype(x))


def _check_dout(dout, x, Hout, Wout):
    dout = np.asarray(dout)
    check_shape("dout", dout, x.shape[:2] + (Hout, Wout))
    return dout


def max_pool_backward(dout, x, pool=2, stride=2):
    """Gradient of max pooling: each window's dout goes to its first maximum (row-major).

    dout: (N, C, Hout, Wout), x: (N, C, H, W) -> dx: (N, C, H, W); overlapping windows add.
    """
    x, pool, stride, Hout, Wout = _pool_args(x, pool, stride)
    dout = _check_dout(dout, x, Hout, Wout)
    dout, = as_float(float_dtype(dout, x), dout)
    dx = np.empty(x.shape, dtype=dout.dtype)
    x_planes, dout_planes, dx_planes = _planes(x), _planes(dout), _planes(dx)
    tiled = stride == pool and x.shape[2:] == (pool * Hout, pool * Wout)
    # Multiplying by the mask is twice as fast as np.where, but inf * 0 is NaN.
    finite = np.isfinite(dout).all()

    def backward(s):
        xs, d, dxs = x_planes[s], dout_planes[s], dx_planes[s]
        out = _window_max(xs, pool, stride, np.empty(d.shape, dtype=xs.dtype))
        if not tiled:            # some cells of x lie in no window
            dxs[...] = 0
        for i, j, mask in _first_max_masks(xs, out, pool, stride):
            cell = _offset_view(dxs, i, j, stride, Hout, Wout)
            if stride < pool:    # overlapping windows add up
                cell += d * mask if finite else np.where(mask, d, 0)
            elif finite:         # each cell lies in one window at most: write, do not add
                np.multiply(d, mask, out=cell)
            else:
                cell[...] = np.where(mask, d, 0)

    _parallel.run(backward, _parallel.chunks(len(x_planes), _plane_bytes(x)))
    return dx


def avg_pool_backward(dout, x, pool=2, stride=2):
    """Gradient of average pooling: each window spreads dout / pool**2 over its cells.

    dout: (N, C, Hout, Wout), x: (N, C, H, W) -> dx: (N, C, H, W); overlapping windows add.
    """
    x, pool, stride, Hout, Wout = _pool_args(x, pool, stride)
    dout = _check_dout(dout, x, Hout, Wout)
    dout, = as_float(float_dtype(dout, x), dout)
    share = dout / (pool * pool)
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for a in range(pool):
        for b in range(pool):
            dx[:, :, a:a + stride * Hout:stride, b:b + stride * Wout:stride] += share
    return dx


def global_avg_pool(x):
    """Mean over all spatial positions: (N, C, H, W) -> (N, C)."""
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    return x.mean(axis=(2, 3), dtype=float_dtype(x))


def global_max_pool(x):
    """Max over all spatial positions: (N, C, H, W) -> (N, C)."""
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    return x.max(axis=(2, 3))


def upsample_nearest(x, factor):
    """Repeat every pixel factor times along both spatial axes.

    x: (N, C, H, W) -> (N, C, H*factor, W*factor).
    """
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    factor = check_int("factor", factor, 1)
    return x.repeat(factor, axis=2).repeat(factor, axis=3)


def upsample_bed_of_nails(x, factor):
    """Put each pixel in the top-left corner of a factor x factor block of zeros.

    x: (N, C, H, W) -> (N, C, H*factor, W*factor).
    """
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    factor = check_int("factor", factor, 1)
    N, C, H, W = x.shape
    out = np.zeros((N, C, H * factor, W * factor), dtype=x.dtype)
    out[:, :, ::factor, ::factor] = x
    return out


def max_unpool(y, x, pool=2, stride=2):
    """Undo max pooling: put each value of y where its window's first maximum was in x.

    y: (N, C, Hout, Wout), x: (N, C, H, W) -> (N, C, H, W), zeros elsewhere.
    Windows must not overlap (stride == pool).
    """
    x, pool, stride, Hout, Wout = _pool_args(x, pool, stride)
    if stride != pool:
        raise ValueError(f"max_unpool needs non-overlapping windows (stride == pool), "
                         f"got pool {pool}, stride {stride}")
    y = np.asarray(y)
    check_shape("y", y, x.shape[:2] + (Hout, Wout))
    out = np.zeros(x.shape, dtype=float_dtype(y))
    pooled = _window_max(x, pool, stride, np.empty(y.shape, dtype=x.dtype))
    for i, j, mask in _first_max_masks(x, pooled, pool, stride):
        np.copyto(_offset_view(out, i, j, stride, Hout, Wout), y, where=mask)
    return out
