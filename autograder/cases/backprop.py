"""Cases of ch06_backprop: numerical gradients, the conv layer's backward pass, transposed conv.

Backward functions are compared with the reference's gradients, not only gradient-checked:
a wrong forward with a matching backward would pass a gradient check.
"""
import numpy as np

import solutions as ref

from ..probes import build
from ..protocol import Probe
from . import Case, normal, only_where_windows_overlap, window_coverage
from .convolution import CONV_GRID, conv_case_name, conv_inputs


def _forward_difference(f, x, dout, h=1e-5):
    f = build(f.name, f.args)
    dx, x = np.zeros_like(x), x.copy()
    base = np.sum(f(x) * dout)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        dx[index] = (np.sum(f(x) * dout) - base) / h
        x[index] = old
    return dx


def _numerical_gradient(rng):
    grid = [(Probe("tanh_affine", [normal(rng, (4, 3)), normal(rng, (3,))]), (5, 4), (5, 3), 1e-3),
            (Probe("cubic", [0.7]), (3, 4), (3, 4), 1e-3),
            (Probe("coupled_sin", [1.3]), (2, 3, 4), (2, 3, 4), 1e-4),
            (Probe("tanh_affine", [normal(rng, (6, 2)), normal(rng, (2,))]), (2, 6), (2, 2), None)]
    cases = []
    for probe, x_shape, out_shape, h in grid:
        kwargs = {} if h is None else {"h": h}
        cases.append(Case("numerical_gradient", f"{probe.name}_x{'x'.join(map(str, x_shape))}_h{h or 'default'}",
                          (probe, normal(rng, x_shape), normal(rng, out_shape)), kwargs,
                          mistakes=[("forward_difference", _forward_difference),
                                    ("ignores_dout", lambda f, x, dout, h=1e-5: ref.numerical_gradient(
                                        build(f.name, f.args), x.copy(), np.ones_like(dout), h))],
                          outputs=("dx",), mutation_id="x_not_restored"))
    return cases


def conv_backward_variant(dout, x, w, b, stride=1, pad=0, *, step=None, overwrite=False, crop=True):
    """A loop conv backward with one rule changed: window step, dx overwriting, or no crop."""
    step = stride if step is None else step
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp, dtype=np.result_type(dout, x)), np.zeros(w.shape, np.result_type(dout, w))
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows, cols = slice(i * step, i * step + HH), slice(j * step, j * step + WW)
                    if rows.stop > xp.shape[2] or cols.stop > xp.shape[3]:
                        continue
                    if overwrite:
                        dxp[n, :, rows, cols] = dout[n, f, i, j] * w[f]
                    else:
                        dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
    dx = dxp[:, :, pad:pad + H, pad:pad + W] if crop else dxp
    return dx, dw, dout.sum(axis=(0, 2, 3))


CONV_BACKWARD_MISTAKES = [
    ("dw_last_sample", lambda d, x, w, b, stride=1, pad=0: (
        None, ref.conv_backward_naive(d[-1:], x[-1:], w, b, stride, pad)[1], None)),
    ("dw_mean_batch", lambda d, x, w, b, stride=1, pad=0: (
        None, ref.conv_backward_naive(d, x, w, b, stride, pad)[1] / x.shape[0], None)),
    ("db_mean", lambda d, x, w, b, stride=1, pad=0: (None, None, d.sum(axis=(0, 2, 3)) / x.shape[0])),
    ("db_mean", lambda d, x, w, b, stride=1, pad=0: (None, None, d.mean(axis=(0, 2, 3)))),
    ("dx_overwrite", lambda d, x, w, b, stride=1, pad=0: conv_backward_variant(d, x, w, b, stride, pad,
                                                                               overwrite=True)),
    ("backward_ignores_stride", lambda d, x, w, b, stride=1, pad=0: conv_backward_variant(d, x, w, b, stride, pad,
                                                                                          step=1)),
    ("dx_overwrite", lambda d, x, w, b, stride=1, pad=0: (only_where_windows_overlap(
        ref.conv_backward_naive(d, x, w, b, stride, pad)[0],
        window_coverage(x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, pad)), None, None)),
    ("dx_not_cropped", lambda d, x, w, b, stride=1, pad=0: conv_backward_variant(d, x, w, b, stride, pad,
                                                                                 crop=False)),
]


def conv_backward_cases(function, rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID:
        x, w, b = conv_inputs(rng, x_shape, w_shape, dtype)
        Hout = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
        Wout = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
        dout = normal(rng, (x_shape[0], w_shape[0], Hout, Wout), dtype)
        N = x_shape[0]
        cases.append(Case(function, conv_case_name(x_shape, w_shape, stride, pad, dtype), (dout, x, w, b),
                          {"stride": stride, "pad": pad}, mistakes=CONV_BACKWARD_MISTAKES, pad=pad,
                          outputs=("dx", "dw", "db"), factors={"N": N, "1/N": 1 / N},
                          reference=getattr(ref, function)))
    return cases


def _conv_transpose(rng):
    grid = [((2, 3, 4, 5), (3, 2, 3, 3), 1, 0, np.float64), ((1, 2, 3, 4), (2, 3, 3, 2), 2, 1, np.float64),
            ((2, 2, 3, 3), (2, 2, 4, 4), 2, 1, np.float32), ((1, 3, 2, 3), (3, 2, 2, 3), 3, 0, np.float64)]
    cases = []
    for x_shape, w_shape, stride, pad, dtype in grid:
        x, w = normal(rng, x_shape, dtype), normal(rng, w_shape, dtype)
        cases.append(Case("conv_transpose_forward", conv_case_name(x_shape, w_shape, stride, pad, dtype), (x, w),
                          {"stride": stride, "pad": pad}, pad=pad, mistakes=[
                              ("transpose_kernel_flipped", lambda x, w, stride=1, pad=0: ref.conv_transpose_forward(
                                  x, w[:, :, ::-1, ::-1], stride, pad)),
                              ("transpose_no_crop", lambda x, w, stride=1, pad=0: ref.conv_transpose_forward(
                                  x, w, stride, 0))]))
    return cases


BUILDERS = {"numerical_gradient": _numerical_gradient,
            "conv_backward_naive": lambda rng: conv_backward_cases("conv_backward_naive", rng),
            "conv_transpose_forward": _conv_transpose}
