"""Cases of ch07_im2col: im2col, col2im, and the fast conv layer (values and speed)."""
import numpy as np

import solutions as ref

from . import Case, normal, only_where_windows_overlap, window_coverage
from .backprop import conv_backward_cases
from .convolution import CONV_GRID, conv_case_name, conv_forward_cases

SPEED_X, SPEED_W = (8, 16, 16, 16), (16, 16, 3, 3)
SPEED_RATIO = 10.0


def _row_order(x, HH, WW, stride=1, pad=0):
    cols = ref.im2col(x, HH, WW, stride, pad)
    C = x.shape[1]
    return cols.reshape(C, HH, WW, -1).transpose(1, 2, 0, 3).reshape(cols.shape)


def _col_order(x, HH, WW, stride=1, pad=0):
    cols = ref.im2col(x, HH, WW, stride, pad)
    N = x.shape[0]
    Hout, Wout = (x.shape[2] + 2 * pad - HH) // stride + 1, (x.shape[3] + 2 * pad - WW) // stride + 1
    return cols.reshape(-1, N, Hout, Wout).transpose(0, 2, 3, 1).reshape(cols.shape)


def _col2im_assign(cols, x_shape, HH, WW, stride=1, pad=0):
    N, C, H, W = x_shape
    Hout, Wout = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    blocks = cols.reshape(C, HH, WW, N, Hout, Wout)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for i in range(Hout):
        for j in range(Wout):
            dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] = \
                blocks[:, :, :, :, i, j].transpose(3, 0, 1, 2)
    return dxp[:, :, pad:pad + H, pad:pad + W]


def _col2im_overlap(cols, x_shape, HH, WW, stride=1, pad=0):
    return only_where_windows_overlap(ref.col2im(cols, x_shape, HH, WW, stride, pad),
                                      window_coverage(x_shape[2], x_shape[3], HH, WW, stride, pad))


def _im2col(rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID[:4]:
        x = normal(rng, x_shape, dtype)
        cases.append(Case("im2col", conv_case_name(x_shape, w_shape, stride, pad, dtype),
                          (x, w_shape[2], w_shape[3]), {"stride": stride, "pad": pad},
                          mistakes=[("row_order", _row_order), ("col_order", _col_order)], outputs=("cols",)))
    return cases


def _col2im(rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID[:4]:
        HH, WW = w_shape[2:]
        Hout, Wout = (x_shape[2] + 2 * pad - HH) // stride + 1, (x_shape[3] + 2 * pad - WW) // stride + 1
        cols = normal(rng, (x_shape[1] * HH * WW, x_shape[0] * Hout * Wout), dtype)
        cases.append(Case("col2im", conv_case_name(x_shape, w_shape, stride, pad, dtype),
                          (cols, x_shape, HH, WW), {"stride": stride, "pad": pad}, pad=pad, outputs=("dx",),
                          mistakes=[("col2im_assign", _col2im_assign), ("col2im_assign", _col2im_overlap)]))
    return cases


def _speed_args(function, rng):
    args = (normal(rng, SPEED_X), normal(rng, SPEED_W), normal(rng, SPEED_W[:1]))
    if function == "conv_backward_im2col":
        args = (normal(rng, (SPEED_X[0], SPEED_W[0]) + SPEED_X[2:]),) + args
    return args


def speed_case(function, rng):
    """The contract's speed test: >= SPEED_RATIO times the per-output-value baseline, best of 3
    timings, each on new inputs."""
    return Case(function, "speed_x8x16x16x16_w16x16x3x3_s1_p1", _speed_args(function, rng), {"stride": 1, "pad": 1},
                kind="speed", outputs=("out",) if function == "conv_forward_im2col" else ("dx", "dw", "db"),
                reference=getattr(ref, function), timing=[_speed_args(function, rng) for _ in range(3)])


BUILDERS = {"im2col": _im2col, "col2im": _col2im,
            "conv_forward_im2col": lambda rng: conv_forward_cases("conv_forward_im2col", rng)[:4] + [
                speed_case("conv_forward_im2col", rng)],
            "conv_backward_im2col": lambda rng: conv_backward_cases("conv_backward_im2col", rng)[:4] + [
                speed_case("conv_backward_im2col", rng)]}
