"""Chapter 5: batch, layer, instance and group normalization.

Every normaliser computes xhat = (x - mean) / sqrt(var + eps) over some axes (biased
variance) and returns gamma * xhat + beta, with gamma and beta broadcast along the feature
axis: the last axis of an (N, D) input, the channel axis of an (N, C, H, W) input.
"""
import numpy as np

from ._checks import as_float, check_int, check_ndim, check_shape, float_dtype


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


def _centre_per_channel(x, eps):
    """x: (N, C, H, W) -> (x - mean as (N, C, H*W), 1/sqrt(var + eps) as (C,)), statistics per channel.

    Written for speed on big conv activations: each (sample, channel) row is contiguous,
    and np.vecdot sums the squares row by row without a squared temporary.
    """
    N, C, H, W = x.shape
    rows = x.reshape(N, C, H * W)
    xc = rows - rows.mean(axis=(0, 2))[:, None]
    var = np.vecdot(xc, xc).sum(axis=0) / (N * H * W)
    return xc, 1 / np.sqrt(var + x.dtype.type(_eps(eps)))


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
    xc, inv_std = _centre_per_channel(x, eps)
    xc *= (g.ravel() * inv_std)[:, None]           # gamma * xhat, in place: no new array
    xc += b.ravel()[:, None]
    return xc.reshape(x.shape)


def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of spatial_batchnorm_forward.

    dout, x: (N, C, H, W), gamma: (C,) -> (dx (N, C, H, W), dgamma (C,), dbeta (C,)).
    """
    x, g, _ = _params(x, gamma, np.zeros_like(gamma), "NCHW")
    dout = _check_dout(dout, x)
    N, C, H, W = x.shape
    m = N * H * W
    xc, inv_std = _centre_per_channel(x, eps)
    drows = dout.reshape(N, C, H * W)
    dbeta = drows.sum(axis=(0, 2))
    dgamma = np.vecdot(drows, xc).sum(axis=0) * inv_std      # sum of dout * xhat
    # _normalize_backward's formula, g * inv_std * (dout - mean(dout) - xhat * mean(dout * xhat)),
    # regrouped into per-channel coefficients so that dx costs three full-size passes.
    scale = g.ravel() * inv_std
    dx = drows * scale[:, None]
    dx -= xc * (scale * inv_std * dgamma / m)[:, None]
    dx -= (scale * dbeta / m)[:, None]
    return dx.reshape(x.shape), dgamma, dbeta


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
