"""Cases of ch01_motivation: parameter counts and the convolution as a dense matrix."""
import numpy as np

import solutions as ref

from . import Case, normal


def _dense(rng):
    grid = [((3, 32, 32), 10, True), ((1, 28, 28), 100, False), ((16, 7, 5), 3, True), ((2, 5, 9), 7, True)]
    return [Case("dense_param_count", f"in{'x'.join(map(str, s))}_units{u}_bias{b}", (s, u), {"bias": b},
                 mistakes=[("bias_ignored", lambda s, u, bias=True: ref.dense_param_count(s, u, False))])
            for s, u, b in grid]


def _conv(rng):
    grid = [(3, 16, 3, True), (16, 8, 5, False), (1, 4, 1, True), (7, 3, 3, True)]
    return [Case("conv_param_count", f"cin{c}_cout{f}_k{k}_bias{b}", (c, f, k), {"bias": b},
                 mistakes=[("bias_ignored", lambda c, f, k, bias=True: ref.conv_param_count(c, f, k, False))])
            for c, f, k, b in grid]


def _shared_bias(in_shape, c_out, k, stride=1, pad=0, bias=True):
    weights = ref.locally_connected_param_count(in_shape, c_out, k, stride, pad, False)
    return weights + (c_out if bias else 0)


def _locally_connected(rng):
    grid = [((3, 8, 8), 4, 3, 1, 0, True), ((2, 9, 7), 3, 3, 2, 1, True),
            ((1, 6, 5), 2, 2, 1, 0, False), ((4, 10, 10), 5, 3, 3, 1, True)]
    return [Case("locally_connected_param_count", f"in{'x'.join(map(str, s))}_k{k}_s{st}_p{p}_bias{b}",
                 (s, f, k), {"stride": st, "pad": p, "bias": b}, mistakes=[("shared_bias", _shared_bias)])
            for s, f, k, st, p, b in grid]


def _conv_as_matrix(rng):
    grid = [((2, 3, 3, 3), (3, 5, 6), 1, 0, np.float64), ((2, 2, 3, 2), (2, 6, 5), 2, 1, np.float64),
            ((3, 1, 2, 2), (1, 4, 4), 1, 1, np.float64), ((2, 3, 3, 3), (3, 7, 5), 2, 0, np.float32)]
    cases = []
    for w_shape, in_shape, stride, pad, dtype in grid:
        w = normal(rng, w_shape, dtype)
        cases.append(Case("conv_as_matrix", f"w{'x'.join(map(str, w_shape))}_s{stride}_p{pad}_{np.dtype(dtype)}",
                          (w, in_shape), {"stride": stride, "pad": pad},
                          mistakes=[("matrix_transposed", lambda w, s, stride=1, pad=0:
                                     ref.conv_as_matrix(w, s, stride, pad).T)]))
    return cases


BUILDERS = {"dense_param_count": _dense, "conv_param_count": _conv,
            "locally_connected_param_count": _locally_connected, "conv_as_matrix": _conv_as_matrix}
