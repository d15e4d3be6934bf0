"""Chapter 8: fine-tuning, and dense layers seen as convolutions."""
import numpy as np

from ._checks import check_ndim, check_shape, float_dtype


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
