"""Chapter 8 (fine-tuning): a dense layer rewritten as a convolution (fc_to_conv)."""
import numpy as np
import pytest

import oracles
from solutions import fc_to_conv


def dense(x, W, b):
    """The dense layer on flattened (C, H, W) images, written out as dot products."""
    return np.array([[np.dot(W[k], x[n].ravel()) + b[k] for k in range(W.shape[0])] for n in range(x.shape[0])])


def test_fc_to_conv_gives_k_filters_of_the_input_shape(rng):
    w, b = fc_to_conv(rng.standard_normal((5, 3 * 4 * 2)), rng.standard_normal(5), (3, 4, 2))
    assert w.shape == (5, 3, 4, 2)
    assert b.shape == (5,)


def test_fc_to_conv_on_the_training_size_gives_the_dense_output(rng):
    C, H, W, K = 3, 4, 5, 6
    Wd, bd = rng.standard_normal((K, C * H * W)), rng.standard_normal(K)
    x = rng.standard_normal((2, C, H, W))
    w, b = fc_to_conv(Wd, bd, (C, H, W))
    out = oracles.conv(x, w, b)
    assert out.shape == (2, K, 1, 1)
    np.testing.assert_allclose(out[:, :, 0, 0], dense(x, Wd, bd), rtol=1e-10, atol=1e-12)


def test_fc_to_conv_slides_over_a_larger_image(rng):
    C, H, W, K = 2, 3, 3, 4
    Wd, bd = rng.standard_normal((K, C * H * W)), rng.standard_normal(K)
    big = rng.standard_normal((1, C, H + 2, W + 3))
    w, b = fc_to_conv(Wd, bd, (C, H, W))
    out = oracles.conv(big, w, b)
    assert out.shape == (1, K, 3, 4)
    # Each output position is the dense layer applied to the crop under it.
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(out[:, :, i, j], dense(big[:, :, i:i + H, j:j + W], Wd, bd),
                                       rtol=1e-10, atol=1e-12)


def test_fc_to_conv_slides_with_the_stride_of_the_layers_below(rng):
    # A classifier head after a stride-2 stage: sliding it at stride 2 reads crops 2 apart.
    C, H, W, K = 1, 2, 2, 3
    Wd, bd = rng.standard_normal((K, C * H * W)), rng.standard_normal(K)
    big = rng.standard_normal((1, C, 6, 6))
    w, b = fc_to_conv(Wd, bd, (C, H, W))
    out = oracles.conv(big, w, b, stride=2)
    np.testing.assert_allclose(out[:, :, 1, 2], dense(big[:, :, 2:4, 4:6], Wd, bd), rtol=1e-10, atol=1e-12)


def test_fc_to_conv_keeps_float32(rng):
    w, b = fc_to_conv(rng.standard_normal((2, 12)).astype(np.float32), np.zeros(2, np.float32), (3, 2, 2))
    assert w.dtype == b.dtype == np.float32


def test_fc_to_conv_does_not_modify_the_dense_weights(rng):
    Wd, bd = rng.standard_normal((2, 12)), rng.standard_normal(2)
    copies = Wd.copy(), bd.copy()
    w, b = fc_to_conv(Wd, bd, (3, 2, 2))
    w += 1.0
    b += 1.0
    np.testing.assert_array_equal(Wd, copies[0])
    np.testing.assert_array_equal(bd, copies[1])


def test_fc_to_conv_rejects_an_in_shape_that_does_not_flatten_to_the_inputs():
    with pytest.raises(ValueError, match="W has 12 inputs per unit, in_shape \\(3, 2, 3\\) flattens to 18"):
        fc_to_conv(np.ones((2, 12)), np.zeros(2), (3, 2, 3))


def test_fc_to_conv_rejects_a_bias_of_the_wrong_length():
    with pytest.raises(ValueError, match="b must have shape"):
        fc_to_conv(np.ones((2, 12)), np.zeros(3), (3, 2, 2))


def test_fc_to_conv_rejects_a_two_axis_in_shape():
    with pytest.raises(ValueError, match="in_shape must be"):
        fc_to_conv(np.ones((2, 12)), np.zeros(2), (3, 4))
