"""Chapter 3: padding, stride, output sizes and receptive fields."""
import numpy as np

from ._checks import check_int, check_ndim, float_dtype, output_size

# The graded functions of this chapter (solutions/__init__.py exports them).
__all__ = ["conv_output_size", "corr1d", "receptive_field", "same_padding", "zero_pad"]


def conv_output_size(n, k, stride=1, pad=0, dilation=1):
    """Number of positions a k-wide window (dilated by dilation) takes along an n-wide axis.

    floor((n + 2*pad - dilation*(k-1) - 1) / stride) + 1; ValueError when that is < 1.
    """
    n = check_int("n", n, 1)
    k = check_int("k", k, 1)
    stride = check_int("stride", stride, 1)
    pad = check_int("pad", pad, 0)
    dilation = check_int("dilation", dilation, 1)
    return output_size(n, k, stride, pad, dilation)


def same_padding(k, dilation=1):
    """(before, after) zero padding that keeps the size at stride 1.

    The total is dilation*(k-1); when it is odd (even kernels) the extra zero goes after.
    """
    k = check_int("k", k, 1)
    dilation = check_int("dilation", dilation, 1)
    total = dilation * (k - 1)
    return total // 2, total - total // 2


def zero_pad(x, pad):
    """Zero-pad the two spatial axes of x.

    x: (N, C, H, W) -> (N, C, H + 2*pad_h, W + 2*pad_w); pad is an int or (pad_h, pad_w).
    """
    x = check_ndim("x", x, 4, "(N, C, H, W)")
    if isinstance(pad, (tuple, list)):
        if len(pad) != 2:
            raise ValueError(f"pad must be an int or a pair (pad_h, pad_w), got {pad!r}")
        ph, pw = (check_int("pad", p, 0) for p in pad)
    else:
        ph = pw = check_int("pad", pad, 0)
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def corr1d(x, k, mode):
    """1D cross-correlation y[i] = sum_j x_padded[i + j] * k[j].

    x: (n,), k: (m,). mode "valid" pads nothing -> (n - m + 1,); "same" pads
    same_padding(m) -> (n,); "full" pads m - 1 on each side -> (n + m - 1,).
    """
    x = check_ndim("x", x, 1)
    k = check_ndim("k", k, 1)
    if k.size == 0:
        raise ValueError("k must not be empty")
    m = k.size
    if mode == "valid":
        before, after = 0, 0
    elif mode == "same":
        before, after = same_padding(m)
    elif mode == "full":
        before, after = m - 1, m - 1
    else:
        raise ValueError(f"mode must be 'valid', 'same' or 'full', got {mode!r}")
    dtype = float_dtype(x, k)
    xp = np.pad(x.astype(dtype, copy=False), (before, after))
    if xp.size < m:
        raise ValueError(f"a kernel of length {m} does not fit in x of length {x.size} ({mode!r})")
    windows = np.lib.stride_tricks.sliding_window_view(xp, m)
    return windows @ k.astype(dtype, copy=False)


def receptive_field(layers):
    """Receptive field width after each layer of a stack of (kernel, stride) layers.

    layers: [(k_1, s_1), (k_2, s_2), ...] from the input upward. Entry i is the input width
    seen by one unit after layer i+1: r_0 = k_1, r_i = r_{i-1} + (k_{i+1} - 1) * s_1 * ... * s_i.
    """
    fields, r, jump = [], 1, 1
    for index, layer in enumerate(layers):
        try:
            k, s = layer
        except (TypeError, ValueError):
            raise ValueError(f"layer {index} must be a (kernel, stride) pair, got {layer!r}") from None
        k = check_int(f"kernel of layer {index}", k, 1)
        s = check_int(f"stride of layer {index}", s, 1)
        r += (k - 1) * jump
        jump *= s
        fields.append(r)
    return fields
