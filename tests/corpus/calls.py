"""Random arguments for every graded function, to compare two implementations.

CALLS[function](rng) returns a list of argument tuples that cover what students get wrong:
non-square inputs and kernels, stride > 1, pad > 0, overlapping windows, ties, random
gamma/beta/dout, float32.
"""
import numpy as np


def _x(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _conv(rng, dtype, N, C, H, W, F, HH, WW):
    return _x(rng, N, C, H, W, dtype=dtype), _x(rng, F, C, HH, WW, dtype=dtype), _x(rng, F, dtype=dtype)


def _conv_args(rng):
    return [(*_conv(rng, np.float64, 2, 3, 7, 6, 4, 3, 2), 1, 0),
            (*_conv(rng, np.float64, 2, 3, 8, 7, 4, 3, 2), 2, 1),
            (*_conv(rng, np.float32, 1, 2, 9, 8, 3, 3, 3), 3, 2)]


def _conv_backward_args(rng):
    cases = []
    for x, w, b, stride, pad in _conv_args(rng):
        Hout = (x.shape[2] + 2 * pad - w.shape[2]) // stride + 1
        Wout = (x.shape[3] + 2 * pad - w.shape[3]) // stride + 1
        dout = _x(rng, x.shape[0], w.shape[0], Hout, Wout, dtype=x.dtype)
        cases.append((dout, x, w, b, stride, pad))
    return cases


def _tied(rng, *shape, dtype=np.float64):
    # few distinct values, so that pooling windows have tied maxima
    return rng.integers(0, 3, shape).astype(dtype)


def _pool_args(rng):
    return [(_x(rng, 2, 3, 6, 8), 2, 2), (_tied(rng, 2, 2, 7, 6), 3, 2),
            (_x(rng, 1, 2, 5, 7, dtype=np.float32), 2, 1), (_tied(rng, 2, 2, 6, 6), 2, 2)]


def _pool_backward_args(rng):
    cases = []
    for x, pool, stride in _pool_args(rng):
        Ho, Wo = (x.shape[2] - pool) // stride + 1, (x.shape[3] - pool) // stride + 1
        cases.append((_x(rng, x.shape[0], x.shape[1], Ho, Wo, dtype=x.dtype), x, pool, stride))
    return cases


def _norm2d(rng, dtype=np.float64):
    return _x(rng, 6, 5, dtype=dtype) * 3 + 1, _x(rng, 5, dtype=dtype), _x(rng, 5, dtype=dtype)


def _norm4d(rng, C=4, dtype=np.float64):
    return _x(rng, 3, C, 4, 5, dtype=dtype) * 2 - 1, _x(rng, C, dtype=dtype), _x(rng, C, dtype=dtype)


def _norm_backward(rng, make):
    cases = []
    for dtype in (np.float64, np.float32):
        x, gamma, _ = make(rng, dtype=dtype)
        cases.append((_x(rng, *x.shape, dtype=dtype), x, gamma))
    return cases


def _numerical_gradient(rng):
    A = _x(rng, 3, 4)
    return [(lambda x: np.tanh(x) * 2, _x(rng, 3, 4), _x(rng, 3, 4)),
            (lambda x: A @ x, _x(rng, 4, 2), _x(rng, 3, 2))]


def _transpose_args(rng):
    return [(_x(rng, 2, 3, 4, 5), _x(rng, 3, 2, 3, 2), 1, 0), (_x(rng, 2, 3, 4, 5), _x(rng, 3, 2, 3, 3), 2, 1),
            (_x(rng, 1, 2, 3, 3, dtype=np.float32), _x(rng, 2, 4, 4, 4, dtype=np.float32), 3, 2)]


def _im2col_args(rng):
    return [(_x(rng, 2, 3, 7, 6), 3, 2, 1, 0), (_x(rng, 2, 3, 8, 7), 3, 2, 2, 1),
            (_x(rng, 1, 2, 9, 8, dtype=np.float32), 3, 3, 3, 2)]


def _col2im_args(rng):
    cases = []
    for x, HH, WW, stride, pad in _im2col_args(rng):
        Hout = (x.shape[2] + 2 * pad - HH) // stride + 1
        Wout = (x.shape[3] + 2 * pad - WW) // stride + 1
        cols = _x(rng, x.shape[1] * HH * WW, x.shape[0] * Hout * Wout, dtype=x.dtype)
        cases.append((cols, x.shape, HH, WW, stride, pad))
    return cases


CALLS = {
    "dense_param_count": lambda rng: [((3, 32, 32), 10), ((1, 28, 28), 100, False)],
    "conv_param_count": lambda rng: [(3, 16, 3), (16, 32, 5, False)],
    "locally_connected_param_count": lambda rng: [((3, 8, 10), 4, 3), ((2, 9, 7), 5, 3, 2, 1),
                                                  ((1, 6, 6), 2, 2, 2, 0, False)],
    "conv_as_matrix": lambda rng: [(_x(rng, 2, 3, 3, 2), (3, 5, 4)), (_x(rng, 2, 2, 3, 3), (2, 6, 5), 2, 1)],
    "corr2d": lambda rng: [(_x(rng, 6, 7), _x(rng, 3, 2)), (_x(rng, 5, 5, dtype=np.float32), _x(rng, 2, 4, dtype=np.float32))],
    "convolve2d": lambda rng: [(_x(rng, 6, 7), _x(rng, 3, 2)), (_x(rng, 5, 5, dtype=np.float32), _x(rng, 2, 4, dtype=np.float32))],
    "conv_forward_naive": _conv_args,
    "conv1x1": lambda rng: [(_x(rng, 2, 3, 4, 5), _x(rng, 4, 3), _x(rng, 4)),
                            (_x(rng, 1, 2, 3, 2, dtype=np.float32), _x(rng, 5, 2, dtype=np.float32), _x(rng, 5, dtype=np.float32))],
    "dilate": lambda rng: [(_x(rng, 2, 3, 3, 4), 2), (_x(rng, 3, 2), 3), (_x(rng, 2, 2, 3), 1)],
    "conv_output_size": lambda rng: [(7, 3), (8, 3, 2, 1), (10, 3, 3, 2, 2), (5, 2, 2, 0)],
    "same_padding": lambda rng: [(3,), (4,), (3, 2), (2, 3)],
    "zero_pad": lambda rng: [(_x(rng, 2, 3, 4, 5), 1), (_x(rng, 1, 2, 3, 3, dtype=np.float32), (2, 1))],
    "corr1d": lambda rng: [(_x(rng, 7), _x(rng, 3), m) for m in ("valid", "same", "full")]
                          + [(_x(rng, 6), _x(rng, 4), m) for m in ("valid", "same", "full")],
    "receptive_field": lambda rng: [([(3, 1), (3, 1)],), ([(3, 2), (3, 2), (5, 1)],), ([(7, 2), (3, 2), (3, 1), (2, 3)],)],
    "max_pool_forward": _pool_args,
    "avg_pool_forward": _pool_args,
    "max_pool_backward": _pool_backward_args,
    "avg_pool_backward": _pool_backward_args,
    "global_avg_pool": lambda rng: [(_x(rng, 2, 3, 4, 5),), (_x(rng, 1, 2, 3, 3, dtype=np.float32),)],
    "global_max_pool": lambda rng: [(_x(rng, 2, 3, 4, 5),), (_x(rng, 1, 2, 3, 3, dtype=np.float32),)],
    "upsample_nearest": lambda rng: [(_x(rng, 2, 3, 2, 3), 2), (_x(rng, 1, 1, 3, 2, dtype=np.float32), 3)],
    "upsample_bed_of_nails": lambda rng: [(_x(rng, 2, 3, 2, 3), 2), (_x(rng, 1, 1, 3, 2, dtype=np.float32), 3)],
    "max_unpool": lambda rng: [(_x(rng, 2, 3, 3, 4), _x(rng, 2, 3, 6, 8), 2, 2),
                               (_x(rng, 2, 2, 2, 2), _tied(rng, 2, 2, 7, 6), 3, 3)],
    "batchnorm_forward": lambda rng: [_norm2d(rng), _norm2d(rng, np.float32)],
    "update_running_stats": lambda rng: [(_x(rng, 5), rng.random(5) + 0.5, _x(rng, 5), rng.random(5) + 0.5, 8),
                                         (_x(rng, 3), rng.random(3) + 0.5, _x(rng, 3), rng.random(3), 60, 0.3)],
    "batchnorm_inference": lambda rng: [(*_norm2d(rng), _x(rng, 5), rng.random(5) + 0.5)],
    "batchnorm_backward": lambda rng: _norm_backward(rng, _norm2d),
    "spatial_batchnorm_forward": lambda rng: [_norm4d(rng), _norm4d(rng, dtype=np.float32)],
    "spatial_batchnorm_backward": lambda rng: _norm_backward(rng, _norm4d),
    "layernorm_forward": lambda rng: [_norm2d(rng), _norm2d(rng, np.float32)],
    "layernorm_backward": lambda rng: _norm_backward(rng, _norm2d),
    "groupnorm_forward": lambda rng: [(*_norm4d(rng, 6), g) for g in (1, 2, 3, 6)],
    "instancenorm_forward": lambda rng: [_norm4d(rng), _norm4d(rng, dtype=np.float32)],
    "numerical_gradient": _numerical_gradient,
    "conv_backward_naive": _conv_backward_args,
    "conv_transpose_forward": _transpose_args,
    "im2col": _im2col_args,
    "col2im": _col2im_args,
    "conv_forward_im2col": _conv_args,
    "conv_backward_im2col": _conv_backward_args,
    "fc_to_conv": lambda rng: [(_x(rng, 4, 3 * 2 * 5), _x(rng, 4), (3, 2, 5)),
                               (_x(rng, 2, 12, dtype=np.float32), _x(rng, 2, dtype=np.float32), (1, 3, 4))],
}
