"""Chapter 5: batch, layer, instance and group normalization.

Every normaliser computes xhat = (x - mean) / sqrt(var + eps) over some axes (biased
variance) and returns gamma * xhat + beta, with gamma and beta broadcast along the feature
axis: the last axis of an (N, D) input, the channel axis of an (N, C, H, W) input.
"""
import numpy as np

from . import _parallel
from ._checks import as_float, check_int, check_ndim, check_shape, float_dtype

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = [
    "batchnorm_backward", "batchnorm_forward", "batchnorm_inference", "groupnorm_forward",
    "instancenorm_forward", "layernorm_backward", "layernorm_forward", "spatial_batchnorm_backward",
    "spatial_batchnorm_forward", "update_running_stats",
]


def _params(x, gamma, beta, layout):
    """Check gamma/beta against x and return x, gamma, beta in one float dtype, shaped to broadcast."""
    x = check_ndim("x", x, 2 if layout == "ND" else 4, "(N, D)" if layout == "ND" else "(N, C, H, W)")
    size = x.shape[1]
    gamma, beta = np.asarray(gamma), np.asarray(beta)
    what = "D" if layout == "ND" else "C"
    check_shape(f"gamma ({what},)", gamma, (size,))
    check_shape(f"beta ({what},)", beta, (size,))
    x, gamma, beta = as_float(float_dtype(x, gamma, beta), x, gamma, beta)
    if layout == "NCHW":
        gamma, beta = gamma[None, :, None, None], beta[None, :, None, None]
    return x, gamma, beta


def _eps(eps):
    if not np.isscalar(eps) or not eps >= 0:
        raise ValueError(f"eps must be a non-negative number, got {eps!r}")
    return eps


def _normalize(x, axes, eps):
    """xhat and 1/sqrt(var + eps) with statistics over axes (kept for broadcasting)."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(_eps(eps)))
    return (x - mean) * inv_std, inv_std


def _normalize_backward(dxhat, xhat, inv_std, axes):
    """Gradient through xhat = (x - mean) * inv_std, statistics over axes.

    dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over axes.
    """
    return inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                      - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))


def _channel_sums(a, L, b=None):
    """Sum of a * b (of a when b is None) per channel: a, b: (N, c*L) blocks of c channels -> (c,).

    np.vecdot runs numpy's SIMD dot kernel row by row: about twice as fast as a sum over two
    axes, and it forms no product temporary.
    """
    a3 = a.reshape(len(a), -1, L)
    return np.vecdot(a3, np.ones(L, dtype=a.dtype) if b is None else b.reshape(a3.shape)).sum(axis=0)


def _per_channel(v, L):
    """(c,) -> (c*L,): each channel's value repeated over its L pixels.

    Against an (N, c*L) block this is a plain row broadcast, which numpy runs about twice as
    fast as a (c, 1) column broadcast over (N, c, L).
    """
    return np.repeat(v, L)


def _centre(rows, L, eps, out):
    """Write rows - mean into out and return 1/sqrt(var + eps); rows, out: (N, c*L), stats (c,)."""
    m = len(rows) * L
    np.subtract(rows, _per_channel(_channel_sums(rows, L) / m, L), out=out)
    return 1 / np.sqrt(_channel_sums(out, L, out) / m + rows.dtype.type(eps))


def _by_channels(fn, x):
    """Call fn(s, cols) on cache-sized slices s of the channels of x: (N, C, H, W), where
    cols are those channels' columns in x.reshape(N, C*H*W)."""
    N, C, H, W = x.shape
    L = H * W
    _parallel.run(lambda s: fn(s, slice(s.start * L, s.stop * L)), _parallel.chunks(C, N * L * x.itemsize))


def _check_dout(dout, x):
    dout = np.asarray(dout)
    check_shape("dout", dout, x.shape)
    return dout.astype(float_dtype(dout, x), copy=False)


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm, training mode: statistics over the batch for each feature.

    x: (N, D), gamma, beta: (D,) -> (out (N, D), mean (D,), var (D,)), var biased.
    """
    x, g, b = _params(x, gamma, beta, "ND")
    xhat, _ = _normalize(x, 0, eps)
    return g * xhat + b, x.mean(axis=0), x.var(axis=0)


def update_running_stats(running_mean, running_var, mean, var, n, momentum=0.1):
    """PyTorch's running-statistics update.

    new_mean = (1 - momentum) * running_mean + momentum * mean,
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1), all (D,) or (C,);
    n is the number of values behind each statistic (N, or N*H*W for NCHW inputs).
    """
    n = check_int("n", n, 2)
    if not np.isscalar(momentum) or not 0 <= momentum <= 1:
        raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
    arrays = [np.asarray(a) for a in (running_mean, running_var, mean, var)]
    for name, a in zip(("running_var", "mean", "var"), arrays[1:]):
        check_shape(name, a, arrays[0].shape)
    rm, rv, mean, var = as_float(float_dtype(*arrays), *arrays)
    unbiased = var * (n / (n - 1))
    return (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * unbiased


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Batch norm, inference mode: normalise with the running statistics.

    x: (N, D) with parameters (D,), or (N, C, H, W) with parameters (C,) -> x's shape.
    """
    x = np.asarray(x)
    layout = "NCHW" if x.ndim == 4 else "ND"
    x, g, b = _params(x, gamma, beta, layout)
    rm, rv = np.asarray(running_mean), np.asarray(running_var)
    check_shape("running_mean", rm, (x.shape[1],))
    check_shape("running_var", rv, (x.shape[1],))
    rm, rv = as_float(x.dtype, rm, rv)
    if layout == "NCHW":
        rm, rv = rm[None, :, None, None], rv[None, :, None, None]
    return g * (x - rm) / np.sqrt(rv + x.dtype.type(_eps(eps))) + b


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of batchnorm_forward (training mode).

    dout, x: (N, D), gamma: (D,) -> (dx (N, D), dgamma (D,), dbeta (D,)).
    """
    x, g, _ = _params(x, gamma, np.zeros_like(gamma), "ND")
    dout = _check_dout(dout, x)
    xhat, inv_std = _normalize(x, 0, eps)
    dx = _normalize_backward(dout * g, xhat, inv_std, 0)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm for conv layers: statistics per channel over (N, H, W).

    x: (N, C, H, W), gamma, beta: (C,) -> (N, C, H, W).
    """
    x, g, b = _params(x, gamma, beta, "NCHW")
    eps = _eps(eps)
    g, b = g.ravel(), b.ravel()
    N, C, H, W = x.shape
    L = H * W
    out = np.empty(x.shape, dtype=x.dtype)
    rows, out_rows = x.reshape(N, C * L), out.reshape(N, C * L)

    def forward(s, cols):
        o = out_rows[:, cols]
        inv_std = _centre(rows[:, cols], L, eps, out=o)
        o *= _per_channel(g[s] * inv_std, L)          # gamma * xhat, in place: no new array
        o += _per_channel(b[s], L)

    _by_channels(forward, x)
    return out


def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of spatial_batchnorm_forward.

    dout, x: (N, C, H, W), gamma: (C,) -> (dx (N, C, H, W), dgamma (C,), dbeta (C,)).
    """
    x, g, _ = _params(x, gamma, np.zeros_like(gamma), "NCHW")
    dout = _check_dout(dout, x)
    eps = _eps(eps)
    g = g.ravel()
    N, C, H, W = x.shape
    L = H * W
    m = N * L
    dx = np.empty(x.shape, dtype=dout.dtype)
    dgamma, dbeta = np.empty((2, C), dtype=dout.dtype)
    rows, drows, dx_rows = x.reshape(N, C * L), dout.reshape(N, C * L), dx.reshape(N, C * L)

    def backward(s, cols):
        d, xc = drows[:, cols], np.empty((N, cols.stop - cols.start), dtype=x.dtype)
        inv_std = _centre(rows[:, cols], L, eps, out=xc)
        dbeta[s] = _channel_sums(d, L)
        dgamma[s] = _channel_sums(d, L, xc) * inv_std      # sum of dout * xhat
        # _normalize_backward's formula, g * inv_std * (dout - mean(dout) - xhat * mean(dout * xhat)),
        # regrouped into per-channel coefficients so that dx costs four passes.
        scale = g[s] * inv_std
        out = dx_rows[:, cols]
        np.multiply(d, _per_channel(scale, L), out=out)
        xc *= _per_channel(scale * inv_std * dgamma[s] / m, L)
        out -= xc
        out -= _per_channel(scale * dbeta[s] / m, L)

    _by_channels(backward, x)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer norm: statistics over the features of each sample.

    x: (N, D), gamma, beta: (D,) -> (N, D).
    """
    x, g, b = _params(x, gamma, beta, "ND")
    xhat, _ = _normalize(x, 1, eps)
    return g * xhat + b


def layernorm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of layernorm_forward.

    dout, x: (N, D), gamma: (D,) -> (dx (N, D), dgamma (D,), dbeta (D,)).
    """
    x, g, _ = _params(x, gamma, np.zeros_like(gamma), "ND")
    dout = _check_dout(dout, x)
    xhat, inv_std = _normalize(x, 1, eps)
    dx = _normalize_backward(dout * g, xhat, inv_std, 1)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def groupnorm_forward(x, gamma, beta, groups, eps=1e-5):
    """Group norm: statistics per sample over each group of C/groups channels and all pixels.

    x: (N, C, H, W), gamma, beta: (C,) -> (N, C, H, W). groups=1 is layer norm over
    (C, H, W); groups=C is instance norm.
    """
    x, g, b = _params(x, gamma, beta, "NCHW")
    N, C, H, W = x.shape
    groups = check_int("groups", groups, 1)
    if C % groups:
        raise ValueError(f"C={C} channels cannot be split into {groups} equal groups")
    xhat, _ = _normalize(x.reshape(N, groups, C // groups, H, W), (2, 3, 4), eps)
    return g * xhat.reshape(x.shape) + b


def instancenorm_forward(x, gamma, beta, eps=1e-5):
    """Instance norm: statistics per sample and channel over the pixels.

    x: (N, C, H, W), gamma, beta: (C,) -> (N, C, H, W).
    """
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    return groupnorm_forward(x, gamma, beta, x.shape[1], eps)
