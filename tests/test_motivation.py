"""Chapter 1 (motivation): parameter counts and the convolution as a dense matrix."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import oracles
from solutions import (conv_as_matrix, conv_forward_naive, conv_param_count, dense_param_count,
                       locally_connected_param_count)


# dense_param_count --------------------------------------------------------------------

def test_dense_param_count_on_cifar_image_to_100_units():
    # 3*32*32 = 3072 inputs per unit, 100 units, 100 biases.
    assert dense_param_count((3, 32, 32), 100) == 307_300


def test_dense_param_count_without_bias_counts_only_weights():
    assert dense_param_count((3, 32, 32), 100, bias=False) == 307_200


def test_dense_param_count_on_alexnet_input_is_hundreds_of_millions():
    # The chapter's point: one dense layer of 4096 units on a 227x227x3 image.
    # 154_587 inputs * 4096 units + 4096 biases.
    assert dense_param_count((3, 227, 227), 4096) == 633_192_448


def test_dense_param_count_rejects_a_two_axis_in_shape():
    with pytest.raises(ValueError, match="in_shape"):
        dense_param_count((32, 32), 10)


def test_dense_param_count_rejects_zero_units():
    with pytest.raises(ValueError, match="units"):
        dense_param_count((3, 32, 32), 0)


# conv_param_count ---------------------------------------------------------------------

def test_conv_param_count_of_alexnet_conv1_is_34944():
    # 96 filters of 11x11x3 plus 96 biases: the figure quoted for AlexNet's first layer.
    assert conv_param_count(3, 96, 11) == 34_944


def test_conv_param_count_of_vgg_3x3_64_to_64_is_36928():
    # VGG16 block1_conv2, as printed by Keras' model summary.
    assert conv_param_count(64, 64, 3) == 36_928


def test_conv_param_count_without_bias_counts_only_weights():
    assert conv_param_count(3, 96, 11, bias=False) == 34_848


def test_conv_param_count_does_not_depend_on_image_size():
    # Weight sharing: the same count whatever the input, unlike the dense layer.
    assert conv_param_count(3, 16, 5) == 16 * 3 * 5 * 5 + 16


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True])
def test_conv_param_count_rejects_a_kernel_that_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="k"):
        conv_param_count(3, 8, bad)


# locally_connected_param_count ---------------------------------------------------------

def test_locally_connected_param_count_worked_example():
    # (1, 4, 4) input, 3x3 windows -> 2x2 positions, 2 output channels: 8 units of 9 weights + 1 bias.
    assert locally_connected_param_count((1, 4, 4), 2, 3) == 80


@pytest.mark.parametrize("in_shape, c_out, k, stride, pad, bias", [
    ((3, 8, 8), 4, 3, 1, 0, True),
    ((2, 7, 5), 3, 2, 2, 1, True),
    ((1, 9, 6), 2, 4, 3, 2, False),
    ((3, 5, 5), 1, 5, 1, 0, True),
])
def test_locally_connected_param_count_matches_counting_every_output_unit(in_shape, c_out, k, stride, pad, bias):
    expected = oracles.locally_connected_param_count(in_shape, c_out, k, stride, pad, bias)
    assert locally_connected_param_count(in_shape, c_out, k, stride, pad, bias) == expected


def test_locally_connected_layer_has_one_conv_layer_per_output_position():
    # Without sharing, the count is the conv layer's times the number of output positions.
    assert locally_connected_param_count((3, 10, 10), 8, 3) == 8 * 8 * conv_param_count(3, 8, 3)


def test_locally_connected_param_count_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match="does not fit"):
        locally_connected_param_count((3, 4, 4), 2, 5)


# conv_as_matrix -------------------------------------------------------------------------

@pytest.mark.parametrize("in_shape, F, HH, WW, stride, pad", [
    ((1, 4, 4), 1, 3, 3, 1, 0),
    ((2, 5, 7), 3, 3, 2, 1, 0),
    ((3, 6, 5), 2, 2, 4, 2, 1),
    ((2, 7, 7), 2, 3, 3, 3, 2),
])
def test_conv_as_matrix_times_flat_image_equals_brute_force_conv(rng, in_shape, F, HH, WW, stride, pad):
    x = rng.standard_normal(in_shape)
    w = rng.standard_normal((F, in_shape[0], HH, WW))
    M = conv_as_matrix(w, in_shape, stride, pad)
    expected = oracles.conv(x[None], w, np.zeros(F), stride, pad).ravel()
    np.testing.assert_allclose(M @ x.ravel(), expected, rtol=1e-10, atol=1e-12)


def test_conv_as_matrix_agrees_with_conv_forward_naive_as_the_contract_states(rng):
    x = rng.standard_normal((2, 6, 5))
    w = rng.standard_normal((3, 2, 3, 2))
    M = conv_as_matrix(w, x.shape, stride=2, pad=1)
    expected = conv_forward_naive(x[None], w, np.zeros(3), 2, 1).ravel()
    np.testing.assert_allclose(M @ x.ravel(), expected, rtol=1e-10, atol=1e-12)


def test_conv_as_matrix_has_one_row_per_output_and_one_column_per_input():
    w = np.ones((4, 3, 3, 3))
    # (3, 8, 6) with a 3x3 kernel, stride 1, no pad: 6 x 4 outputs per filter.
    assert conv_as_matrix(w, (3, 8, 6)).shape == (4 * 6 * 4, 3 * 8 * 6)


def test_conv_as_matrix_rows_each_hold_one_copy_of_the_filter(rng):
    # Weight sharing and sparsity: without padding every row holds exactly the C*HH*WW weights.
    w = rng.uniform(1, 2, size=(2, 3, 2, 3))
    M = conv_as_matrix(w, (3, 5, 6))
    rows_of_filter0 = M[: M.shape[0] // 2]
    for row in rows_of_filter0:
        np.testing.assert_allclose(np.sort(row[row != 0]), np.sort(w[0].ravel()))


def test_conv_as_matrix_keeps_float32(rng):
    w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
    assert conv_as_matrix(w, (1, 5, 5)).dtype == np.float32


def test_conv_as_matrix_does_not_modify_w(rng):
    w = rng.standard_normal((2, 2, 3, 3))
    before = w.copy()
    conv_as_matrix(w, (2, 5, 5), stride=2, pad=1)
    np.testing.assert_array_equal(w, before)


def test_conv_as_matrix_rejects_a_channel_mismatch():
    with pytest.raises(ValueError, match="w has 2 input channels, in_shape has 3"):
        conv_as_matrix(np.ones((4, 2, 3, 3)), (3, 5, 5))


def test_conv_as_matrix_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match="does not fit"):
        conv_as_matrix(np.ones((1, 1, 5, 5)), (1, 4, 4))


@pytest.mark.parametrize("stride", [0, 1.0, None])
def test_conv_as_matrix_rejects_a_stride_that_is_not_a_positive_int(stride):
    with pytest.raises(ValueError, match="stride"):
        conv_as_matrix(np.ones((1, 1, 3, 3)), (1, 5, 5), stride=stride)


@given(geometry=oracles.conv_geometries(max_hw=6), seed=st.integers(0, 2**32 - 1))
def test_conv_as_matrix_equals_brute_force_conv_for_any_geometry(geometry, seed):
    _, C, H, W, F, HH, WW, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((C, H, W))
    w = rng.standard_normal((F, C, HH, WW))
    expected = oracles.conv(x[None], w, np.zeros(F), stride, pad).ravel()
    np.testing.assert_allclose(conv_as_matrix(w, x.shape, stride, pad) @ x.ravel(), expected,
                               rtol=1e-10, atol=1e-12)
