"""Mistakes in ch06_backprop."""
from . import edit

A = "ch06_backprop"

MUTANTS = {
    "numgrad_forward_difference": ("numerical_gradient", "forward_difference", edit(
        A, "numerical_gradient",
        ("x[idx] = old - h\n        minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)",
         "x[idx] = old\n        minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)"),
        ("dx[idx] = (plus - minus) / (2 * h)", "dx[idx] = (plus - minus) / h"))),
    "numgrad_x_not_restored": ("numerical_gradient", "x_not_restored", edit(
        A, "numerical_gradient",
        ("x[idx] = old + h\n", "x[idx] += h\n"),
        ("x[idx] = old - h\n", "x[idx] -= 2 * h\n"),
        ("x[idx] = old  # put back the saved value itself, not old + h - h", "x[idx] += h"))),
    "numgrad_ignores_dout": ("numerical_gradient", "ignores_dout", edit(
        A, "numerical_gradient",
        ("plus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)", "plus = np.sum(f(x))"),
        ("minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)", "minus = np.sum(f(x))"))),
    "numgrad_divides_by_h": ("numerical_gradient", "scaled", edit(
        A, "numerical_gradient", ("dx[idx] = (plus - minus) / (2 * h)", "dx[idx] = (plus - minus) / h"))),
    "numgrad_minus_first": ("numerical_gradient", "sign_flipped", edit(
        A, "numerical_gradient", ("dx[idx] = (plus - minus) / (2 * h)", "dx[idx] = (minus - plus) / (2 * h)"))),
    "conv_backward_dw_last_sample": ("conv_backward_naive", "dw_last_sample", edit(
        A, "conv_backward_naive",
        ("    for n in range(N):\n", "    for n in range(N):\n        dw = np.zeros(w.shape, dtype=dtype)\n"))),
    "conv_backward_dw_mean_batch": ("conv_backward_naive", "dw_mean_batch", edit(
        A, "conv_backward_naive", ("return dxp[:, :, pad:pad + H, pad:pad + W], dw, db",
                                   "return dxp[:, :, pad:pad + H, pad:pad + W], dw / N, db"))),
    "conv_backward_db_mean": ("conv_backward_naive", "db_mean", edit(
        A, "conv_backward_naive", ("db = dout.sum(axis=(0, 2, 3)).astype(dtype)", "db = dout.mean(axis=(0, 2, 3)).astype(dtype)"))),
    "conv_backward_dx_overwrite": ("conv_backward_naive", "dx_overwrite", edit(
        A, "conv_backward_naive", ("dxp[n, :, r:r + HH, c:c + WW] += np.tensordot", "dxp[n, :, r:r + HH, c:c + WW] = np.tensordot"))),
    "conv_backward_ignores_stride": ("conv_backward_naive", "backward_ignores_stride", edit(
        A, "conv_backward_naive", ("r, c = oh * stride, ow * stride", "r, c = oh, ow"))),
    "conv_backward_dx_not_cropped": ("conv_backward_naive", "dx_not_cropped", edit(
        A, "conv_backward_naive", ("return dxp[:, :, pad:pad + H, pad:pad + W], dw, db", "return dxp, dw, db"))),
    "conv_backward_shape_check_raises": ("conv_backward_naive", "raises", edit(
        A, "conv_backward_naive", ("if dout.shape != (N, F, Hout, Wout):", "if dout.shape != (N, F, H, W):"))),
    "transpose_kernel_flipped": ("conv_transpose_forward", "transpose_kernel_flipped", edit(
        A, "conv_transpose_forward", ('"nc,cfij->nfij", x[:, :, h, wi], w)', '"nc,cfij->nfij", x[:, :, h, wi], w[:, :, ::-1, ::-1])'))),
    # sizes the output one short of (H-1)*stride - 2*pad + HH, as if it were a conv's
    "transpose_output_one_short": ("conv_transpose_forward", "shape_off_by_one", edit(
        A, "conv_transpose_forward", ("Hout = (H - 1) * stride - 2 * pad + HH", "Hout = (H - 1) * stride - 2 * pad + HH - 1"),
        ("Wout = (W - 1) * stride - 2 * pad + WW", "Wout = (W - 1) * stride - 2 * pad + WW - 1"))),
    "transpose_no_crop": ("conv_transpose_forward", "transpose_no_crop", edit(
        A, "conv_transpose_forward", ("return full[:, :, pad:pad + Hout, pad:pad + Wout]", "return full"))),
}
