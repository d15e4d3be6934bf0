"""ch06_backprop, written the way a strong student fills in the notebook."""
# %% grade_id=numerical_gradient
def numerical_gradient(f, x, dout, h=1e-5):
    """Centred differences of sum(f(x) * dout) with respect to every element of x."""
    dx = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx].copy()
        x[idx] = old + h
        plus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        x[idx] = old - h
        minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        x[idx] = old  # put back the saved value itself, not old + h - h
        dx[idx] = (plus - minus) / (2 * h)
    return dx


# %% grade_id=conv_backward_naive
def conv_backward_naive(dout, x, w, b, stride=1, pad=0):
    """Gradients of a conv layer: (dx (N, C, H, W), dw (F, C, HH, WW), db (F,))."""
    x, w, b, dout = np.asarray(x), np.asarray(w), np.asarray(b), np.asarray(dout)
    if not (isinstance(stride, int) and stride >= 1 and isinstance(pad, int) and pad >= 0):
        raise ValueError(f"need int stride >= 1 and int pad >= 0, got {stride!r}, {pad!r}")
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, x has {C}")
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    if dout.shape != (N, F, Hout, Wout):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, F, Hout, Wout)}")
    dtype = np.result_type(dout, x, w, b, np.float16)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros(xp.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    db = dout.sum(axis=(0, 2, 3)).astype(dtype)
    for n in range(N):
        for oh in range(Hout):
            for ow in range(Wout):
                r, c = oh * stride, ow * stride
                g = dout[n, :, oh, ow]
                dw += g[:, None, None, None] * xp[n, :, r:r + HH, c:c + WW]
                dxp[n, :, r:r + HH, c:c + WW] += np.tensordot(g, w, axes=1)
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


# %% grade_id=conv_transpose_forward
def conv_transpose_forward(x, w, stride=1, pad=0):
    """Transposed conv: x (N, C, H, W), w (C, F, HH, WW) -> (N, F, Hout, Wout)."""
    x, w = np.asarray(x), np.asarray(w)
    N, C, H, W = x.shape
    Cw, F, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels (first axis), x has {C}")
    Hout = (H - 1) * stride - 2 * pad + HH
    Wout = (W - 1) * stride - 2 * pad + WW
    if Hout < 1 or Wout < 1:
        raise ValueError(f"pad {pad} leaves an empty output")
    full = np.zeros((N, F, (H - 1) * stride + HH, (W - 1) * stride + WW),
                    dtype=np.result_type(x, w, np.float16))
    # every input pixel stamps its kernel-weighted copy onto the output, stride apart
    for h in range(H):
        for wi in range(W):
            full[:, :, h * stride:h * stride + HH, wi * stride:wi * stride + WW] += np.einsum(
                "nc,cfij->nfij", x[:, :, h, wi], w)
    return full[:, :, pad:pad + Hout, pad:pad + Wout]
