"""Mistakes in ch04_pooling."""
from . import edit

A = "ch04_pooling"

MUTANTS = {
    "max_pool_nan_start": ("max_pool_forward", "nan_or_inf", edit(
        A, "max_pool_forward", ("np.full((N, C, Ho, Wo), -np.inf,", "np.full((N, C, Ho, Wo), np.nan,"))),
    "max_pool_forgets_last_window": ("max_pool_forward", "shape_off_by_one", edit(
        A, "max_pool_forward", ("Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1",
                                "Ho, Wo = (H - pool) // stride, (W - pool) // stride"),
        ("if Ho < 1 or Wo < 1:", "if Ho < 0 or Wo < 0:"))),
    "avg_pool_hw_swapped": ("avg_pool_forward", "shape_hw_swapped", '''\
def avg_pool_forward(x, pool=2, stride=2):
    """Mean over each pool x pool window moved by stride."""
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    out = np.zeros((N, C, Wo, Ho), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool]
            out[:, :, j, i] = window.mean(axis=(2, 3))
    return out
'''),
    "avg_pool_divides_by_pool": ("avg_pool_forward", "scaled", edit(
        A, "avg_pool_forward", ("return out / (pool * pool)", "return out / pool"))),
    "avg_pool_float64_out": ("avg_pool_forward", "dtype_changed", edit(
        A, "avg_pool_forward", ("out = np.zeros((N, C, Ho, Wo), dtype=np.result_type(x, np.float16))",
                                "out = np.zeros((N, C, Ho, Wo))"))),
    "max_pool_backward_tie_all": ("max_pool_backward", "tie_all", '''\
def max_pool_backward(dout, x, pool=2, stride=2):
    """Gradient of max pooling."""
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool] += mask * dout[:, :, i:i + 1, j:j + 1]
    return dx
'''),
    "max_pool_backward_tie_last": ("max_pool_backward", "tie_last", edit(
        A, "max_pool_backward", ("better = v > best", "better = v >= best"))),
    "max_pool_backward_overwrites": ("max_pool_backward", "overlap_overwrite", '''\
def max_pool_backward(dout, x, pool=2, stride=2):
    """Gradient of max pooling: each window's dout goes to its first maximum."""
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + a, j * stride + b] = dout[n, c, i, j]
    return dx
'''),
    "avg_pool_backward_no_divide": ("avg_pool_backward", "avg_no_divide", edit(
        A, "avg_pool_backward", ("share = dout / (pool * pool)", "share = dout"))),
    "avg_pool_backward_overwrites": ("avg_pool_backward", "overlap_overwrite", edit(
        A, "avg_pool_backward", ("stride * Wo:stride] += share", "stride * Wo:stride] = share"))),
    "avg_pool_backward_divides_dout_in_place": ("avg_pool_backward", "mutates_input", edit(
        A, "avg_pool_backward", ("share = dout / (pool * pool)", "dout /= pool * pool\n    share = dout"))),
    "avg_pool_backward_subtracts": ("avg_pool_backward", "sign_flipped", edit(
        A, "avg_pool_backward", ("stride * Wo:stride] += share", "stride * Wo:stride] -= share"))),
    "global_avg_pool_channels_last": ("global_avg_pool", "wrong_axes", edit(
        A, "global_avg_pool", ("x.mean(axis=(2, 3))", "x.reshape(x.shape[0], -1, x.shape[1]).mean(axis=1)"))),
    "global_avg_pool_keepdims": ("global_avg_pool", "wrong_shape", edit(
        A, "global_avg_pool", ("x.mean(axis=(2, 3))", "x.mean(axis=(2, 3), keepdims=True)"))),
    "global_max_pool_keepdim_typo": ("global_max_pool", "raises", edit(
        A, "global_max_pool", ("x.max(axis=(2, 3))", "np.max(x, axis=(2, 3), keepdim=True)"))),
    "upsample_nearest_no_return": ("upsample_nearest", "returns_none", edit(
        A, "upsample_nearest", ("return x.repeat(factor, axis=2).repeat(factor, axis=3)",
                                "out = x.repeat(factor, axis=2).repeat(factor, axis=3)"))),
    "bed_of_nails_bottom_right": ("upsample_bed_of_nails", "wrong_corner", edit(
        A, "upsample_bed_of_nails", ("out[:, :, ::factor, ::factor] = x",
                                     "out[:, :, factor - 1::factor, factor - 1::factor] = x"))),
    "max_unpool_top_left": ("max_unpool", "unpool_top_left", '''\
def max_unpool(y, x, pool=2, stride=2):
    """Undo max pooling: each value of y back into its window."""
    if stride != pool:
        raise ValueError(f"max_unpool needs stride == pool, got pool {pool}, stride {stride}")
    out = np.zeros(x.shape, dtype=y.dtype)
    out[:, :, :y.shape[2] * pool:pool, :y.shape[3] * pool:pool] = y
    return out
'''),
}
