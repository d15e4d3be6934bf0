"""Chapter 5, normalization: batch, layer, instance and group norm, forward and backward.

Every case has random gamma, beta and dout (never ones), and a batch with a small spread
in one case, where putting eps outside the square root makes a visible difference.

Everything the course knows about each graded function is its Task record below; the
notebook's cells are EXERCISE, in order.
"""
import numpy as np

from autograder.cases import Case, normal
import solutions as ref

from . import Code, Example, Exercise, Markdown, Task, randn


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


def _situations(shape, dtype, scale):
    """What a normalisation case exercises beyond a float64 batch of ordinary spread."""
    return ("float32",) * (np.dtype(dtype) == np.float32) + ("small spread",) * (scale < 0.1)


def _forward_cases(function, rng, grid, mistakes, outputs=("out",)):
    cases = []
    for shape, dtype, scale in grid:
        cases.append(Case(function, _name(shape, dtype, scale), _inputs(rng, shape, dtype, scale),
                          mistakes=mistakes, outputs=outputs, situations=_situations(shape, dtype, scale)))
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
                          mistakes=[("momentum_flipped", flipped), ("biased_running_var", biased)],
                          situations=_situations((D,), dtype, 1.0)))
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
                          mistakes=[("uses_batch_stats", batch_stats)],
                          situations=_situations(shape, dtype, scale) + ("NCHW",) * (len(shape) == 4)))
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
                          factors={"N": N, "1/N": 1 / N}, situations=_situations(shape, dtype, scale)))
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
                          mistakes=mistakes, situations=_situations(shape, dtype, scale)
                          + ("one group",) * (G == 1) + ("a channel per group",) * (G == shape[1])))
    return cases


def shifted(rng, *shape, dtype="float64"):
    """Badly scaled activations (mean 3, std 5): normalisation has something to fix."""
    return (3.0 + 5.0 * rng.standard_normal(shape)).astype(dtype)


EXERCISE = Exercise(
    assignment="ch05_normalization",
    title="Normalization",
    intro="""
Every normaliser in this chapter computes `xhat = (x - mean) / sqrt(var + eps)` over some
axes, then `gamma * xhat + beta`. Only the axes differ: batch norm averages over the batch
(and, for images, the pixels), layer norm over the features of one sample, group norm over
groups of channels, instance norm over the pixels of one channel. Variances are *biased*
(divide by the count, `np.var`'s default) and `eps` goes inside the square root.
`gamma` and `beta` have shape `(D,)` for `(N, D)` inputs and `(C,)` for NCHW inputs.
""",
    cells=(
        Task(
            name="batchnorm_forward",
            points=4,
            task="""
For `x` of shape `(N, D)`, compute per feature `d` the batch mean `mean[d]` and biased
variance `var[d]` over the N samples, then `out = gamma * (x - mean) / sqrt(var + eps) + beta`.
Return the tuple `(out, mean, var)`.
""",
            examples=(
                Example("x (8, 3)", lambda r: (shifted(r, 8, 3), randn(r, 3), randn(r, 3))),
                Example("float32 x (5, 4), eps 1e-3",
                     lambda r: (shifted(r, 5, 4, dtype="float32"), randn(r, 4, dtype="float32"),
                                randn(r, 4, dtype="float32"), 1e-3)),
            ),
            hidden=_batchnorm_forward,
            mistakes={
                "unbiased_var": "matches the unbiased variance (ddof=1): normalising uses the biased variance"
                                " (divide by n)",
                "eps_outside_sqrt": "matches (x - mean) / (sqrt(var) + eps): eps goes inside the root, "
                                    "sqrt(var + eps)",
                'wrong_axes': 'matches statistics over the wrong axes: batch norm takes the mean and variance of each '
                              'feature over the batch (axis 0)',
            },
        ),
        Task(
            name="update_running_stats",
            points=4,
            task="""
At training time batch norm keeps running averages for inference, with PyTorch's convention:
`new_mean = (1 - momentum) * running_mean + momentum * mean` and
`new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)`: the batch variance
is made unbiased first. `n` is the number of values behind each statistic (N for `(N, D)`
inputs, `N*H*W` for NCHW). Return `(new_mean, new_var)`; `n < 2` is a `ValueError`.
""",
            examples=(
                Example("D 4, n 8", lambda r: (randn(r, 4), 1 + r.random(4), randn(r, 4), 1 + r.random(4), 8)),
                Example("C 3, n 2*5*5, momentum 0.5",
                     lambda r: (randn(r, 3), 1 + r.random(3), randn(r, 3), 1 + r.random(3), 50, 0.5)),
                Example("D 4, n 1", lambda r: (randn(r, 4), 1 + r.random(4), randn(r, 4), 1 + r.random(4), 1),
                        invalid="n < 2"),
            ),
            hidden=_update_running_stats,
            invalid=lambda rng: [
        ("n < 2", (normal(rng, (4,)), np.abs(normal(rng, (4,))), normal(rng, (4,)), np.abs(normal(rng, (4,))), 1), {})],
            mistakes={
                "momentum_flipped": "matches the Keras convention: PyTorch's rule is new = (1 - momentum) * "
                                    "running + momentum * batch",
                "biased_running_var": "matches the biased batch variance: the running variance uses var * n /"
                                      " (n - 1)",
            },
        ),
        Task(
            name="batchnorm_inference",
            points=4,
            task="""
At inference, normalise with the stored statistics instead of the batch's:
`out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta`. Accept both `(N, D)`
inputs (parameters `(D,)`) and NCHW inputs (parameters `(C,)`, broadcast over N, H, W).
""",
            examples=(
                Example("x (4, 3)", lambda r: (shifted(r, 4, 3), randn(r, 3), randn(r, 3), randn(r, 3), 1 + r.random(3))),
                Example("x (2, 3, 2, 4)",
                     lambda r: (shifted(r, 2, 3, 2, 4), randn(r, 3), randn(r, 3), randn(r, 3), 1 + r.random(3))),
            ),
            hidden=_batchnorm_inference,
            mistakes={
                "uses_batch_stats": "matches normalising with the batch's own statistics: inference uses "
                                    "running_mean and running_var",
            },
        ),
        Task(
            name="batchnorm_backward",
            points=4,
            task="""
Backpropagate through `batchnorm_forward`. With `xhat = (x - mean) / sqrt(var + eps)`:
`dbeta = sum_n dout`, `dgamma = sum_n dout * xhat`, and, because the mean and variance depend
on every sample,

$$dx = \\frac{1}{\\sqrt{var + \\epsilon}}\\left(g - \\overline{g} - \\hat x\\, \\overline{g \\hat x}\\right),\\quad g = \\gamma\\, dout,$$

where bars are means over the batch. Return `(dx, dgamma, dbeta)`.
""",
            examples=(
                Example("x (6, 4)", lambda r: (randn(r, 6, 4), shifted(r, 6, 4), randn(r, 4))),
                Example("x (3, 2)", lambda r: (randn(r, 3, 2), shifted(r, 3, 2), randn(r, 2))),
            ),
            hidden=lambda rng: _backward_cases("batchnorm_backward", rng, ND_GRID, 0, 0),
            mistakes={
                "dx_ignores_stats": "matches dx = dout * gamma / std: the mean and variance depend on x as "
                                    "well; add their gradient terms",
                'dgamma_is_dbeta': 'matches dbeta: dgamma is the sum of dout * xhat, not of dout',
                'dbeta_mean': 'matches a mean: dbeta is the sum of dout over the batch (axis 0)',
            },
        ),
        Task(
            name="spatial_batchnorm_forward",
            points=4,
            task="""
For conv layers, batch norm keeps one mean and variance per *channel*, computed over the batch
and all pixels `(N, H, W)`; `gamma[c]`, `beta[c]` scale and shift channel `c`. Return `out`.
""",
            examples=(
                Example("x (4, 3, 5, 5)", lambda r: (shifted(r, 4, 3, 5, 5), randn(r, 3), randn(r, 3))),
                Example("x (2, 2, 3, 4), eps 0.1", lambda r: (shifted(r, 2, 2, 3, 4), randn(r, 2), randn(r, 2), 0.1)),
            ),
            hidden=lambda rng: _forward_cases(
        "spatial_batchnorm_forward", rng, NCHW_GRID,
        _forward_mistakes((0, 2, 3), [(1, 2, 3), (2, 3)]) + [
            ("per_pixel_stats", lambda x, g, b, eps=1e-5: _norm(x, g, b, eps, 0))]),
            mistakes={
                "unbiased_var": "matches the unbiased variance (ddof=1): normalising uses the biased variance"
                                " (divide by n)",
                "eps_outside_sqrt": "matches (x - mean) / (sqrt(var) + eps): eps goes inside the root, "
                                    "sqrt(var + eps)",
                'wrong_axes': 'matches statistics over the wrong axes: take the mean and variance of each channel over '
                              'N, H and W (axes 0, 2 and 3)',
                "per_pixel_stats": "matches statistics over N only (one per pixel): spatial batch norm "
                                   "averages over N, H and W for each channel",
            },
        ),
        Task(
            name="spatial_batchnorm_backward",
            points=4,
            task="""
Backpropagate through `spatial_batchnorm_forward`: the same formula as `batchnorm_backward`,
with every sum and mean over `(N, H, W)` for each channel. Return `(dx, dgamma, dbeta)`.
""",
            examples=(
                Example("x (3, 2, 4, 5)", lambda r: (randn(r, 3, 2, 4, 5), shifted(r, 3, 2, 4, 5), randn(r, 2))),
            ),
            hidden=lambda rng: _backward_cases("spatial_batchnorm_backward", rng, NCHW_GRID,
                                                              (0, 2, 3), (0, 2, 3)),
            mistakes={
                "dx_ignores_stats": "matches dx = dout * gamma / std: the mean and variance depend on x as "
                                    "well; add their gradient terms",
                'dgamma_is_dbeta': 'matches dbeta: dgamma is the sum of dout * xhat, not of dout',
                'dbeta_mean': 'matches a mean: dbeta is the sum of dout over N, H and W (axes 0, 2 and 3)',
            },
        ),
        Task(
            name="layernorm_forward",
            points=4,
            task="""
Layer norm normalises each *sample* (row of `x`, shape `(N, D)`) with its own mean and biased
variance over its D features, then applies `gamma`, `beta` (shape `(D,)`) per feature. It
behaves the same in training and inference and does not depend on the batch.
""",
            examples=(
                Example("x (4, 6)", lambda r: (shifted(r, 4, 6), randn(r, 6), randn(r, 6))),
                Example("one sample, x (1, 5)", lambda r: (shifted(r, 1, 5), randn(r, 5), randn(r, 5))),
            ),
            hidden=lambda rng: _forward_cases("layernorm_forward", rng, ND_GRID,
                                                    _forward_mistakes(1, [0])),
            mistakes={
                "unbiased_var": "matches the unbiased variance (ddof=1): normalising uses the biased variance"
                                " (divide by n)",
                "eps_outside_sqrt": "matches (x - mean) / (sqrt(var) + eps): eps goes inside the root, "
                                    "sqrt(var + eps)",
                'wrong_axes': 'matches statistics over the wrong axes: layer norm takes the mean and variance of each '
                              'sample over its D features (axis 1)',
            },
        ),
        Task(
            name="layernorm_backward",
            points=4,
            task="""
Backpropagate through `layernorm_forward`. `dgamma` and `dbeta` still sum over the batch (the
parameters are per feature), but `dx` uses means over the *features* of each row:
the formula of `batchnorm_backward` with the axes swapped. Return `(dx, dgamma, dbeta)`.
""",
            examples=(
                Example("x (4, 5)", lambda r: (randn(r, 4, 5), shifted(r, 4, 5), randn(r, 5))),
            ),
            hidden=lambda rng: _backward_cases("layernorm_backward", rng, ND_GRID, 1, 0),
            mistakes={
                "dx_ignores_stats": "matches dx = dout * gamma / std: the mean and variance depend on x as "
                                    "well; add their gradient terms",
                'dgamma_is_dbeta': 'matches dbeta: dgamma is the sum of dout * xhat, not of dout',
                'dbeta_mean': 'matches a mean: dbeta is the sum of dout over the batch (axis 0)',
            },
        ),
        Task(
            name="groupnorm_forward",
            points=4,
            task="""
Split the C channels into `groups` contiguous blocks of `C // groups` channels (channels
`0 .. C/G - 1` form group 0, and so on). For each sample and group, normalise with the mean
and biased variance over the group's channels and all pixels; then apply `gamma[c]`,
`beta[c]` per channel. `C` not divisible by `groups` is a `ValueError`.
""",
            examples=(
                Example("x (2, 4, 3, 3), 2 groups", lambda r: (shifted(r, 2, 4, 3, 3), randn(r, 4), randn(r, 4), 2)),
                Example("x (1, 6, 2, 2), 3 groups", lambda r: (shifted(r, 1, 6, 2, 2), randn(r, 6), randn(r, 6), 3)),
                Example("x (2, 3, 2, 3), 1 group", lambda r: (shifted(r, 2, 3, 2, 3), randn(r, 3), randn(r, 3), 1)),
                Example("x (2, 6, 3, 3), 4 groups", lambda r: (shifted(r, 2, 6, 3, 3), randn(r, 6), randn(r, 6), 4),
                        invalid="C not divisible by groups"),
            ),
            hidden=_groupnorm,
            invalid=lambda rng: [
        ("C not divisible by groups", (normal(rng, (2, 6, 3, 3)), normal(rng, (6,)), normal(rng, (6,)), 4), {})],
            mistakes={
                "group_interleaved": "matches groups made of channels c % G: a group is a contiguous block of"
                                     " C // G channels",
                "unbiased_var": "matches the unbiased variance (ddof=1): normalising uses the biased variance"
                                " (divide by n)",
                "eps_outside_sqrt": "matches (x - mean) / (sqrt(var) + eps): eps goes inside the root, "
                                    "sqrt(var + eps)",
                'wrong_axes': 'matches statistics over the wrong axes: take the mean and variance of each sample and '
                              'group over the group\'s channels and all pixels',
            },
        ),
        Task(
            name="instancenorm_forward",
            points=4,
            task="""
Instance norm normalises each feature map `x[n, c]` with its own mean and biased variance over
its `H x W` pixels, then applies `gamma[c]`, `beta[c]`. (It is group norm with one channel
per group: you may call `groupnorm_forward`.)
""",
            examples=(Example("x (2, 3, 4, 5)", lambda r: (shifted(r, 2, 3, 4, 5), randn(r, 3), randn(r, 3))),),
            hidden=lambda rng: _forward_cases("instancenorm_forward", rng, NCHW_GRID,
                                                       _forward_mistakes((2, 3), [(0, 2, 3), (1, 2, 3)])),
            mistakes={
                "unbiased_var": "matches the unbiased variance (ddof=1): normalising uses the biased variance"
                                " (divide by n)",
                "eps_outside_sqrt": "matches (x - mean) / (sqrt(var) + eps): eps goes inside the root, "
                                    "sqrt(var + eps)",
                'wrong_axes': 'matches statistics over the wrong axes: take the mean and variance of each feature map '
                              'x[n, c] over its H and W (axes 2 and 3)',
            },
        ),
        Code("""
# Which values share statistics? Normalise the same activations four ways and look at the
# mean of each (sample, channel) map: batch norm zeroes each channel's mean over the batch,
# the others zero it per sample (layer/group) or per map (instance).
rng = np.random.default_rng(0)
acts = 3.0 + 5.0 * rng.standard_normal((4, 6, 8, 8)) * np.linspace(0.2, 2.0, 6)[None, :, None, None]
ones, zeros = np.ones(6), np.zeros(6)
try:
    results = {"batch norm": spatial_batchnorm_forward(acts, ones, zeros),
               "group norm (3 groups)": groupnorm_forward(acts, ones, zeros, 3),
               "layer norm (1 group)": groupnorm_forward(acts, ones, zeros, 1),
               "instance norm": instancenorm_forward(acts, ones, zeros)}
except NotImplementedError:
    print("Implement the NCHW normalisers to compare them.")
else:
    fig, axes = plt.subplots(1, 5, figsize=(18, 3.2))
    for ax, (name, out) in zip(axes, {"input": acts, **results}.items()):
        im = ax.imshow(out.mean(axis=(2, 3)), cmap="coolwarm", vmin=-4, vmax=4)
        ax.set_title(name)
        ax.set_xlabel("channel")
        ax.set_ylabel("sample")
    fig.colorbar(im, ax=axes, label="mean of the feature map")
    plt.show()
"""),
    ),
)
