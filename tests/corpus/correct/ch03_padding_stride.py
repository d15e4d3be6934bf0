"""ch03_padding_stride, written the way a strong student fills in the notebook."""
# %% grade_id=conv_output_size
def conv_output_size(n, k, stride=1, pad=0, dilation=1):
    """floor((n + 2*pad - dilation*(k-1) - 1) / stride) + 1; ValueError when < 1."""
    if stride < 1 or pad < 0 or k < 1 or dilation < 1:
        raise ValueError(f"need stride >= 1, pad >= 0, k >= 1, dilation >= 1; got {stride}, {pad}, {k}, {dilation}")
    size = (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    if size < 1:
        raise ValueError(f"output size {size} < 1 for n={n}, k={k}, stride={stride}, pad={pad}")
    return int(size)


# %% grade_id=same_padding
def same_padding(k, dilation=1):
    """(before, after) zeros that keep the length at stride 1; the odd one goes after."""
    total = dilation * (k - 1)
    before = total // 2
    return (int(before), int(total - before))


# %% grade_id=zero_pad
def zero_pad(x, pad):
    """Zero-pad the H and W axes of an NCHW array; pad is an int or (pad_h, pad_w)."""
    x = np.asarray(x)
    if isinstance(pad, (tuple, list)):
        ph, pw = pad
    else:
        ph = pw = pad
    if ph < 0 or pw < 0:
        raise ValueError(f"pad must be >= 0, got {pad!r}")
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant")


# %% grade_id=corr1d
def corr1d(x, k, mode):
    """1D cross-correlation in mode 'valid', 'same' or 'full'."""
    x, k = np.asarray(x), np.asarray(k)
    m = len(k)
    if mode == "valid":
        left = right = 0
    elif mode == "same":
        left, right = same_padding(m)
    elif mode == "full":
        left = right = m - 1
    else:
        raise ValueError(f"mode must be 'valid', 'same' or 'full', got {mode!r}")
    xp = np.concatenate([np.zeros(left, x.dtype), x, np.zeros(right, x.dtype)])
    n_out = len(xp) - m + 1
    if n_out < 1:
        raise ValueError(f"kernel of length {m} longer than x of length {len(x)}")
    dtype = np.result_type(x, k, np.float16)
    y = np.zeros(n_out, dtype=dtype)
    for i in range(m):
        y += k[i] * xp[i:i + n_out]
    return y


# %% grade_id=receptive_field
def receptive_field(layers):
    """Receptive field width after each (kernel, stride) layer, from the input upward."""
    fields = []
    r, jump = 1, 1
    for k, s in layers:
        r = r + (k - 1) * jump
        jump *= s
        fields.append(int(r))
    return fields
