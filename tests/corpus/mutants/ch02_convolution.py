"""Mistakes in ch02_convolution."""
from . import edit

A = "ch02_convolution"

MUTANTS = {
    "corr2d_flipped": ("corr2d", "flipped_kernel", edit(
        A, "corr2d", ("y += k[a, b] * x", "y += k[kh - 1 - a, kw - 1 - b] * x"))),
    "corr2d_float64_out": ("corr2d", "dtype_changed", edit(
        A, "corr2d", ("y = np.zeros((Ho, Wo), dtype=dtype)", "y = np.zeros((Ho, Wo))"))),
    "convolve2d_not_flipped": ("convolve2d", "not_flipped", edit(
        A, "convolve2d", ("k[::-1, ::-1]", "k"))),
    "conv_naive_flipped": ("conv_forward_naive", "flipped_kernel", edit(
        A, "conv_forward_naive", ("np.tensordot(w, window", "np.tensordot(w[:, :, ::-1, ::-1], window"))),
    "conv_naive_no_bias": ("conv_forward_naive", "missing_bias", edit(
        A, "conv_forward_naive", ("axes=3) + b", "axes=3)"))),
    "conv_naive_stride_ignored": ("conv_forward_naive", "stride_ignored", edit(
        A, "conv_forward_naive",
        ("Hout = (H + 2 * pad - HH) // stride + 1", "Hout = H + 2 * pad - HH + 1"),
        ("Wout = (W + 2 * pad - WW) // stride + 1", "Wout = W + 2 * pad - WW + 1"),
        ("r, c = oh * stride, ow * stride", "r, c = oh, ow"))),
    "conv_naive_pad_ignored": ("conv_forward_naive", "pad_ignored", edit(
        A, "conv_forward_naive",
        ("Hout = (H + 2 * pad - HH) // stride + 1", "Hout = (H - HH) // stride + 1"),
        ("Wout = (W + 2 * pad - WW) // stride + 1", "Wout = (W - WW) // stride + 1"),
        ("xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))", "xp = x"))),
    "conv_naive_hw_swapped": ("conv_forward_naive", "shape_hw_swapped", edit(
        A, "conv_forward_naive", ("out = np.zeros((N, F, Hout, Wout), dtype=dtype)", "out = np.zeros((N, F, Wout, Hout), dtype=dtype)"),
        ("out[n, :, oh, ow] = np.tensordot", "out[n, :, ow, oh] = np.tensordot"))),
    "conv1x1_weight_transposed": ("conv1x1", "weight_transposed", edit(
        A, "conv1x1", ('np.einsum("fc,nchw->nfhw", w, x)', 'np.einsum("cf,nchw->nfhw", w, x)'))),
    "conv1x1_matmul_raises": ("conv1x1", "raises", edit(
        A, "conv1x1", ('np.einsum("fc,nchw->nfhw", w, x)', "w @ x"))),
    "dilate_d_zeros": ("dilate", "dilate_d_zeros", edit(
        A, "dilate",
        ("((H - 1) * d + 1, (W - 1) * d + 1)", "((H - 1) * (d + 1) + 1, (W - 1) * (d + 1) + 1)"),
        ("out[..., ::d, ::d] = a", "out[..., ::d + 1, ::d + 1] = a"))),
}
