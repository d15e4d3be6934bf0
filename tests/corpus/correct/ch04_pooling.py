"""ch04_pooling, written the way a strong student fills in the notebook."""
# %% grade_id=max_pool_forward
def max_pool_forward(x, pool=2, stride=2):
    """Max over each pool x pool window moved by stride: (N, C, H, W) -> (N, C, Ho, Wo)."""
    x = np.asarray(x)
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"pool {pool} does not fit in {H}x{W}")
    out = np.full((N, C, Ho, Wo), -np.inf, dtype=np.result_type(x, np.float16))
    for i in range(pool):
        for j in range(pool):
            out = np.maximum(out, x[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride])
    return out


# %% grade_id=avg_pool_forward
def avg_pool_forward(x, pool=2, stride=2):
    """Mean over each pool x pool window moved by stride."""
    x = np.asarray(x)
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"pool {pool} does not fit in {H}x{W}")
    out = np.zeros((N, C, Ho, Wo), dtype=np.result_type(x, np.float16))
    for i in range(pool):
        for j in range(pool):
            out += x[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride]
    return out / (pool * pool)


# %% grade_id=max_pool_backward
def max_pool_backward(dout, x, pool=2, stride=2):
    """Each window's dout goes to its first maximum (row-major); overlaps add up."""
    x, dout = np.asarray(x), np.asarray(dout)
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, C, Ho, Wo)}")
    best = np.full((N, C, Ho, Wo), -np.inf)
    where = np.zeros((N, C, Ho, Wo), dtype=int)
    for i in range(pool):
        for j in range(pool):
            v = x[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride]
            better = v > best  # strict: a later tie never replaces the first maximum
            best = np.where(better, v, best)
            where = np.where(better, i * pool + j, where)
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x, np.float16))
    for i in range(pool):
        for j in range(pool):
            dx[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += dout * (where == i * pool + j)
    return dx


# %% grade_id=avg_pool_backward
def avg_pool_backward(dout, x, pool=2, stride=2):
    """Each window's dout is shared equally by its pool*pool inputs; overlaps add up."""
    x, dout = np.asarray(x), np.asarray(dout)
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    if dout.shape != (N, C, Ho, Wo):
        raise ValueError(f"dout has shape {dout.shape}, expected {(N, C, Ho, Wo)}")
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x, np.float16))
    share = dout / (pool * pool)
    for i in range(pool):
        for j in range(pool):
            dx[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += share
    return dx


# %% grade_id=global_avg_pool
def global_avg_pool(x):
    """(N, C, H, W) -> (N, C): mean over each feature map."""
    x = np.asarray(x)
    return x.mean(axis=(2, 3)).astype(np.result_type(x, np.float16), copy=False)


# %% grade_id=global_max_pool
def global_max_pool(x):
    """(N, C, H, W) -> (N, C): max over each feature map."""
    x = np.asarray(x)
    return x.max(axis=(2, 3)).astype(np.result_type(x, np.float16), copy=False)


# %% grade_id=upsample_nearest
def upsample_nearest(x, factor):
    """Repeat every pixel factor x factor times: (N, C, H, W) -> (N, C, H*f, W*f)."""
    x = np.asarray(x)
    return x.repeat(factor, axis=2).repeat(factor, axis=3)


# %% grade_id=upsample_bed_of_nails
def upsample_bed_of_nails(x, factor):
    """Each pixel in the top-left of its factor x factor block, zeros elsewhere."""
    x = np.asarray(x)
    N, C, H, W = x.shape
    out = np.zeros((N, C, H * factor, W * factor), dtype=x.dtype)
    out[:, :, ::factor, ::factor] = x
    return out


# %% grade_id=max_unpool
def max_unpool(y, x, pool=2, stride=2):
    """Put each value of y where its window's max was in x; windows must not overlap."""
    if stride != pool:
        raise ValueError(f"max_unpool needs stride == pool, got pool {pool}, stride {stride}")
    # routing y like a gradient through max pooling puts it exactly at each window's max
    return max_pool_backward(y, x, pool, stride)
