"""ch01_motivation, written the way a strong student fills in the notebook.

Each `# %% grade_id=<function>` line opens one solution cell; tests/corpus/build.py turns the
cells into a notebook. Cells see only `np` and the functions of earlier cells.
"""
# %% grade_id=dense_param_count
def dense_param_count(in_shape, units, bias=True):
    """Weights (and biases) of a dense layer on a flattened (C, H, W) input."""
    C, H, W = in_shape
    n_weights = C * H * W * units
    return int(n_weights + (units if bias else 0))


# %% grade_id=conv_param_count
def conv_param_count(c_in, c_out, k, bias=True):
    """Weights (and biases) of a conv layer with c_out filters of shape (c_in, k, k)."""
    return int(c_out * c_in * k * k + (c_out if bias else 0))


# %% grade_id=locally_connected_param_count
def locally_connected_param_count(in_shape, c_out, k, stride=1, pad=0, bias=True):
    """Parameters of a conv layer without weight sharing: one filter per output unit."""
    C, H, W = in_shape
    Hout = (H + 2 * pad - k) // stride + 1
    Wout = (W + 2 * pad - k) // stride + 1
    if Hout < 1 or Wout < 1:
        raise ValueError(f"a {k}x{k} kernel does not fit in {H}x{W} with pad {pad}")
    units = c_out * Hout * Wout
    return int(units * C * k * k + (units if bias else 0))


# %% grade_id=conv_as_matrix
def conv_as_matrix(w, in_shape, stride=1, pad=0):
    """M (F*Hout*Wout, C*H*W) such that M @ x.ravel() is the conv of one image x."""
    w = np.asarray(w)
    F, C, HH, WW = w.shape
    Cx, H, W = in_shape
    if C != Cx:
        raise ValueError(f"w has {C} input channels, in_shape has {Cx}")
    if not (isinstance(stride, int) and stride >= 1 and isinstance(pad, int) and pad >= 0):
        raise ValueError(f"need int stride >= 1 and int pad >= 0, got {stride!r}, {pad!r}")
    Hout = (H + 2 * pad - HH) // stride + 1
    Wout = (W + 2 * pad - WW) // stride + 1
    if Hout < 1 or Wout < 1:
        raise ValueError("the kernel does not fit in the padded input")
    dtype = w.dtype if np.issubdtype(w.dtype, np.floating) else np.float64
    M = np.zeros((F, Hout, Wout, C, H, W), dtype=dtype)
    for oh in range(Hout):
        for ow in range(Wout):
            for i in range(HH):
                for j in range(WW):
                    r = oh * stride + i - pad
                    c = ow * stride + j - pad
                    # taps on the zero padding multiply nothing, so they have no column
                    if 0 <= r < H and 0 <= c < W:
                        M[:, oh, ow, :, r, c] = w[:, :, i, j]
    return M.reshape(F * Hout * Wout, C * H * W)
