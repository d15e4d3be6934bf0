"""ch05_normalization, written the way a strong student fills in the notebook."""
# %% grade_id=batchnorm_forward
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm of x (N, D): returns (out, mean, var), var biased."""
    x = np.asarray(x)
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mean) / np.sqrt(var + eps)
    out = gamma * xhat + beta
    return out.astype(np.result_type(x, gamma, beta), copy=False), mean, var


# %% grade_id=update_running_stats
def update_running_stats(running_mean, running_var, mean, var, n, momentum=0.1):
    """PyTorch's running averages; the batch variance is made unbiased first."""
    if n < 2:
        raise ValueError(f"need n >= 2 values per statistic for an unbiased variance, got {n}")
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * (n / (n - 1))
    return new_mean, new_var


# %% grade_id=batchnorm_inference
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Batch norm with the running statistics, x (N, D) or (N, C, H, W) with (C,) parameters."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    gamma, beta, running_mean, running_var = (np.reshape(p, shape) for p in (gamma, beta, running_mean, running_var))
    out = (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta
    return out.astype(np.result_type(x, gamma, beta, running_mean, running_var), copy=False)


# %% grade_id=batchnorm_backward
def batchnorm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of batchnorm_forward: (dx, dgamma, dbeta), x (N, D)."""
    N = x.shape[0]
    mean = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - mean) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std / N * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    dtype = np.result_type(dout, x, gamma)
    return dx.astype(dtype, copy=False), dgamma.astype(dtype, copy=False), dbeta.astype(dtype, copy=False)


# %% grade_id=spatial_batchnorm_forward
def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm of x (N, C, H, W) with statistics per channel over (N, H, W)."""
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    xhat = (x - mean) / np.sqrt(var + eps)
    out = gamma[None, :, None, None] * xhat + beta[None, :, None, None]
    return out.astype(np.result_type(x, gamma, beta), copy=False)


# %% grade_id=spatial_batchnorm_backward
def spatial_batchnorm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of spatial_batchnorm_forward: (dx, dgamma, dbeta)."""
    axes = (0, 2, 3)
    M = x.shape[0] * x.shape[2] * x.shape[3]
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    dxhat = dout * gamma[None, :, None, None]
    dx = inv_std / M * (M * dxhat - dxhat.sum(axis=axes, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))
    dtype = np.result_type(dout, x, gamma)
    return dx.astype(dtype, copy=False), dgamma.astype(dtype, copy=False), dbeta.astype(dtype, copy=False)


# %% grade_id=layernorm_forward
def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer norm of x (N, D): statistics per row, gamma and beta per feature."""
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    out = gamma * (x - mean) / np.sqrt(var + eps) + beta
    return out.astype(np.result_type(x, gamma, beta), copy=False)


# %% grade_id=layernorm_backward
def layernorm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of layernorm_forward: (dx, dgamma, dbeta)."""
    D = x.shape[1]
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std / D * (D * dxhat - dxhat.sum(axis=1, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=1, keepdims=True))
    dtype = np.result_type(dout, x, gamma)
    return dx.astype(dtype, copy=False), dgamma.astype(dtype, copy=False), dbeta.astype(dtype, copy=False)


# %% grade_id=groupnorm_forward
def groupnorm_forward(x, gamma, beta, groups, eps=1e-5):
    """Group norm of x (N, C, H, W): statistics per sample and block of C/groups channels."""
    N, C, H, W = x.shape
    if C % groups != 0:
        raise ValueError(f"C={C} is not divisible by groups={groups}")
    xg = x.reshape(N, groups, C // groups, H, W)
    mean = xg.mean(axis=(2, 3, 4), keepdims=True)
    var = xg.var(axis=(2, 3, 4), keepdims=True)
    xhat = ((xg - mean) / np.sqrt(var + eps)).reshape(N, C, H, W)
    out = gamma[None, :, None, None] * xhat + beta[None, :, None, None]
    return out.astype(np.result_type(x, gamma, beta), copy=False)


# %% grade_id=instancenorm_forward
def instancenorm_forward(x, gamma, beta, eps=1e-5):
    """Instance norm: statistics per sample and channel over (H, W)."""
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    out = gamma[None, :, None, None] * (x - mean) / np.sqrt(var + eps) + beta[None, :, None, None]
    return out.astype(np.result_type(x, gamma, beta), copy=False)
