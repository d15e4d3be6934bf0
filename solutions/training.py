"""Training a Sequential network: a small CNN, SGD with momentum, a seeded loop, evaluation,
and the two moves of transfer learning (freeze layers, replace the head).
"""
import numpy as np
from tqdm.auto import tqdm

from ._checks import check_int, check_ndim
from .layers import Conv, Dense, Flatten, MaxPool, ReLU, Sequential, softmax_cross_entropy


def he_init(rng, shape):
    """Normal weights with variance 2 / fan_in, fan_in = prod(shape[1:]): keeps ReLU activations' scale."""
    return rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:])), size=shape)


def small_cnn(n_classes=5, seed=0, channels=(16, 32), hidden=64):
    """The course's digit network, for (N, 1, 8, 8) inputs, randomly initialised from seed.

    conv1 3x3 (1 -> c1) -> ReLU -> conv2 3x3 (c1 -> c2) -> ReLU -> 2x2 max pool
    -> flatten (c2*2*2) -> fc1 (hidden) -> ReLU -> fc2 (n_classes).
    No padding anywhere, so the convolutionalized network slid over a larger image computes
    exactly what this one computes on each 8x8 crop (at a stride of 2 pixels).
    """
    c1, c2 = channels
    rng = np.random.default_rng(seed)
    return Sequential([
        ("conv1", Conv(he_init(rng, (c1, 1, 3, 3)), np.zeros(c1))),
        ("relu1", ReLU()),
        ("conv2", Conv(he_init(rng, (c2, c1, 3, 3)), np.zeros(c2))),
        ("relu2", ReLU()),
        ("pool", MaxPool(2, 2)),
        ("flatten", Flatten()),
        ("fc1", Dense(he_init(rng, (hidden, c2 * 2 * 2)), np.zeros(hidden))),
        ("relu3", ReLU()),
        ("fc2", Dense(he_init(rng, (n_classes, hidden)), np.zeros(n_classes))),
    ])


def freeze(net, names):
    """Mark the named layers frozen: training leaves their parameters exactly as they are."""
    unknown = sorted(set(names) - set(net.layers))
    if unknown:
        raise ValueError(f"no layers named {unknown}; the network has {list(net.layers)}")
    net.frozen |= set(names)
    return net


def freeze_below(net, name):
    """Freeze every layer before `name`, and unfreeze `name` and everything after it."""
    if name not in net.layers:
        raise ValueError(f"no layer named {name!r}; the network has {list(net.layers)}")
    order = list(net.layers)
    net.frozen = set(order[:order.index(name)])
    return net


def replace_head(net, n_classes, seed=0):
    """Swap the last layer (a Dense) for a freshly initialised Dense with n_classes outputs."""
    name, head = list(net.layers.items())[-1]
    if not isinstance(head, Dense):
        raise ValueError(f"the last layer {name!r} is a {type(head).__name__}, not a Dense head")
    rng = np.random.default_rng(seed)
    n_classes = check_int("n_classes", n_classes, 1)
    net.layers[name] = Dense(he_init(rng, (n_classes, head.params["W"].shape[1])), np.zeros(n_classes))
    net.frozen.discard(name)
    return net


class SGD:
    """SGD with momentum, PyTorch's form: v <- momentum * v + grad;  p <- p - lr * v.

    Updates the arrays of `params` in place; one velocity per parameter, starting at zero.
    """

    def __init__(self, params, lr, momentum=0.9):
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads):
        for k, p in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v += grads[k]
            p -= self.lr * v


def minibatches(n, batch_size, rng):
    """Endless stream of index arrays: each epoch is a fresh permutation cut into batches."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]


def predict(net, x, batch_size=512):
    """Class scores for x: (N, 1, H, W) -> (N, K), in batches to bound memory."""
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    return np.concatenate([net.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def accuracy(net, x, y):
    """Fraction of x whose highest score is the label y."""
    return float(np.mean(predict(net, x).argmax(axis=1) == np.asarray(y)))


def train(net, x, y, *, steps, batch_size=32, lr=0.05, momentum=0.9, seed=0,
          x_eval=None, y_eval=None, eval_every=None, progress=None):
    """Train net's unfrozen layers on (x, y) with minibatch SGD + momentum, for `steps` updates.

    x: (N, C, H, W), y: (N,) ints. The seed fixes the batch order, so a run is reproducible.
    With x_eval, y_eval and eval_every, accuracy on the evaluation set is measured at step 0
    and every eval_every steps (and after the last). progress: True shows a tqdm bar, False
    hides it, None shows it only on a terminal.
    Returns {"loss": [loss of each step], "eval_step": [...], "eval_acc": [...]}.
    A non-finite loss stops training with a FloatingPointError.
    """
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    y = np.asarray(y)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    steps, batch_size = check_int("steps", steps, 1), check_int("batch_size", batch_size, 1)
    params = net.trainable()
    if not params:
        raise ValueError("every layer is frozen: there is nothing to train")
    optimizer = SGD(params, lr, momentum)
    batches = minibatches(len(x), batch_size, np.random.default_rng(seed))
    history = {"loss": [], "eval_step": [], "eval_acc": []}

    def evaluate(step):
        if eval_every and x_eval is not None:
            history["eval_step"].append(step)
            history["eval_acc"].append(accuracy(net, x_eval, y_eval))

    evaluate(0)
    for step in tqdm(range(1, steps + 1), desc="training", disable=None if progress is None else not progress,
                     leave=False):
        idx = next(batches)
        loss, dscores = softmax_cross_entropy(net.forward(x[idx]), y[idx])
        if not np.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss} at step {step}: the learning rate "
                                     f"{lr} is probably too large")
        net.backward(dscores)
        optimizer.step(net.grads())
        history["loss"].append(float(loss))
        if eval_every and (step % eval_every == 0 or step == steps):
            evaluate(step)
    return history
