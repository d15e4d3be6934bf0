"""Normalisation layers for the course's Sequential networks (chapter 5's experiments).

Not graded: each layer wires chapter 5's graded functions into the layer interface of
solutions/layers.py (forward and backward side by side, ``params`` and ``grads``), plus the
one thing a layer adds to a function, a training flag. ``with_norm`` builds chapter 8's
digit network with a normalisation layer after each convolution.
"""
import numpy as np

from ._checks import check_int
from .layers import Conv, Dense, Flatten, MaxPool, ReLU, Sequential
from .normalization import (batchnorm_inference, groupnorm_forward, layernorm_backward,
                            spatial_batchnorm_backward, spatial_batchnorm_forward, update_running_stats)
from .training import he_init


class BatchNorm2d:
    """Spatial batch norm: gamma, beta (C,), running statistics (C,) updated in training mode.

    training=True normalises with the batch's statistics over (N, H, W) and updates the
    running mean and variance (PyTorch's rule, momentum on the new batch); training=False
    normalises with the running statistics, a fixed affine map per channel.
    """

    def __init__(self, channels, momentum=0.1, eps=1e-5):
        channels = check_int("channels", channels, 1)
        self.params = {"gamma": np.ones(channels), "beta": np.zeros(channels)}
        self.grads = {}
        self.running_mean, self.running_var = np.zeros(channels), np.ones(channels)
        self.momentum, self.eps, self.training = momentum, eps, True

    def forward(self, x):
        self.x = x
        g, b = self.params["gamma"], self.params["beta"]
        if not self.training:
            return batchnorm_inference(x, g, b, self.running_mean, self.running_var, self.eps)
        N, _, H, W = x.shape
        self.running_mean, self.running_var = update_running_stats(
            self.running_mean, self.running_var, x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)),
            max(N * H * W, 2), self.momentum)
        return spatial_batchnorm_forward(x, g, b, self.eps)

    def backward(self, dout):
        g = self.params["gamma"]
        if self.training:
            dx, dgamma, dbeta = spatial_batchnorm_backward(dout, self.x, g, self.eps)
        else:   # a fixed affine map per channel
            inv_std = 1 / np.sqrt(self.running_var + self.eps)
            xhat = (self.x - self.running_mean[:, None, None]) * inv_std[:, None, None]
            dx = dout * (g * inv_std)[:, None, None]
            dgamma, dbeta = (dout * xhat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dx


class GroupNorm:
    """Group norm: statistics per example over each group of C/groups channels and all pixels;
    gamma, beta per channel. The same in training and inference: it keeps no statistics."""

    def __init__(self, channels, groups, eps=1e-5):
        channels, groups = check_int("channels", channels, 1), check_int("groups", groups, 1)
        if channels % groups:
            raise ValueError(f"{channels} channels cannot be split into {groups} equal groups")
        self.params = {"gamma": np.ones(channels), "beta": np.zeros(channels)}
        self.grads = {}
        self.groups, self.eps = groups, eps

    def forward(self, x):
        self.x = x
        C = x.shape[1]
        self.xhat = groupnorm_forward(x, np.ones(C), np.zeros(C), self.groups, self.eps)
        return self.params["gamma"][:, None, None] * self.xhat + self.params["beta"][:, None, None]

    def backward(self, dout):
        # Each (example, group) is normalised like one row of layer norm, so layer norm's
        # backward on those rows (with unit gain) gives dx from dxhat = dout * gamma.
        N = dout.shape[0]
        dxhat = dout * self.params["gamma"][:, None, None]
        rows = self.x.reshape(N * self.groups, -1)
        dx = layernorm_backward(dxhat.reshape(rows.shape), rows, np.ones(rows.shape[1]), self.eps)[0]
        self.grads = {"gamma": (dout * self.xhat).sum(axis=(0, 2, 3)), "beta": dout.sum(axis=(0, 2, 3))}
        return dx.reshape(self.x.shape)


def set_training(net, training):
    """Switch every layer of net that has a training flag (PyTorch's net.train() / net.eval())."""
    for layer in net.layers.values():
        if hasattr(layer, "training"):
            layer.training = training
    return net


def fold_batchnorm(conv, bn):
    """A conv layer's (w, b) with the inference-mode batch norm after it folded in.

    bn(conv(x)) = gamma * (conv(x) - mean) / sqrt(var + eps) + beta is again a conv, with
    w' = w * s and b' = (b - mean) * s + beta per filter, s = gamma / sqrt(var + eps).
    """
    s = bn.params["gamma"] / np.sqrt(bn.running_var + bn.eps)
    return conv.params["w"] * s[:, None, None, None], (conv.params["b"] - bn.running_mean) * s + bn.params["beta"]


def with_norm(norm=None, place="before", seed=0, scale=1.0, groups=4, channels=(16, 32), hidden=64,
              n_classes=5):
    """Chapter 8's digit network (solutions.training.small_cnn) with a normalisation layer after
    each convolution, for (N, 1, 8, 8) inputs.

    norm: None, "batch" or "group" (`groups` groups); place: "before" the ReLU (conv -> norm
    -> ReLU, as in ResNet) or "after" it (conv -> ReLU -> norm). scale multiplies every He
    initialised weight. The same seed gives the same weights as small_cnn(seed=seed) times
    scale, whatever the norm.
    """
    if norm not in (None, "batch", "group") or place not in ("before", "after"):
        raise ValueError(f"norm must be None, 'batch' or 'group' and place 'before' or 'after', "
                         f"got {norm!r}, {place!r}")
    c1, c2 = channels
    rng = np.random.default_rng(seed)
    w1, w2 = he_init(rng, (c1, 1, 3, 3)), he_init(rng, (c2, c1, 3, 3))
    W3, W4 = he_init(rng, (hidden, c2 * 2 * 2)), he_init(rng, (n_classes, hidden))

    def block(name, conv, c):
        layers = [(f"conv{name}", conv)]
        norm_layer = [] if norm is None else [
            (f"norm{name}", BatchNorm2d(c) if norm == "batch" else GroupNorm(c, groups))]
        relu = [(f"relu{name}", ReLU())]
        return layers + (norm_layer + relu if place == "before" else relu + norm_layer)

    return Sequential(
        block(1, Conv(scale * w1, np.zeros(c1)), c1)
        + block(2, Conv(scale * w2, np.zeros(c2)), c2)
        + [("pool", MaxPool(2, 2)), ("flatten", Flatten()),
           ("fc1", Dense(scale * W3, np.zeros(hidden))), ("relu3", ReLU()),
           ("fc2", Dense(scale * W4, np.zeros(n_classes)))])
