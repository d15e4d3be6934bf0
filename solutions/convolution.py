"""Chapter 2: the convolution layer, forward."""
import numpy as np

from ._checks import as_float, check_int, check_ndim, conv_shapes, float_dtype, output_size

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = ["conv1x1", "conv_forward_naive", "convolve2d", "corr2d", "dilate"]


def corr2d(x, k):
    """Valid 2D cross-correlation: y[i, j] = sum_{a,b} x[i + a, j + b] * k[a, b].

    x: (H, W), k: (HH, WW) -> y: (H - HH + 1, W - WW + 1).
    """
    x = check_ndim("x", x, 2, "(H, W)")
    k = check_ndim("k", k, 2, "(HH, WW)")
    output_size(x.shape[0], k.shape[0], what="x of height")
    output_size(x.shape[1], k.shape[1], what="x of width")
    x, k = as_float(float_dtype(x, k), x, k)
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    return np.einsum("ijab,ab->ij", windows, k)


def convolve2d(x, k):
    """Valid 2D convolution: the kernel flipped on both axes, then slid as in corr2d.

    x: (H, W), k: (HH, WW) -> y: (H - HH + 1, W - WW + 1),
    y[i, j] = sum_{a,b} x[i + a, j + b] * k[HH - 1 - a, WW - 1 - b].
    """
    k = check_ndim("k", k, 2, "(HH, WW)")
    return corr2d(x, k[::-1, ::-1])


def conv_forward_naive(x, w, b, stride=1, pad=0):
    """Conv layer forward (cross-correlation) with zero padding and stride.

    x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) -> out: (N, F, Hout, Wout),
    out[n, f, i, j] = b[f] + sum_{c,a,b} xpad[n, c, i*stride + a, j*stride + b] * w[f, c, a, b],
    Hout = (H + 2*pad - HH) // stride + 1, Wout likewise.
    """
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, stride, pad)
    x, w, b = as_float(float_dtype(x, w, b), x, w, b)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Hout, Wout), dtype=x.dtype)
    # One term per kernel offset: each is a channel contraction over a strided view.
    for a in range(HH):
        for c in range(WW):
            patch = xp[:, :, a:a + stride * Hout:stride, c:c + stride * Wout:stride]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, a, c])
    return out + b[None, :, None, None]


def conv1x1(x, w, b):
    """1x1 convolution: the same channel-mixing matrix applied at every pixel.

    x: (N, C, H, W), w: (F, C), b: (F,) -> out: (N, F, H, W),
    out[n, f, i, j] = b[f] + sum_c w[f, c] * x[n, c, i, j].
    """
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    w = check_ndim("w", w, 2, "(F, C)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w has {w.shape[1]} input channels, x has {x.shape[1]}")
    b = np.asarray(b)
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    x, w, b = as_float(float_dtype(x, w, b), x, w, b)
    return np.einsum("fc,nchw->nfhw", w, x) + b[None, :, None, None]


def dilate(a, d):
    """Insert d - 1 zeros between neighbouring elements along the last two axes.

    a: (..., H, W) -> (..., (H-1)*d + 1, (W-1)*d + 1); d = 1 returns a copy.
    """
    a = np.asarray(a)
    if a.ndim < 2:
        raise ValueError(f"a must have at least 2 dimensions, got shape {a.shape}")
    d = check_int("d", d, 1)
    H, W = a.shape[-2:]
    out = np.zeros(a.shape[:-2] + ((H - 1) * d + 1 if H else 0, (W - 1) * d + 1 if W else 0), a.dtype)
    out[..., ::d, ::d] = a
    return out
