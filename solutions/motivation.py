"""Chapter 1: why convolutions. Parameter counts and the convolution as a dense matrix."""
import numpy as np

from ._checks import check_int, check_ndim, check_stride_pad, float_dtype, output_size

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = ["conv_as_matrix", "conv_param_count", "dense_param_count", "locally_connected_param_count"]


def _check_in_shape(in_shape):
    try:
        C, H, W = in_shape
    except (TypeError, ValueError):
        raise ValueError(f"in_shape must be (C, H, W), got {in_shape!r}") from None
    return check_int("C", C, 1), check_int("H", H, 1), check_int("W", W, 1)


def dense_param_count(in_shape, units, bias=True):
    """Parameters of a dense layer on a flattened (C, H, W) input.

    in_shape: (C, H, W) -> C*H*W*units weights, plus `units` biases when bias is True.
    """
    C, H, W = _check_in_shape(in_shape)
    units = check_int("units", units, 1)
    return C * H * W * units + (units if bias else 0)


def conv_param_count(c_in, c_out, k, bias=True):
    """Parameters of a conv layer with c_out filters of shape (c_in, k, k).

    -> c_out*c_in*k*k weights, plus c_out biases when bias is True.
    """
    c_in = check_int("c_in", c_in, 1)
    c_out = check_int("c_out", c_out, 1)
    k = check_int("k", k, 1)
    return c_out * c_in * k * k + (c_out if bias else 0)


def locally_connected_param_count(in_shape, c_out, k, stride=1, pad=0, bias=True):
    """Parameters of a locally connected layer: a conv layer without weight sharing.

    in_shape: (C, H, W). Each of the c_out*Hout*Wout output units has its own k x k x C filter
    and, with bias, its own bias: c_out*Hout*Wout*(C*k*k + 1).
    """
    C, H, W = _check_in_shape(in_shape)
    c_out = check_int("c_out", c_out, 1)
    k = check_int("k", k, 1)
    stride, pad = check_stride_pad(stride, pad)
    units = c_out * output_size(H, k, stride, pad, what="input height") * output_size(
        W, k, stride, pad, what="input width")
    return units * (C * k * k + (1 if bias else 0))


def conv_as_matrix(w, in_shape, stride=1, pad=0):
    """The dense matrix of a conv layer (no bias) acting on one flattened image.

    w: (F, C, HH, WW), in_shape: (C, H, W) -> M: (F*Hout*Wout, C*H*W) with
    M @ x.ravel() == conv(x[None], w).ravel(). Taps that fall in the zero padding are dropped.
    """
    w = check_ndim("w", w, 4, "(F, C, HH, WW)")
    C, H, W = _check_in_shape(in_shape)
    stride, pad = check_stride_pad(stride, pad)
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, in_shape has {C}")
    Hout = output_size(H, HH, stride, pad, what="input height")
    Wout = output_size(W, WW, stride, pad, what="input width")
    f, oh, ow, c, a, b = np.meshgrid(np.arange(F), np.arange(Hout), np.arange(Wout),
                                     np.arange(C), np.arange(HH), np.arange(WW), indexing="ij")
    row = (f * Hout + oh) * Wout + ow
    ih, iw = oh * stride + a - pad, ow * stride + b - pad
    inside = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
    col = (c * H + ih) * W + iw
    M = np.zeros((F * Hout * Wout, C * H * W), dtype=float_dtype(w))
    M[row[inside], col[inside]] = w[f[inside], c[inside], a[inside], b[inside]]
    return M
