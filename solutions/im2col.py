"""Chapter 7: convolution as one matrix product (im2col) and its adjoint (col2im)."""
import numpy as np

from ._checks import as_float, check_int, check_ndim, check_shape, check_stride_pad, conv_shapes, float_dtype, output_size


def _window_args(x_shape, HH, WW, stride, pad):
    """Check a window geometry and return (HH, WW, stride, pad, Hout, Wout)."""
    HH, WW = check_int("HH", HH, 1), check_int("WW", WW, 1)
    stride, pad = check_stride_pad(stride, pad)
    Hout = output_size(x_shape[2], HH, stride, pad, what="input height")
    Wout = output_size(x_shape[3], WW, stride, pad, what="input width")
    return HH, WW, stride, pad, Hout, Wout


def im2col(x, HH, WW, stride=1, pad=0):
    """Unfold every HH x WW window of x into a column.

    x: (N, C, H, W) -> cols: (C*HH*WW, N*Hout*Wout); row index (c, i, j) and column index
    (n, oh, ow), both in C order: cols[(c*HH + i)*WW + j, (n*Hout + oh)*Wout + ow] =
    xpad[n, c, oh*stride + i, ow*stride + j].
    """
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    HH, WW, stride, pad, Hout, Wout = _window_args(x.shape, HH, WW, stride, pad)
    N, C = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    windows = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]            # (N, C, Hout, Wout, HH, WW)
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, N * Hout * Wout)


def col2im(cols, x_shape, HH, WW, stride=1, pad=0):
    """The adjoint of im2col: add every column back onto the window it came from.

    cols: (C*HH*WW, N*Hout*Wout) -> dx: x_shape = (N, C, H, W). Overlapping windows add
    up; values that fall in the padding are dropped.
    """
    x_shape = tuple(x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    HH, WW, stride, pad, Hout, Wout = _window_args(x_shape, HH, WW, stride, pad)
    N, C, H, W = x_shape
    cols = np.asarray(cols)
    check_shape("cols", cols, (C * HH * WW, N * Hout * Wout))
    blocks = cols.reshape(C, HH, WW, N, Hout, Wout)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=float_dtype(cols))
    # One strided add per kernel offset: within one offset no two columns hit the same pixel.
    for i in range(HH):
        for j in range(WW):
            dxp[:, :, i:i + stride * Hout:stride, j:j + stride * Wout:stride] += \
                blocks[:, i, j].transpose(1, 0, 2, 3)
    return dxp[:, :, pad:pad + H, pad:pad + W]


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    """Conv layer forward as one matrix product: out = w_row @ im2col(x) + b.

    x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) -> (N, F, Hout, Wout).
    """
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, stride, pad)
    x, w, b = as_float(float_dtype(x, w, b), x, w, b)
    cols = im2col(x, HH, WW, stride, pad)
    out = w.reshape(F, -1) @ cols                         # (F, N*Hout*Wout)
    out = out.reshape(F, N, Hout, Wout).transpose(1, 0, 2, 3)
    return out + b[None, :, None, None]


def conv_backward_im2col(dout, x, w, b, stride=1, pad=0):
    """Gradients of conv_forward_im2col with two matrix products and one col2im.

    dout: (N, F, Hout, Wout) -> dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,);
    dw = dout_row @ cols.T, dx = col2im(w_row.T @ dout_row).
    """
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, stride, pad)
    dout = np.asarray(dout)
    check_shape("dout", dout, (N, F, Hout, Wout))
    dout, x, w = as_float(float_dtype(dout, x, w, b), dout, x, w)
    cols = im2col(x, HH, WW, stride, pad)
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)  # (F, N*Hout*Wout)
    dw = (dout_rows @ cols.T).reshape(w.shape)
    dx = col2im(w.reshape(F, -1).T @ dout_rows, x.shape, HH, WW, stride, pad)
    return dx, dw, dout.sum(axis=(0, 2, 3))
