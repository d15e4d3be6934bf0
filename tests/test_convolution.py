"""Chapter 2 (convolution): corr2d, convolve2d, the conv layer forward, 1x1 conv, dilation."""
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, strategies as st

import oracles
from solutions import conv1x1, conv_forward_naive, convolve2d, corr2d, dilate


# corr2d / convolve2d --------------------------------------------------------------------

def test_corr2d_worked_example_differences_along_the_diagonal():
    # k picks x[i, j] - x[i+1, j+1]; on arange(9) that is -4 everywhere.
    x = np.arange(9.0).reshape(3, 3)
    k = np.array([[1.0, 0.0], [0.0, -1.0]])
    np.testing.assert_allclose(corr2d(x, k), np.full((2, 2), -4.0))


@pytest.mark.parametrize("x_shape, k_shape", [((5, 5), (3, 3)), ((6, 9), (2, 4)), ((7, 4), (4, 1)), ((3, 3), (3, 3))])
def test_corr2d_equals_scipy_correlate2d_valid(rng, x_shape, k_shape):
    x, k = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    np.testing.assert_allclose(corr2d(x, k), scipy.signal.correlate2d(x, k, mode="valid"), rtol=1e-10, atol=1e-12)


def test_corr2d_equals_brute_force_loops(rng):
    x, k = rng.standard_normal((6, 5)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(corr2d(x, k), oracles.corr2d(x, k), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, k_shape", [((5, 5), (3, 3)), ((6, 9), (2, 4)), ((7, 4), (4, 1))])
def test_convolve2d_equals_scipy_convolve2d_valid(rng, x_shape, k_shape):
    x, k = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    np.testing.assert_allclose(convolve2d(x, k), scipy.signal.convolve2d(x, k, mode="valid"), rtol=1e-10, atol=1e-12)


def test_convolve2d_flips_the_kernel_unlike_corr2d():
    x = np.arange(12.0).reshape(3, 4)
    k = np.array([[1.0, 2.0]])
    # True convolution reads the kernel backwards: y[i, j] = 2*x[i, j] + 1*x[i, j+1].
    np.testing.assert_allclose(convolve2d(x, k), 2 * x[:, :-1] + x[:, 1:])
    np.testing.assert_allclose(corr2d(x, k), x[:, :-1] + 2 * x[:, 1:])


def test_corr2d_keeps_float32(rng):
    x = rng.standard_normal((5, 5)).astype(np.float32)
    k = rng.standard_normal((3, 3)).astype(np.float32)
    y = corr2d(x, k)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, scipy.signal.correlate2d(x.astype(np.float64), k.astype(np.float64), "valid"),
                               rtol=1e-5, atol=1e-5)


def test_corr2d_of_float32_and_float64_is_float64(rng):
    x = rng.standard_normal((5, 5)).astype(np.float32)
    assert corr2d(x, rng.standard_normal((3, 3))).dtype == np.float64


def test_corr2d_rejects_a_kernel_larger_than_the_image():
    with pytest.raises(ValueError, match="does not fit"):
        corr2d(np.ones((3, 5)), np.ones((4, 2)))


def test_corr2d_rejects_a_3d_input():
    with pytest.raises(ValueError, match="x must have 2 dimensions"):
        corr2d(np.ones((1, 3, 3)), np.ones((2, 2)))


# conv_forward_naive -----------------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape, stride, pad", [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),     # odd square kernel
    ((1, 2, 6, 6), (2, 2, 2, 2), 1, 0),     # even kernel
    ((2, 1, 7, 5), (3, 1, 3, 2), 1, 1),     # non-square input and kernel, padding
    ((1, 3, 9, 8), (2, 3, 3, 3), 2, 1),     # stride 2 with padding
    ((2, 2, 8, 7), (2, 2, 4, 3), 3, 2),     # stride that leaves a remainder
    ((1, 1, 3, 3), (1, 1, 5, 5), 1, 1),     # kernel larger than the image, fits thanks to padding
])
def test_conv_forward_naive_equals_brute_force(rng, x_shape, w_shape, stride, pad):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    np.testing.assert_allclose(conv_forward_naive(x, w, b, stride, pad), oracles.conv(x, w, b, stride, pad),
                               rtol=1e-10, atol=1e-12)


def test_conv_forward_naive_is_a_sum_of_scipy_correlations_over_channels(rng):
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(2)
    out = conv_forward_naive(x, w, b)
    for n in range(2):
        for f in range(2):
            expected = b[f] + sum(scipy.signal.correlate2d(x[n, c], w[f, c], "valid") for c in range(3))
            np.testing.assert_allclose(out[n, f], expected, rtol=1e-10, atol=1e-12)


def test_conv_forward_naive_on_alexnet_conv1_gives_55x55_maps(rng):
    x = rng.standard_normal((1, 3, 227, 227))
    w, b = rng.standard_normal((96, 3, 11, 11)), rng.standard_normal(96)
    out = conv_forward_naive(x, w, b, stride=4)
    assert out.shape == (1, 96, 55, 55)
    # Spot-check corners and the middle against the definition.
    for f, i, j in [(0, 0, 0), (95, 54, 54), (40, 27, 13)]:
        window = x[0, :, 4 * i:4 * i + 11, 4 * j:4 * j + 11]
        np.testing.assert_allclose(out[0, f, i, j], np.sum(window * w[f]) + b[f], rtol=1e-10)


def test_ten_valid_5x5_convs_shrink_200_to_160(rng):
    x = rng.standard_normal((1, 1, 200, 200))
    w, b = rng.standard_normal((1, 1, 5, 5)) / 5, np.zeros(1)
    for _ in range(10):
        x = conv_forward_naive(x, w, b)
    assert x.shape == (1, 1, 160, 160)


def test_conv_forward_naive_keeps_float32(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    out = conv_forward_naive(x, w, b, 2, 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, oracles.conv(x, w, b, 2, 1), rtol=1e-4, atol=1e-5)


def test_conv_forward_naive_of_mixed_dtypes_is_their_result_type(rng):
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((2, 2, 3, 3))
    b = np.zeros(2, dtype=np.float32)
    assert conv_forward_naive(x, w, b).dtype == np.result_type(x, w, b) == np.float64


def test_conv_forward_naive_does_not_modify_its_inputs(rng):
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    copies = [a.copy() for a in (x, w, b)]
    conv_forward_naive(x, w, b, stride=2, pad=1)
    for a, before in zip((x, w, b), copies):
        np.testing.assert_array_equal(a, before)


def test_conv_forward_naive_rejects_a_channel_mismatch():
    with pytest.raises(ValueError, match="w has 4 input channels, x has 3"):
        conv_forward_naive(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3)), np.zeros(2))


def test_conv_forward_naive_rejects_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match="does not fit"):
        conv_forward_naive(np.ones((1, 1, 4, 4)), np.ones((1, 1, 7, 3)), np.zeros(1), pad=1)


def test_conv_forward_naive_rejects_a_bias_of_the_wrong_length():
    with pytest.raises(ValueError, match="b must have shape"):
        conv_forward_naive(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), np.zeros(3))


@pytest.mark.parametrize("stride", [0, -1, 1.5, 2.0, "2", True, None])
def test_conv_forward_naive_rejects_a_stride_that_is_not_a_positive_int(stride):
    with pytest.raises(ValueError, match="stride"):
        conv_forward_naive(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), np.zeros(1), stride=stride)


@pytest.mark.parametrize("pad", [-1, 0.5, 1.0, "1", (1, 1), None])
def test_conv_forward_naive_rejects_a_pad_that_is_not_a_non_negative_int(pad):
    with pytest.raises(ValueError, match="pad"):
        conv_forward_naive(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), np.zeros(1), pad=pad)


def test_conv_forward_naive_accepts_numpy_integer_stride_and_pad(rng):
    x, w, b = rng.standard_normal((1, 1, 6, 6)), rng.standard_normal((1, 1, 3, 3)), np.zeros(1)
    np.testing.assert_allclose(conv_forward_naive(x, w, b, np.int64(2), np.int32(1)), oracles.conv(x, w, b, 2, 1))


def test_conv_forward_naive_rejects_a_3d_input():
    with pytest.raises(ValueError, match=r"x must have 4 dimensions"):
        conv_forward_naive(np.ones((3, 5, 5)), np.ones((1, 3, 3, 3)), np.zeros(1))


@given(geometry=oracles.conv_geometries(), seed=st.integers(0, 2**32 - 1))
def test_conv_forward_naive_equals_brute_force_for_any_geometry(geometry, seed):
    N, C, H, W, F, HH, WW, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)
    np.testing.assert_allclose(conv_forward_naive(x, w, b, stride, pad), oracles.conv(x, w, b, stride, pad),
                               rtol=1e-10, atol=1e-12)


def test_conv_forward_naive_matches_torch_conv2d(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                                          stride=2, padding=1).numpy()
    np.testing.assert_allclose(conv_forward_naive(x, w, b, 2, 1), expected, rtol=1e-10, atol=1e-12)


# conv1x1 ------------------------------------------------------------------------------------

def test_conv1x1_mixes_channels_at_every_pixel_like_a_matrix(rng):
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 3)), rng.standard_normal(6)
    out = conv1x1(x, w, b)
    assert out.shape == (2, 6, 4, 5)
    for n in range(2):
        for i in range(4):
            for j in range(5):
                np.testing.assert_allclose(out[n, :, i, j], w @ x[n, :, i, j] + b, rtol=1e-10, atol=1e-12)


def test_conv1x1_equals_brute_force_conv_with_1x1_kernels(rng):
    x, w, b = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    np.testing.assert_allclose(conv1x1(x, w, b), oracles.conv(x, w[:, :, None, None], b), rtol=1e-10, atol=1e-12)


def test_conv1x1_keeps_float32(rng):
    x = rng.standard_normal((1, 3, 2, 2)).astype(np.float32)
    w, b = np.ones((2, 3), np.float32), np.zeros(2, np.float32)
    assert conv1x1(x, w, b).dtype == np.float32


def test_conv1x1_rejects_a_channel_mismatch():
    with pytest.raises(ValueError, match="w has 2 input channels, x has 3"):
        conv1x1(np.ones((1, 3, 2, 2)), np.ones((4, 2)), np.zeros(4))


def test_conv1x1_rejects_a_4d_weight():
    with pytest.raises(ValueError, match=r"w must have 2 dimensions"):
        conv1x1(np.ones((1, 3, 2, 2)), np.ones((4, 3, 1, 1)), np.zeros(4))


# dilate and dilated convolution ------------------------------------------------------------

def test_dilate_inserts_zeros_between_neighbours():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.array([[1.0, 0.0, 2.0],
                         [0.0, 0.0, 0.0],
                         [3.0, 0.0, 4.0]])
    np.testing.assert_array_equal(dilate(a, 2), expected)


def test_dilate_by_3_gives_size_h_minus_1_times_3_plus_1(rng):
    a = rng.standard_normal((2, 3, 3, 4))
    out = dilate(a, 3)
    assert out.shape == (2, 3, 7, 10)
    np.testing.assert_array_equal(out[..., ::3, ::3], a)
    mask = np.ones(out.shape, bool)
    mask[..., ::3, ::3] = False
    assert not out[mask].any()


def test_dilate_by_1_returns_an_independent_copy(rng):
    a = rng.standard_normal((3, 3))
    out = dilate(a, 1)
    np.testing.assert_array_equal(out, a)
    out[0, 0] += 1
    assert out[0, 0] != a[0, 0]


def test_dilate_keeps_float32():
    assert dilate(np.ones((2, 2), np.float32), 2).dtype == np.float32


@pytest.mark.parametrize("d", [0, -2, 1.5])
def test_dilate_rejects_a_factor_that_is_not_a_positive_int(d):
    with pytest.raises(ValueError, match="d"):
        dilate(np.ones((2, 2)), d)


@pytest.mark.parametrize("d, stride, pad", [(2, 1, 0), (2, 1, 2), (3, 2, 1), (2, 2, 3)])
def test_conv_with_dilated_kernel_equals_brute_force_dilated_conv(rng, d, stride, pad):
    x, w, b = rng.standard_normal((2, 2, 11, 9)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    np.testing.assert_allclose(conv_forward_naive(x, dilate(w, d), b, stride, pad),
                               oracles.conv(x, w, b, stride, pad, dilation=d), rtol=1e-10, atol=1e-12)


def test_dilated_conv_matches_torch_dilation(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((1, 2, 10, 9)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                                          stride=2, padding=1, dilation=2).numpy()
    np.testing.assert_allclose(conv_forward_naive(x, dilate(w, 2), b, 2, 1), expected, rtol=1e-10, atol=1e-12)
