"""The contract's speed baselines for the im2col chapter: one numpy operation per output value.

The grader times them in its own process, with one BLAS thread as in the worker, on the same
inputs as the student's call (timed from outside the sandbox), and compares the times: a
ratio, so the machine's speed cancels out.
"""
import numpy as np


def conv_forward_per_value(x, w, b, stride=1, pad=0):
    """out[n, f, i, j] = np.sum(window * w[f]) + b[f], one np.sum per output value."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Hout, Wout = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    out = np.empty((N, F, Hout, Wout), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def conv_backward_per_value(dout, x, w, b, stride=1, pad=0):
    """dx, dw, db of a conv, with one window update of dx and of dw per output value."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Hout, Wout = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


BASELINES = {"conv_forward_im2col": conv_forward_per_value,
             "conv_backward_im2col": conv_backward_per_value}
