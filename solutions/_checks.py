"""Argument checks shared by the reference functions.

Every public function validates its inputs here first, so that a wrong call fails with a
message that names the argument and what was expected, never with an error from inside numpy.
"""
import numbers

import numpy as np


def check_int(name, value, minimum):
    """Return value as an int, or raise ValueError unless it is an integer >= minimum."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_stride_pad(stride, pad):
    """Validate a (stride, pad) pair: stride >= 1, pad >= 0."""
    return check_int("stride", stride, 1), check_int("pad", pad, 0)


def check_ndim(name, a, ndim, layout=""):
    """Return a as an ndarray, or raise ValueError unless it has ndim dimensions."""
    a = np.asarray(a)
    if a.ndim != ndim:
        what = f" {layout}" if layout else ""
        raise ValueError(f"{name} must have {ndim} dimensions{what}, got shape {a.shape}")
    return a


def check_shape(name, a, shape):
    """Raise ValueError unless array a has exactly the given shape."""
    if a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {a.shape}")


def float_dtype(*arrays):
    """The float dtype the result keeps: np.result_type of the float inputs, else float64."""
    floats = [a for a in arrays if np.issubdtype(np.asarray(a).dtype, np.floating)]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def as_float(dtype, *arrays):
    """Return the arrays as ndarrays of dtype (no copy when they already are)."""
    return tuple(np.asarray(a, dtype=dtype) for a in arrays)


def output_size(n, k, stride=1, pad=0, dilation=1, what="input"):
    """floor((n + 2*pad - dilation*(k-1) - 1) / stride) + 1, or ValueError when < 1."""
    size = (n + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    if size < 1:
        raise ValueError(
            f"a window of {k} (dilation {dilation}) does not fit in an {what} of {n} "
            f"with pad {pad}: the output size would be {size}"
        )
    return size


def conv_shapes(x, w, b=None, stride=1, pad=0):
    """Check a conv layer's arguments and return (N, C, H, W, F, HH, WW, Hout, Wout).

    x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) or None.
    """
    stride, pad = check_stride_pad(stride, pad)
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    w = check_ndim("w", w, 4, "(F, C, HH, WW)")
    N, C, H, W = x.shape
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(f"w has {Cw} input channels, x has {C}")
    if b is not None:
        b = np.asarray(b)
        if b.shape != (F,):
            raise ValueError(f"b must have shape ({F},) for {F} filters, got {b.shape}")
    Hout = output_size(H, HH, stride, pad, what="input height")
    Wout = output_size(W, WW, stride, pad, what="input width")
    return N, C, H, W, F, HH, WW, Hout, Wout
