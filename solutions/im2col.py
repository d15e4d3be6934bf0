"""Chapter 7: convolution as one matrix product (im2col) and its adjoint (col2im)."""
import numpy as np

from ._checks import as_float, check_int, check_ndim, check_shape, check_stride_pad, conv_shapes, float_dtype, output_size

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = ["col2im", "conv_backward_im2col", "conv_forward_im2col", "im2col"]

# The conv layer builds its column matrix a few images at a time, so that each chunk (and,
# going backward, its gradient) is still in the last-level cache when the matrix products
# read it, and no batch-sized column matrix is ever allocated.
_CHUNK_BYTES = 8 * 2**20


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
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, N * Hout * Wout)
    # With 1x1 windows on one image the reshape is a view of x: writing into cols would change x.
    return cols.copy() if np.may_share_memory(cols, x) else cols


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


def _image_chunks(N, bytes_per_image):
    """Slices of the batch, each holding as many images as fit in _CHUNK_BYTES (at least one)."""
    step = max(1, _CHUNK_BYTES // bytes_per_image)
    return [slice(start, min(start + step, N)) for start in range(0, N, step)]


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    """Conv layer forward as one matrix product: out = w_row @ im2col(x) + b.

    x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) -> (N, F, Hout, Wout).
    """
    # The batch goes through in chunks of images whose column matrix fits in cache: one im2col
    # and one matrix product per chunk.
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, stride, pad)
    x, w, b = as_float(float_dtype(x, w, b), x, w, b)
    w_rows = w.reshape(F, -1)
    out = np.empty((N, F, Hout, Wout), dtype=x.dtype)
    for batch in _image_chunks(N, C * HH * WW * Hout * Wout * x.itemsize):
        cols = im2col(x[batch], HH, WW, stride, pad)                # (C*HH*WW, n*Hout*Wout)
        rows = w_rows @ cols                                        # (F, n*Hout*Wout)
        out[batch] = rows.reshape(F, -1, Hout, Wout).transpose(1, 0, 2, 3)
    out += b[:, None, None]
    return out


def conv_backward_im2col(dout, x, w, b, stride=1, pad=0):
    """Gradients of conv_forward_im2col with two matrix products and one col2im.

    dout: (N, F, Hout, Wout) -> dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,);
    dw = dout_row @ cols.T, dx = col2im(w_row.T @ dout_row).
    """
    # One chunk of images at a time, as in the forward pass: dw sums over the chunks, dx stacks them.
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, stride, pad)
    dout = np.asarray(dout)
    check_shape("dout", dout, (N, F, Hout, Wout))
    dout, x, w = as_float(float_dtype(dout, x, w, b), dout, x, w)
    w_rows = w.reshape(F, -1)
    dx = np.empty(x.shape, dtype=dout.dtype)
    dw = np.zeros(w_rows.shape, dtype=dout.dtype)
    for batch in _image_chunks(N, C * HH * WW * Hout * Wout * x.itemsize):
        cols = im2col(x[batch], HH, WW, stride, pad)
        dout_rows = dout[batch].transpose(1, 0, 2, 3).reshape(F, -1)   # (F, n*Hout*Wout)
        dw += dout_rows @ cols.T
        dx[batch] = col2im(w_rows.T @ dout_rows, dx[batch].shape, HH, WW, stride, pad)
    return dx, dw.reshape(w.shape), dout.sum(axis=(0, 2, 3))
