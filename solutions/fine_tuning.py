"""Chapter 8: dense layers seen as convolutions, and the digits transfer task.

Pretraining uses digits 0-4, the target task is digits 5-9, both from scikit-learn's bundled
8x8 digits with fixed seeded splits (see source_split and target_split).
"""
import copy

import numpy as np

from ._checks import check_ndim, check_shape, float_dtype
from .layers import Conv, Dense, Flatten, Sequential

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = ["fc_to_conv"]


def fc_to_conv(W, b, in_shape):
    """A dense layer on flattened (C, H, W) inputs, rewritten as a conv layer.

    W: (K, C*H*W), b: (K,) -> (w: (K, C, H, W), b: (K,)). On a (C, H, W) input the conv
    gives one value per filter, the dense layer's output; on a larger input it slides.
    """
    W = check_ndim("W", W, 2, "(K, C*H*W)")
    try:
        C, H, Wd = (int(s) for s in in_shape)
    except (TypeError, ValueError):
        raise ValueError(f"in_shape must be (C, H, W), got {in_shape!r}") from None
    if W.shape[1] != C * H * Wd:
        raise ValueError(f"W has {W.shape[1]} inputs per unit, in_shape {tuple(in_shape)} "
                         f"flattens to {C * H * Wd}")
    b = np.asarray(b)
    check_shape("b", b, (W.shape[0],))
    dtype = float_dtype(W, b)
    return W.reshape(W.shape[0], C, H, Wd).astype(dtype), b.astype(dtype)


# --- The digits task: pretrain on 0-4, transfer to 5-9 -------------------------------------
SOURCE_DIGITS = (0, 1, 2, 3, 4)
TARGET_DIGITS = (5, 6, 7, 8, 9)
SPLIT_SEED = 2026


def load_digit_images():
    """scikit-learn's 1,797 bundled 8x8 digits, scaled to [0, 1]: x (1797, 1, 8, 8), y (1797,)."""
    # Imported here: scikit-learn takes a second to import and only this function needs it.
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0)[:, None], digits.target


def _split(digits, heldout_per_class=None, heldout_fraction=None):
    """Per-class seeded split of the chosen digits into (x_train, y_train, x_heldout, y_heldout).

    Labels become 0..len(digits)-1 in the order of `digits`. Each class loses
    heldout_per_class images (or round(heldout_fraction * its size)) to the held-out set.
    """
    x, y = load_digit_images()
    rng = np.random.default_rng(SPLIT_SEED)
    train, heldout = [], []
    for digit in digits:
        idx = rng.permutation(np.flatnonzero(y == digit))
        k = heldout_per_class if heldout_per_class is not None else round(heldout_fraction * len(idx))
        heldout.append(idx[:k])
        train.append(idx[k:])
    train, heldout = np.sort(np.concatenate(train)), np.sort(np.concatenate(heldout))
    relabel = np.full(10, -1)
    relabel[list(digits)] = np.arange(len(digits))
    return x[train], relabel[y[train]], x[heldout], relabel[y[heldout]]


def source_split():
    """Digits 0-4 (labels 0-4): 20% of each class held out. About 720 train / 180 held-out."""
    return _split(SOURCE_DIGITS, heldout_fraction=0.2)


def target_split():
    """Digits 5-9 (labels 0-4 stand for 5-9): 50 per class held out (250), the rest (646) train."""
    return _split(TARGET_DIGITS, heldout_per_class=50)


def few_labels(x, y, per_class, seed):
    """A seeded subset with per_class examples of every label (all of them if per_class is None)."""
    if per_class is None:
        return x, y
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        if per_class > len(idx):
            raise ValueError(f"label {label} has {len(idx)} examples, asked for {per_class}")
        keep.append(rng.choice(idx, size=per_class, replace=False))
    keep = np.sort(np.concatenate(keep))
    return x[keep], y[keep]


# --- Convolutionalizing a trained classifier ------------------------------------------------
def convolutionalize(net, in_shape):
    """A copy of net whose Dense layers are convs (via fc_to_conv) and with no Flatten, so it slides.

    in_shape: the (C, H, W) the network was trained on. A Dense layer that saw a (c, h, w)
    map becomes a conv with h x w filters; one that saw a vector of K becomes a 1x1 conv.
    On (N, C, H', W') inputs the copy returns a score map (N, K, Hout, Wout): the scores the
    original network gives each crop the map's positions stand for.
    """
    net = copy.deepcopy(net)
    probe = np.zeros((1, *in_shape))
    layers = []
    for name, layer in net.layers.items():
        if isinstance(layer, Flatten):
            continue
        if isinstance(layer, Dense):
            layer = Conv(*fc_to_conv(layer.params["W"], layer.params["b"], probe.shape[1:]))
        probe = layer.forward(probe)
        layers.append((name, layer))
    return Sequential(layers)


def save_params(path, params):
    """Write {"layer.param": array} to an .npz file."""
    np.savez(path, **params)


def load_params(path):
    """Read {"layer.param": array} from an .npz file."""
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
