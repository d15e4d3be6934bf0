"""Exercise spec: chapter 5, normalization."""
from . import Case, Code, Exercise, Graded, Markdown, randn


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
        Graded(
            name="batchnorm_forward",
            task="""
For `x` of shape `(N, D)`, compute per feature `d` the batch mean `mean[d]` and biased
variance `var[d]` over the N samples, then `out = gamma * (x - mean) / sqrt(var + eps) + beta`.
Return the tuple `(out, mean, var)`.
""",
            cases=(
                Case("x (8, 3)", lambda r: (shifted(r, 8, 3), randn(r, 3), randn(r, 3))),
                Case("float32 x (5, 4), eps 1e-3",
                     lambda r: (shifted(r, 5, 4, dtype="float32"), randn(r, 4, dtype="float32"),
                                randn(r, 4, dtype="float32"), 1e-3)),
            ),
        ),
        Graded(
            name="update_running_stats",
            task="""
At training time batch norm keeps running averages for inference, with PyTorch's convention:
`new_mean = (1 - momentum) * running_mean + momentum * mean` and
`new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)`: the batch variance
is made unbiased first. `n` is the number of values behind each statistic (N for `(N, D)`
inputs, `N*H*W` for NCHW). Return `(new_mean, new_var)`; `n < 2` is a `ValueError`.
""",
            cases=(
                Case("D 4, n 8", lambda r: (randn(r, 4), 1 + r.random(4), randn(r, 4), 1 + r.random(4), 8)),
                Case("C 3, n 2*5*5, momentum 0.5",
                     lambda r: (randn(r, 3), 1 + r.random(3), randn(r, 3), 1 + r.random(3), 50, 0.5)),
            ),
        ),
        Graded(
            name="batchnorm_inference",
            task="""
At inference, normalise with the stored statistics instead of the batch's:
`out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta`. Accept both `(N, D)`
inputs (parameters `(D,)`) and NCHW inputs (parameters `(C,)`, broadcast over N, H, W).
""",
            cases=(
                Case("x (4, 3)", lambda r: (shifted(r, 4, 3), randn(r, 3), randn(r, 3), randn(r, 3), 1 + r.random(3))),
                Case("x (2, 3, 2, 2)",
                     lambda r: (shifted(r, 2, 3, 2, 2), randn(r, 3), randn(r, 3), randn(r, 3), 1 + r.random(3))),
            ),
        ),
        Graded(
            name="batchnorm_backward",
            task="""
Backpropagate through `batchnorm_forward`. With `xhat = (x - mean) / sqrt(var + eps)`:
`dbeta = sum_n dout`, `dgamma = sum_n dout * xhat`, and, because the mean and variance depend
on every sample,

$$dx = \\frac{1}{\\sqrt{var + \\epsilon}}\\left(g - \\overline{g} - \\hat x\\, \\overline{g \\hat x}\\right),\\quad g = \\gamma\\, dout,$$

where bars are means over the batch. Return `(dx, dgamma, dbeta)`.
""",
            cases=(
                Case("x (6, 4)", lambda r: (randn(r, 6, 4), shifted(r, 6, 4), randn(r, 4))),
                Case("x (3, 2)", lambda r: (randn(r, 3, 2), shifted(r, 3, 2), randn(r, 2))),
            ),
        ),
        Graded(
            name="spatial_batchnorm_forward",
            task="""
For conv layers, batch norm keeps one mean and variance per *channel*, computed over the batch
and all pixels `(N, H, W)`; `gamma[c]`, `beta[c]` scale and shift channel `c`. Return `out`.
""",
            cases=(
                Case("x (4, 3, 5, 5)", lambda r: (shifted(r, 4, 3, 5, 5), randn(r, 3), randn(r, 3))),
                Case("x (2, 2, 3, 4), eps 0.1", lambda r: (shifted(r, 2, 2, 3, 4), randn(r, 2), randn(r, 2), 0.1)),
            ),
        ),
        Graded(
            name="spatial_batchnorm_backward",
            task="""
Backpropagate through `spatial_batchnorm_forward`: the same formula as `batchnorm_backward`,
with every sum and mean over `(N, H, W)` for each channel. Return `(dx, dgamma, dbeta)`.
""",
            cases=(
                Case("x (3, 2, 4, 4)", lambda r: (randn(r, 3, 2, 4, 4), shifted(r, 3, 2, 4, 4), randn(r, 2))),
            ),
        ),
        Graded(
            name="layernorm_forward",
            task="""
Layer norm normalises each *sample* (row of `x`, shape `(N, D)`) with its own mean and biased
variance over its D features, then applies `gamma`, `beta` (shape `(D,)`) per feature. It
behaves the same in training and inference and does not depend on the batch.
""",
            cases=(
                Case("x (4, 6)", lambda r: (shifted(r, 4, 6), randn(r, 6), randn(r, 6))),
                Case("one sample, x (1, 5)", lambda r: (shifted(r, 1, 5), randn(r, 5), randn(r, 5))),
            ),
        ),
        Graded(
            name="layernorm_backward",
            task="""
Backpropagate through `layernorm_forward`. `dgamma` and `dbeta` still sum over the batch (the
parameters are per feature), but `dx` uses means over the *features* of each row:
the formula of `batchnorm_backward` with the axes swapped. Return `(dx, dgamma, dbeta)`.
""",
            cases=(
                Case("x (4, 5)", lambda r: (randn(r, 4, 5), shifted(r, 4, 5), randn(r, 5))),
            ),
        ),
        Graded(
            name="groupnorm_forward",
            task="""
Split the C channels into `groups` contiguous blocks of `C // groups` channels (channels
`0 .. C/G - 1` form group 0, and so on). For each sample and group, normalise with the mean
and biased variance over the group's channels and all pixels; then apply `gamma[c]`,
`beta[c]` per channel. `C` not divisible by `groups` is a `ValueError`.
""",
            cases=(
                Case("x (2, 4, 3, 3), 2 groups", lambda r: (shifted(r, 2, 4, 3, 3), randn(r, 4), randn(r, 4), 2)),
                Case("x (1, 6, 2, 2), 3 groups", lambda r: (shifted(r, 1, 6, 2, 2), randn(r, 6), randn(r, 6), 3)),
                Case("x (2, 3, 2, 3), 1 group", lambda r: (shifted(r, 2, 3, 2, 3), randn(r, 3), randn(r, 3), 1)),
            ),
        ),
        Graded(
            name="instancenorm_forward",
            task="""
Instance norm normalises each feature map `x[n, c]` with its own mean and biased variance over
its `H x W` pixels, then applies `gamma[c]`, `beta[c]`. (It is group norm with one channel
per group: you may call `groupnorm_forward`.)
""",
            cases=(Case("x (2, 3, 4, 4)", lambda r: (shifted(r, 2, 3, 4, 4), randn(r, 3), randn(r, 3))),),
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
