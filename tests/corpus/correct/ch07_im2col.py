"""ch07_im2col, written the way a strong student fills in the notebook."""
# %% grade_id=im2col
def im2col(x, HH, WW, stride=1, pad=0):
    """x (N, C, H, W) -> cols (C*HH*WW, N*Hout*Wout); rows (c, i, j), columns (n, oh, ow)."""
    x = np.asarray(x)
    N, C, H, W = x.shape
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    if Hout < 1 or Wout < 1:
        raise ValueError("the window does not fit in the padded input")
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((C, HH, WW, N, Hout, Wout), dtype=x.dtype)
    for i in range(HH):
        for j in range(WW):
            patch = xp[:, :, i:i + stride * Hout:stride, j:j + stride * Wout:stride]
            cols[:, i, j] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(C * HH * WW, N * Hout * Wout)


# %% grade_id=col2im
def col2im(cols, x_shape, HH, WW, stride=1, pad=0):
    """Adjoint of im2col: scatter-add the columns back, crop the padding -> x_shape."""
    N, C, H, W = x_shape
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    cols = np.asarray(cols).reshape(C, HH, WW, N, Hout, Wout)
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for i in range(HH):
        for j in range(WW):
            xp[:, :, i:i + stride * Hout:stride, j:j + stride * Wout:stride] += cols[:, i, j].transpose(1, 0, 2, 3)
    return xp[:, :, pad:pad + H, pad:pad + W]


# %% grade_id=conv_forward_im2col
def conv_forward_im2col(x, w, b, stride=1, pad=0):
    """Conv layer as one matrix product: w (F, C*HH*WW) @ cols + b."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, x has {C}")
    dtype = np.result_type(x, w, b, np.float16)
    cols = im2col(x.astype(dtype, copy=False), HH, WW, stride, pad)
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    out = w.reshape(F, -1).astype(dtype, copy=False) @ cols + b.astype(dtype)[:, None]
    return np.ascontiguousarray(out.reshape(F, N, Hout, Wout).transpose(1, 0, 2, 3))


# %% grade_id=conv_backward_im2col
def conv_backward_im2col(dout, x, w, b, stride=1, pad=0):
    """Gradients of conv_forward_im2col with two matrix products and col2im."""
    dout, x, w, b = np.asarray(dout), np.asarray(x), np.asarray(w), np.asarray(b)
    F, C, HH, WW = w.shape
    if x.shape[1] != C:
        raise ValueError(f"w has {C} input channels, x has {x.shape[1]}")
    dtype = np.result_type(dout, x, w, b, np.float16)
    cols = im2col(x.astype(dtype, copy=False), HH, WW, stride, pad)
    d2 = dout.astype(dtype, copy=False).transpose(1, 0, 2, 3).reshape(F, -1)
    dw = (d2 @ cols.T).reshape(w.shape)
    db = d2.sum(axis=1)
    dcols = w.reshape(F, -1).astype(dtype, copy=False).T @ d2
    dx = col2im(dcols, x.shape, HH, WW, stride, pad)
    return dx, dw, db
