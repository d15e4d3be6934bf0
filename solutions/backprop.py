"""Chapter 6: backpropagation through a conv layer, gradient checking, transposed conv."""
import numpy as np

from ._checks import as_float, check_ndim, check_shape, check_stride_pad, conv_shapes, float_dtype, output_size

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = ["conv_backward_naive", "conv_transpose_forward", "numerical_gradient"]


def numerical_gradient(f, x, dout, h=1e-5):
    """Centred-difference gradient of L(x) = sum(f(x) * dout) with respect to every element of x.

    dx[i] = (L(x + h e_i) - L(x - h e_i)) / (2h). x is perturbed in place, one element at a
    time, and is bit-identical on return; dx has x's shape and dtype.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError("x must be a float numpy array (it is perturbed in place)")
    if not np.isscalar(h) or not h > 0:
        raise ValueError(f"h must be a positive number, got {h!r}")
    dout = np.asarray(dout)
    dx = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index].copy()
        try:
            x[index] = old + h
            plus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
            x[index] = old - h
            minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        finally:
            x[index] = old
        dx[index] = (plus - minus) / (2 * h)
    return dx


def conv_backward_naive(dout, x, w, b, stride=1, pad=0):
    """Gradients of conv_forward_naive.

    dout: (N, F, Hout, Wout), x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) ->
    dx: (N, C, H, W), dw: (F, C, HH, WW), db: (F,). dw and db sum over the batch and
    every output position; dx sums the contributions of every window a pixel is in.
    """
    N, C, H, W, F, HH, WW, Hout, Wout = conv_shapes(x, w, b, stride, pad)
    dout = np.asarray(dout)
    check_shape("dout", dout, (N, F, Hout, Wout))
    dout, x, w = as_float(float_dtype(dout, x, w, b), dout, x, w)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for a in range(HH):
        for c in range(WW):
            rows = slice(a, a + stride * Hout, stride)
            cols = slice(c, c + stride * Wout, stride)
            dw[:, :, a, c] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, a, c])
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def conv_transpose_forward(x, w, stride=1, pad=0):
    """Transposed convolution: the input gradient of a conv whose weight is w.

    x: (N, C, H, W), w: (C, F, HH, WW) (PyTorch's ConvTranspose2d layout) ->
    out: (N, F, (H-1)*stride - 2*pad + HH, (W-1)*stride - 2*pad + WW). Every input value
    stamps a copy of its kernel, scaled, into the output, stride apart; overlaps add up
    and the outer pad rows and columns are cropped.
    """
    stride, pad = check_stride_pad(stride, pad)
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    w = check_ndim("w", w, 4, "(C, F, HH, WW)")
    N, C, H, W = x.shape
    Cw, F, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels (its first axis), x has {C}")
    Hout, Wout = (H - 1) * stride - 2 * pad + HH, (W - 1) * stride - 2 * pad + WW
    if Hout < 1 or Wout < 1:
        raise ValueError(f"pad {pad} crops the whole output: it would be {Hout} x {Wout}")
    x, w = as_float(float_dtype(x, w), x, w)
    full = np.zeros((N, F, Hout + 2 * pad, Wout + 2 * pad), dtype=x.dtype)
    for a in range(HH):
        for c in range(WW):
            full[:, :, a:a + stride * H:stride, c:c + stride * W:stride] += np.einsum(
                "nchw,cf->nfhw", x, w[:, :, a, c])
    return full[:, :, pad:pad + Hout, pad:pad + Wout]
