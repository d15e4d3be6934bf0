"""Mistakes in ch07_im2col."""
from . import edit

A = "ch07_im2col"

MUTANTS = {
    "im2col_rows_ijc": ("im2col", "row_order", edit(
        A, "im2col",
        ("cols = np.empty((C, HH, WW, N, Hout, Wout), dtype=x.dtype)", "cols = np.empty((HH, WW, C, N, Hout, Wout), dtype=x.dtype)"),
        ("cols[:, i, j] = patch.transpose(1, 0, 2, 3)", "cols[i, j] = patch.transpose(1, 0, 2, 3)"))),
    "im2col_columns_pixel_major": ("im2col", "col_order", edit(
        A, "im2col", ("return cols.reshape(C * HH * WW, N * Hout * Wout)",
                      "return cols.transpose(0, 1, 2, 4, 5, 3).reshape(C * HH * WW, N * Hout * Wout)"))),
    "col2im_assigns": ("col2im", "col2im_assign", edit(
        A, "col2im", ("stride * Wout:stride] += cols", "stride * Wout:stride] = cols"))),
    "col2im_keeps_padding": ("col2im", "shape_padded", edit(
        A, "col2im", ("return xp[:, :, pad:pad + H, pad:pad + W]", "return xp"))),
    "conv_im2col_flipped": ("conv_forward_im2col", "flipped_kernel", edit(
        A, "conv_forward_im2col", ("out = w.reshape(F, -1)", "out = w[:, :, ::-1, ::-1].reshape(F, -1)"))),
    "conv_im2col_per_output_loop": ("conv_forward_im2col", "too_slow", '''\
def conv_forward_im2col(x, w, b, stride=1, pad=0):
    """Conv layer (not yet vectorised: one window at a time)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Hout, Wout), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
'''),
    "conv_backward_im2col_db_mean": ("conv_backward_im2col", "db_mean", edit(
        A, "conv_backward_im2col", ("db = d2.sum(axis=1)", "db = d2.mean(axis=1)"))),
    "conv_backward_im2col_per_output_loop": ("conv_backward_im2col", "too_slow", '''\
def conv_backward_im2col(dout, x, w, b, stride=1, pad=0):
    """Gradients of the conv layer (not yet vectorised: one window at a time)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Hout, Wout = dout.shape[2], dout.shape[3]
    dtype = np.result_type(dout, x, w, b)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros(xp.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    r, c = i * stride, j * stride
                    dw[f] += dout[n, f, i, j] * xp[n, :, r:r + HH, c:c + WW]
                    dxp[n, :, r:r + HH, c:c + WW] += dout[n, f, i, j] * w[f]
    db = dout.sum(axis=(0, 2, 3)).astype(dtype)
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
'''),
}
