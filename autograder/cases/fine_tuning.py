"""Cases of ch08_fine_tuning: fc_to_conv.

The chapter's outcome-graded fine-tuning task is not compared with a reference: its cases
plug in with autograder.cases.register("ch08_fine_tuning", name, builder), builder returning
Case objects whose `check(case, caller)` returns (passed, message), and a points entry in
autograder/points.py.
"""
import numpy as np

from . import Case, normal


def _hwc(W, b, in_shape):
    C, H, Wd = in_shape
    return W.reshape(W.shape[0], H, Wd, C).transpose(0, 3, 1, 2), b


def _hwc_unpermuted(W, b, in_shape):
    C, H, Wd = in_shape
    return W.reshape(W.shape[0], H, Wd, C), b


def _fc_to_conv(rng):
    grid = [(4, (3, 2, 5), np.float64), (2, (1, 4, 4), np.float32), (5, (2, 3, 3), np.float64)]
    return [Case("fc_to_conv", f"K{K}_in{'x'.join(map(str, s))}_{np.dtype(dt)}",
                 (normal(rng, (K, int(np.prod(s))), dt), normal(rng, (K,), dt), s), outputs=("w", "b"),
                 mistakes=[("hwc_order", _hwc), ("hwc_order", _hwc_unpermuted)])
            for K, s, dt in grid]


BUILDERS = {"fc_to_conv": _fc_to_conv}
