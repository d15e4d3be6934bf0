"""ch02_convolution, written the way a strong student fills in the notebook."""
# %% grade_id=corr2d
def corr2d(x, k):
    """Valid 2D cross-correlation: y[i, j] = sum(x[i:i+kh, j:j+kw] * k)."""
    x = np.asarray(x)
    k = np.asarray(k)
    kh, kw = k.shape
    Ho, Wo = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"kernel {k.shape} is larger than x {x.shape}")
    dtype = np.result_type(x, k, np.float16)
    y = np.zeros((Ho, Wo), dtype=dtype)
    for a in range(kh):
        for b in range(kw):
            y += k[a, b] * x[a:a + Ho, b:b + Wo]
    return y


# %% grade_id=convolve2d
def convolve2d(x, k):
    """Valid 2D true convolution: the cross-correlation with the kernel flipped."""
    k = np.asarray(k)
    return corr2d(x, k[::-1, ::-1])


# %% grade_id=conv_forward_naive
def conv_forward_naive(x, w, b, stride=1, pad=0):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,) -> out (N, F, Hout, Wout)."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    if not (isinstance(stride, int) and stride >= 1 and isinstance(pad, int) and pad >= 0):
        raise ValueError(f"need int stride >= 1 and int pad >= 0, got {stride!r}, {pad!r}")
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, x has {C}")
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    if Hout < 1 or Wout < 1:
        raise ValueError("the kernel does not fit in the padded input")
    dtype = np.result_type(x, w, b, np.float16)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Hout, Wout), dtype=dtype)
    for n in range(N):
        for oh in range(Hout):
            for ow in range(Wout):
                r, c = oh * stride, ow * stride
                window = xp[n, :, r:r + HH, c:c + WW]
                out[n, :, oh, ow] = np.tensordot(w, window, axes=3) + b
    return out


# %% grade_id=conv1x1
def conv1x1(x, w, b):
    """1x1 conv: x (N, C, H, W), w (F, C), b (F,) -> (N, F, H, W)."""
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w has {w.shape[1]} input channels, x has {x.shape[1]}")
    dtype = np.result_type(x, w, b, np.float16)
    out = np.einsum("fc,nchw->nfhw", w, x) + b[None, :, None, None]
    return out.astype(dtype, copy=False)


# %% grade_id=dilate
def dilate(a, d):
    """Insert d-1 zeros between neighbours along the last two axes."""
    a = np.asarray(a)
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d must be an int >= 1, got {d!r}")
    H, W = a.shape[-2:]
    out = np.zeros(a.shape[:-2] + ((H - 1) * d + 1, (W - 1) * d + 1), dtype=a.dtype)
    out[..., ::d, ::d] = a
    return out
