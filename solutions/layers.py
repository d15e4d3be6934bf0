"""Layers of a small CNN, each with its forward and backward side by side.

A layer keeps what its backward needs from the last forward call (``self.x``), holds its
parameters in ``self.params`` and, after ``backward``, their gradients in ``self.grads``
(same keys, same shapes). The heavy lifting is done by the graded functions of earlier
chapters (conv via im2col, max pooling); this module only wires them together.
"""
import numpy as np

from ._checks import check_int, check_ndim, check_shape
from .im2col import conv_backward_im2col, conv_forward_im2col
from .pooling import max_pool_backward, max_pool_forward


class Conv:
    """Conv layer: w (F, C, HH, WW), b (F,). x: (N, C, H, W) -> (N, F, Hout, Wout)."""

    def __init__(self, w, b, stride=1, pad=0):
        w = check_ndim("w", w, 4, "(F, C, HH, WW)")
        b = np.asarray(b)
        check_shape("b", b, (w.shape[0],))
        self.params = {"w": w, "b": b}
        self.grads = {}
        self.stride, self.pad = stride, pad

    def forward(self, x):
        self.x = x
        return conv_forward_im2col(x, self.params["w"], self.params["b"], self.stride, self.pad)

    def backward(self, dout):
        dx, dw, db = conv_backward_im2col(dout, self.x, self.params["w"], self.params["b"],
                                          self.stride, self.pad)
        self.grads = {"w": dw, "b": db}
        return dx


class ReLU:
    """max(0, x), elementwise; the gradient passes where x > 0."""

    params, grads = {}, {}

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * (self.x > 0)


class MaxPool:
    """Max pooling: x (N, C, H, W) -> (N, C, Hout, Wout)."""

    params, grads = {}, {}

    def __init__(self, pool=2, stride=2):
        self.pool, self.stride = check_int("pool", pool, 1), check_int("stride", stride, 1)

    def forward(self, x):
        self.x = x
        return max_pool_forward(x, self.pool, self.stride)

    def backward(self, dout):
        return max_pool_backward(dout, self.x, self.pool, self.stride)


class Flatten:
    """(N, C, H, W) -> (N, C*H*W) in C order, the order fc_to_conv assumes."""

    params, grads = {}, {}

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.shape)


class Dense:
    """Fully connected layer: W (K, D), b (K,). x: (N, D) -> x @ W.T + b: (N, K)."""

    def __init__(self, W, b):
        W = check_ndim("W", W, 2, "(K, D)")
        b = np.asarray(b)
        check_shape("b", b, (W.shape[0],))
        self.params = {"W": W, "b": b}
        self.grads = {}

    def forward(self, x):
        x = check_ndim("x", x, 2, "(N, D)")
        if x.shape[1] != self.params["W"].shape[1]:
            raise ValueError(f"x has {x.shape[1]} features, W expects {self.params['W'].shape[1]}")
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout):
        self.grads = {"W": dout.T @ self.x, "b": dout.sum(axis=0)}
        return dout @ self.params["W"]


def softmax_cross_entropy(scores, y):
    """Mean cross-entropy of softmax(scores) against integer labels, and its gradient.

    scores: (N, K), y: (N,) ints in [0, K) -> (loss, dscores (N, K)),
    loss = -mean_n log softmax(scores[n])[y[n]], dscores = (softmax - onehot(y)) / N.
    """
    scores = check_ndim("scores", scores, 2, "(N, K)")
    y = np.asarray(y)
    check_shape("y", y, (scores.shape[0],))
    if y.size and (y.min() < 0 or y.max() >= scores.shape[1]):
        raise ValueError(f"labels must lie in [0, {scores.shape[1]}), got {y.min()}..{y.max()}")
    # Subtracting the row maximum changes nothing mathematically and keeps exp() finite.
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = scores.shape[0]
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


class Sequential:
    """Named layers applied in order. Parameters are addressed as "layer.param", e.g. "conv1.w".

    ``frozen`` holds names of layers whose parameters training leaves alone.
    """

    def __init__(self, layers):
        self.layers = dict(layers)
        self.frozen = set()

    def forward(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def backward(self, dout):
        """Backpropagate dout, filling each trainable layer's grads.

        Stops at the lowest layer with trainable parameters (nothing below it needs a
        gradient) and then returns None; returns dL/dx of the network's input otherwise.
        """
        names = list(self.layers)
        trainable = [i for i, name in enumerate(names)
                     if self.layers[name].params and name not in self.frozen]
        lowest = trainable[0] if trainable else len(names)
        for name in reversed(names[lowest:]):
            dout = self.layers[name].backward(dout)
        return dout if lowest == 0 else None

    def params(self):
        """{"layer.param": array} of every parameter (the arrays themselves, not copies)."""
        return {f"{name}.{key}": value for name, layer in self.layers.items()
                for key, value in layer.params.items()}

    def grads(self):
        """{"layer.param": gradient} from the last backward, for trainable layers only."""
        return {f"{name}.{key}": layer.grads[key] for name, layer in self.layers.items()
                if name not in self.frozen for key in layer.params}

    def trainable(self):
        """{"layer.param": array} of the parameters training may change."""
        return {k: v for k, v in self.params().items() if k.split(".")[0] not in self.frozen}

    def load(self, params):
        """Replace every parameter by a float copy of params[name]; names and shapes must match."""
        own = self.params()
        missing, extra = sorted(set(own) - set(params)), sorted(set(params) - set(own))
        if missing or extra:
            raise ValueError(f"parameter names differ: missing {missing}, unexpected {extra}")
        for name, value in own.items():
            new = np.asarray(params[name])
            if new.shape != value.shape:
                raise ValueError(f"{name} must have shape {value.shape}, got {new.shape}")
            layer, key = name.split(".")
            self.layers[layer].params[key] = new.astype(np.float64, copy=True)
        return self
