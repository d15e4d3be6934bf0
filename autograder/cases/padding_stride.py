"""Cases of ch03_padding_stride: output sizes, same padding, zero_pad, corr1d, receptive fields."""
import math

import numpy as np

import solutions as ref

from . import Case, normal


def _output_size(rng):
    # (7, 2, 2, 0) and (10, 4, 3, 1) are not exact divisions: rounding up shows there.
    grid = [(32, 3, 1, 1, 1), (7, 2, 2, 0, 1), (10, 4, 3, 1, 1), (15, 3, 2, 2, 2), (9, 3, 2, 0, 1)]

    def ceil(n, k, stride=1, pad=0, dilation=1):
        return math.ceil((n + 2 * pad - dilation * (k - 1) - 1) / stride) + 1

    def no_plus_one(n, k, stride=1, pad=0, dilation=1):
        return (n + 2 * pad - dilation * (k - 1) - 1) // stride

    return [Case("conv_output_size", f"n{n}_k{k}_s{s}_p{p}_d{d}", (n, k),
                 {"stride": s, "pad": p, "dilation": d},
                 mistakes=[("output_size_ceil", ceil), ("output_size_no_plus_one", no_plus_one)])
            for n, k, s, p, d in grid]


def _same_padding(rng):
    grid = [(3, 1), (4, 1), (5, 2), (2, 3), (6, 1)]

    def extra_before(k, dilation=1):
        return tuple(reversed(ref.same_padding(k, dilation)))

    return [Case("same_padding", f"k{k}_d{d}", (k,), {"dilation": d}, mistakes=[("extra_before", extra_before)])
            for k, d in grid]


def _zero_pad(rng):
    grid = [((2, 3, 4, 5), 1, np.float64), ((1, 2, 3, 6), (2, 1), np.float64),
            ((2, 1, 3, 3), 0, np.float64), ((1, 2, 5, 4), 2, np.float32)]

    def pads_all_axes(x, pad):
        return np.pad(x, pad if isinstance(pad, int) else max(pad))

    return [Case("zero_pad", f"x{'x'.join(map(str, s))}_pad{p}_{np.dtype(dt)}", (normal(rng, s, dt), p),
                 mistakes=[("pads_all_axes", pads_all_axes)], pad=p if isinstance(p, int) else 0)
            for s, p, dt in grid]


def _corr1d_padded(x, k, before, after):
    return ref.corr1d(np.pad(x, (before, after)), k, "valid")


def _same_extra_before(x, k, mode):
    before, after = ref.same_padding(len(k))
    return _corr1d_padded(x, k, after, before) if mode == "same" else ref.corr1d(x, k, mode)


def _full_pads_k(x, k, mode):
    return _corr1d_padded(x, k, len(k), len(k)) if mode == "full" else ref.corr1d(x, k, mode)


def _corr1d(rng):
    grid = [(9, 3, "valid"), (8, 4, "same"), (7, 3, "same"), (6, 2, "full"), (10, 3, "full")]
    return [Case("corr1d", f"x{n}_k{m}_{mode}", (normal(rng, (n,)), normal(rng, (m,)), mode),
                 mistakes=[("same_extra_before", _same_extra_before), ("full_pads_k", _full_pads_k)])
            for n, m, mode in grid]


def _receptive_field(rng):
    grid = [[(3, 1), (3, 1), (3, 1)], [(7, 2), (3, 2), (3, 1), (5, 2)], [(5, 1), (2, 2), (3, 3)],
            [(3, 2), (3, 2), (3, 2)]]

    def ignores_stride(layers):
        return list(np.cumsum([layers[0][0]] + [k - 1 for k, _ in layers[1:]]).tolist())

    def multiplies_kernels(layers):
        return list(np.cumprod([k for k, _ in layers]).tolist())

    return [Case("receptive_field", "_".join(f"k{k}s{s}" for k, s in layers), (layers,),
                 mistakes=[("ignores_stride", ignores_stride), ("multiplies_kernels", multiplies_kernels)])
            for layers in grid]


BUILDERS = {"conv_output_size": _output_size, "same_padding": _same_padding, "zero_pad": _zero_pad,
            "corr1d": _corr1d, "receptive_field": _receptive_field}

# Arguments the task says are a ValueError: (why, args, kwargs) built from the case's generator.
INVALID = {
    "conv_output_size": lambda rng: [
        ("the window does not fit", (3, 5), {}), ("stride < 1", (8, 3), {"stride": 0}),
        ("pad < 0", (8, 3), {"pad": -1}), ("k < 1", (8, 0), {}), ("dilation < 1", (8, 3), {"dilation": 0}),
    ],
    "corr1d": lambda rng: [("an unknown mode", (normal(rng, (6,)), normal(rng, (3,)), "causal"), {})],
}
