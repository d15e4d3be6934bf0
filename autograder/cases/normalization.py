"""Cases of ch05_normalization: batch, layer, instance and group norm, forward and backward.

Every case has random gamma, beta and dout (never ones), and a batch with a small spread
in one case, where putting eps outside the square root makes a visible difference.
"""
import numpy as np

import solutions as ref

from . import Case, normal


def _norm(x, gamma, beta, eps, axes, *, ddof=0, eps_outside=False, groups=None, interleaved=False):
    """gamma * (x - mean) / std + beta, statistics over axes (of the grouped view if groups)."""
    shape = x.shape
    if groups is not None:
        N, C = shape[:2]
        x = (x.reshape(N, C // groups, groups, *shape[2:]).swapaxes(1, 2) if interleaved
             else x.reshape(N, groups, C // groups, *shape[2:]))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, ddof=ddof, keepdims=True)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    xhat = (x - mean) / std
    if groups is not None and interleaved:
        xhat = xhat.swapaxes(1, 2)
    xhat = xhat.reshape(shape)
    param = (1, -1) + (1,) * (len(shape) - 2)
    return (gamma.reshape(param) * xhat + beta.reshape(param)).astype(np.result_type(x, gamma, beta))


def _forward_mistakes(axes, wrong_axes):
    """Mistakes of a normaliser whose right statistics axes are `axes`."""
    mistakes = [("unbiased_var", lambda x, g, b, eps=1e-5: _norm(x, g, b, eps, axes, ddof=1)),
                ("eps_outside_sqrt", lambda x, g, b, eps=1e-5: _norm(x, g, b, eps, axes, eps_outside=True))]
    mistakes += [("wrong_axes", lambda x, g, b, eps=1e-5, a=a: _norm(x, g, b, eps, a)) for a in wrong_axes]
    return mistakes


def _inputs(rng, shape, dtype, scale):
    C = shape[1]
    x = (rng.uniform(-2, 2, size=(1, C) + (1,) * (len(shape) - 2)) + scale * rng.standard_normal(shape))
    return x.astype(dtype), rng.uniform(0.5, 2.0, C).astype(dtype), normal(rng, (C,), dtype)


ND_GRID = [((8, 5), np.float64, 1.0), ((4, 3), np.float32, 1.5), ((16, 7), np.float64, 0.01),
           ((6, 4), np.float64, 3.0)]
NCHW_GRID = [((2, 3, 4, 5), np.float64, 1.0), ((3, 2, 3, 3), np.float32, 2.0), ((2, 4, 3, 2), np.float64, 0.01),
             ((4, 3, 2, 3), np.float64, 1.0)]


def _name(shape, dtype, scale):
    return f"x{'x'.join(map(str, shape))}_{np.dtype(dtype)}" + ("_small_spread" if scale < 0.1 else "")


def _forward_cases(function, rng, grid, mistakes, outputs=("out",)):
    cases = []
    for shape, dtype, scale in grid:
        cases.append(Case(function, _name(shape, dtype, scale), _inputs(rng, shape, dtype, scale),
                          mistakes=mistakes, outputs=outputs))
    return cases


def _batchnorm_forward(rng):
    def with_stats(ddof=0, eps_outside=False, axis=0):
        def mistake(x, g, b, eps=1e-5):
            return (_norm(x, g, b, eps, axis, ddof=ddof, eps_outside=eps_outside),
                    x.mean(axis=axis), x.var(axis=axis, ddof=ddof))
        return mistake
    mistakes = [("unbiased_var", with_stats(ddof=1)), ("eps_outside_sqrt", with_stats(eps_outside=True)),
                ("wrong_axes", with_stats(axis=1))]
    return _forward_cases("batchnorm_forward", rng, ND_GRID, mistakes, outputs=("out", "mean", "var"))


def _update_running_stats(rng):
    grid = [(5, 8, 0.1, np.float64), (3, 32, 0.3, np.float32), (4, 18, 0.05, np.float64), (6, 2, 0.5, np.float64)]

    def flipped(rm, rv, mean, var, n, momentum=0.1):
        return ref.update_running_stats(rm, rv, mean, var, n, 1 - momentum)

    def biased(rm, rv, mean, var, n, momentum=0.1):
        return (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var

    cases = []
    for D, n, momentum, dtype in grid:
        rm, mean = normal(rng, (D,), dtype), normal(rng, (D,), dtype)
        rv, var = rng.uniform(0.5, 2, D).astype(dtype), rng.uniform(0.5, 2, D).astype(dtype)
        cases.append(Case("update_running_stats", f"D{D}_n{n}_momentum{momentum}_{np.dtype(dtype)}",
                          (rm, rv, mean, var, n), {"momentum": momentum}, outputs=("new_mean", "new_var"),
                          mistakes=[("momentum_flipped", flipped), ("biased_running_var", biased)]))
    return cases


def _batchnorm_inference(rng):
    """(N, D) inputs and, as the task and its visible check also allow, (N, C, H, W) ones."""
    def batch_stats(x, g, b, rm, rv, eps=1e-5):
        return _norm(x, g, b, eps, 0 if x.ndim == 2 else (0, 2, 3))
    cases = []
    for shape, dtype, scale in ND_GRID + NCHW_GRID[:2]:
        x, g, b = _inputs(rng, shape, dtype, scale)
        C = shape[1]
        rm, rv = normal(rng, (C,), dtype), rng.uniform(0.5, 3, C).astype(dtype)
        cases.append(Case("batchnorm_inference", _name(shape, dtype, scale), (x, g, b, rm, rv),
                          mistakes=[("uses_batch_stats", batch_stats)]))
    return cases


def _backward_mistakes(stat_axes, param_axes):
    def ignores_stats(dout, x, g, eps=1e-5):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        g_b = g.reshape(shape) if stat_axes != 1 else g
        std = np.sqrt(x.var(axis=stat_axes, keepdims=True) + eps)
        dx = dout * g_b / std
        return dx, None, None
    return [("dx_ignores_stats", ignores_stats),
            ("dgamma_is_dbeta", lambda dout, x, g, eps=1e-5: (None, dout.sum(axis=param_axes), None)),
            ("dbeta_mean", lambda dout, x, g, eps=1e-5: (None, None, dout.mean(axis=param_axes)))]


def _backward_cases(function, rng, grid, stat_axes, param_axes):
    cases = []
    for shape, dtype, scale in grid:
        x, g, _ = _inputs(rng, shape, dtype, scale)
        dout = normal(rng, shape, dtype)
        N = shape[0]
        cases.append(Case(function, _name(shape, dtype, scale), (dout, x, g), outputs=("dx", "dgamma", "dbeta"),
                          mistakes=_backward_mistakes(stat_axes, param_axes),
                          factors={"N": N, "1/N": 1 / N}))
    return cases


def _groupnorm(rng):
    grid = [((2, 6, 3, 4), 2, np.float64, 1.0), ((2, 6, 3, 3), 3, np.float32, 1.0),
            ((3, 4, 2, 5), 1, np.float64, 0.01), ((2, 4, 3, 3), 4, np.float64, 2.0)]
    cases = []
    for shape, G, dtype, scale in grid:
        x, g, b = _inputs(rng, shape, dtype, scale)

        def grouped(**options):
            return lambda x, g, b, groups, eps=1e-5: _norm(x, g, b, eps, (2, 3, 4), groups=groups, **options)
        mistakes = [("group_interleaved", grouped(interleaved=True)), ("unbiased_var", grouped(ddof=1)),
                    ("eps_outside_sqrt", grouped(eps_outside=True)),
                    ("wrong_axes", lambda x, g, b, groups, eps=1e-5: _norm(x, g, b, eps, (0, 2, 3))),
                    ("wrong_axes", lambda x, g, b, groups, eps=1e-5: _norm(x, g, b, eps, (2, 3)))]
        cases.append(Case("groupnorm_forward", f"{_name(shape, dtype, scale)}_groups{G}", (x, g, b, G),
                          mistakes=mistakes))
    return cases


BUILDERS = {
    "batchnorm_forward": _batchnorm_forward,
    "update_running_stats": _update_running_stats,
    "batchnorm_inference": _batchnorm_inference,
    "batchnorm_backward": lambda rng: _backward_cases("batchnorm_backward", rng, ND_GRID, 0, 0),
    "spatial_batchnorm_forward": lambda rng: _forward_cases(
        "spatial_batchnorm_forward", rng, NCHW_GRID,
        _forward_mistakes((0, 2, 3), [(1, 2, 3), (2, 3)]) + [
            ("per_pixel_stats", lambda x, g, b, eps=1e-5: _norm(x, g, b, eps, 0))]),
    "spatial_batchnorm_backward": lambda rng: _backward_cases("spatial_batchnorm_backward", rng, NCHW_GRID,
                                                              (0, 2, 3), (0, 2, 3)),
    "layernorm_forward": lambda rng: _forward_cases("layernorm_forward", rng, ND_GRID,
                                                    _forward_mistakes(1, [0])),
    "layernorm_backward": lambda rng: _backward_cases("layernorm_backward", rng, ND_GRID, 1, 0),
    "groupnorm_forward": _groupnorm,
    "instancenorm_forward": lambda rng: _forward_cases("instancenorm_forward", rng, NCHW_GRID,
                                                       _forward_mistakes((2, 3), [(0, 2, 3), (1, 2, 3)])),
}

# Arguments the task says are a ValueError: (why, args, kwargs) built from the case's generator.
INVALID = {
    "update_running_stats": lambda rng: [
        ("n < 2", (normal(rng, (4,)), np.abs(normal(rng, (4,))), normal(rng, (4,)), np.abs(normal(rng, (4,))), 1), {})],
    "groupnorm_forward": lambda rng: [
        ("C not divisible by groups", (normal(rng, (2, 6, 3, 3)), normal(rng, (6,)), normal(rng, (6,)), 4), {})],
}
