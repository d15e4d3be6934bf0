"""Mistakes in ch05_normalization."""
from . import edit

A = "ch05_normalization"

MUTANTS = {
    "batchnorm_unbiased_var": ("batchnorm_forward", "unbiased_var", edit(
        A, "batchnorm_forward", ("var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)"))),
    "batchnorm_centres_x_in_place": ("batchnorm_forward", "mutates_input", edit(
        A, "batchnorm_forward", ("xhat = (x - mean) / np.sqrt(var + eps)",
                                 "x -= mean\n    xhat = x / np.sqrt(var + eps)"))),
    "running_stats_keras_momentum": ("update_running_stats", "momentum_flipped", edit(
        A, "update_running_stats",
        ("new_mean = (1 - momentum) * running_mean + momentum * mean",
         "new_mean = momentum * running_mean + (1 - momentum) * mean"),
        ("new_var = (1 - momentum) * running_var + momentum * var * (n / (n - 1))",
         "new_var = momentum * running_var + (1 - momentum) * var * (n / (n - 1))"))),
    "running_stats_biased_var": ("update_running_stats", "biased_running_var", edit(
        A, "update_running_stats", ("momentum * var * (n / (n - 1))", "momentum * var"))),
    "inference_uses_batch_stats": ("batchnorm_inference", "uses_batch_stats", edit(
        A, "batchnorm_inference", ("out = (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta",
                                   "out = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) * gamma + beta"))),
    "inference_precedence": ("batchnorm_inference", "wrong_values", edit(
        A, "batchnorm_inference", ("out = (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta",
                                   "out = x - running_mean / np.sqrt(running_var + eps) * gamma + beta"))),
    "inference_no_return": ("batchnorm_inference", "returns_none", edit(
        A, "batchnorm_inference", ("    return out.astype(", "    out = out.astype("))),
    "batchnorm_backward_dx_ignores_stats": ("batchnorm_backward", "dx_ignores_stats", edit(
        A, "batchnorm_backward", ("dx = inv_std / N * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))",
                                  "dx = dxhat * inv_std"))),
    "batchnorm_backward_dgamma_is_dbeta": ("batchnorm_backward", "dgamma_is_dbeta", edit(
        A, "batchnorm_backward", ("dgamma = (dout * xhat).sum(axis=0)", "dgamma = dout.sum(axis=0)"))),
    "spatial_bn_per_pixel": ("spatial_batchnorm_forward", "per_pixel_stats", edit(
        A, "spatial_batchnorm_forward", ("mean = x.mean(axis=(0, 2, 3), keepdims=True)", "mean = x.mean(axis=0, keepdims=True)"),
        ("var = x.var(axis=(0, 2, 3), keepdims=True)", "var = x.var(axis=0, keepdims=True)"))),
    "spatial_bn_gamma_not_broadcast": ("spatial_batchnorm_forward", "raises", edit(
        A, "spatial_batchnorm_forward", ("out = gamma[None, :, None, None] * xhat + beta[None, :, None, None]",
                                         "out = gamma * xhat + beta"))),
    "spatial_bn_backward_dgamma_is_dbeta": ("spatial_batchnorm_backward", "dgamma_is_dbeta", edit(
        A, "spatial_batchnorm_backward", ("dgamma = (dout * xhat).sum(axis=axes)", "dgamma = dout.sum(axis=axes)"))),
    "spatial_bn_backward_dbeta_mean": ("spatial_batchnorm_backward", "dbeta_mean", edit(
        A, "spatial_batchnorm_backward", ("dbeta = dout.sum(axis=axes)", "dbeta = dout.mean(axis=axes)"))),
    "layernorm_eps_outside_sqrt": ("layernorm_forward", "eps_outside_sqrt", edit(
        A, "layernorm_forward", ("np.sqrt(var + eps)", "(np.sqrt(var) + eps)"))),
    "layernorm_as_batchnorm": ("layernorm_forward", "wrong_axes", edit(
        A, "layernorm_forward", ("mean = x.mean(axis=1, keepdims=True)", "mean = x.mean(axis=0, keepdims=True)"),
        ("var = x.var(axis=1, keepdims=True)", "var = x.var(axis=0, keepdims=True)"))),
    "layernorm_float64_out": ("layernorm_forward", "dtype_changed", edit(
        A, "layernorm_forward", ("return out.astype(np.result_type(x, gamma, beta), copy=False)",
                                 "return out.astype(np.float64)"))),
    "layernorm_backward_dbeta_mean": ("layernorm_backward", "dbeta_mean", edit(
        A, "layernorm_backward", ("dbeta = dout.sum(axis=0)", "dbeta = dout.mean(axis=0)"))),
    "layernorm_backward_dx_ignores_stats": ("layernorm_backward", "dx_ignores_stats", edit(
        A, "layernorm_backward", ('''dx = inv_std / D * (D * dxhat - dxhat.sum(axis=1, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=1, keepdims=True))''', "dx = dxhat * inv_std"))),
    "layernorm_backward_scales_dout_in_place": ("layernorm_backward", "mutates_input", edit(
        A, "layernorm_backward", ("dxhat = dout * gamma", "dout *= gamma\n    dxhat = dout"))),
    "groupnorm_interleaved": ("groupnorm_forward", "group_interleaved", edit(
        A, "groupnorm_forward",
        ("xg = x.reshape(N, groups, C // groups, H, W)", "xg = x.reshape(N, C // groups, groups, H, W)"),
        ("mean = xg.mean(axis=(2, 3, 4), keepdims=True)", "mean = xg.mean(axis=(1, 3, 4), keepdims=True)"),
        ("var = xg.var(axis=(2, 3, 4), keepdims=True)", "var = xg.var(axis=(1, 3, 4), keepdims=True)"))),
    "groupnorm_unbiased_var": ("groupnorm_forward", "unbiased_var", edit(
        A, "groupnorm_forward", ("var = xg.var(axis=(2, 3, 4), keepdims=True)", "var = xg.var(axis=(2, 3, 4), keepdims=True, ddof=1)"))),
    "instancenorm_as_layernorm": ("instancenorm_forward", "wrong_axes", edit(
        A, "instancenorm_forward", ("mean = x.mean(axis=(2, 3), keepdims=True)", "mean = x.mean(axis=(1, 2, 3), keepdims=True)"),
        ("var = x.var(axis=(2, 3), keepdims=True)", "var = x.var(axis=(1, 2, 3), keepdims=True)"))),
}
