"""ch08_fine_tuning, written the way a strong student fills in the notebook."""
# %% grade_id=fc_to_conv
def fc_to_conv(W, b, in_shape):
    """Dense layer W (K, C*H*W), b (K,) -> conv weights (K, C, H, W) and bias (K,)."""
    W, b = np.asarray(W), np.asarray(b)
    C, H, Wd = in_shape
    if W.shape[1] != C * H * Wd:
        raise ValueError(f"W has {W.shape[1]} inputs, in_shape {tuple(in_shape)} has {C * H * Wd}")
    dtype = np.result_type(W, b, np.float16)
    # a flattened (C, H, W) image is in C order, so the rows of W unflatten the same way
    return W.reshape(W.shape[0], C, H, Wd).astype(dtype), b.astype(dtype)
