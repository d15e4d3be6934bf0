"""Chapter 6 (backprop): gradient checking, the conv layer backward, the transposed convolution."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import oracles
from solutions import conv_backward_naive, conv_forward_naive, conv_transpose_forward, numerical_gradient

CONV_CASES = [  # (x shape, w shape, stride, pad)
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),     # odd kernel
    ((1, 2, 6, 6), (2, 2, 2, 2), 1, 0),     # even kernel
    ((2, 1, 7, 5), (3, 1, 3, 2), 1, 1),     # non-square input and kernel, padding
    ((1, 3, 9, 8), (2, 3, 3, 3), 2, 1),     # stride 2 with padding
    ((1, 2, 8, 7), (2, 2, 4, 3), 3, 2),     # stride leaving rows unused, pad 2
]


# numerical_gradient -------------------------------------------------------------------------

def test_numerical_gradient_of_a_cube_is_three_x_squared_times_dout(rng):
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: v ** 3, x, dout), 3 * x ** 2 * dout, rtol=1e-6, atol=1e-8)


def test_numerical_gradient_of_a_matrix_product_is_dout_times_the_transpose(rng):
    x, A = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    dout = rng.standard_normal((2, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: v @ A, x, dout), dout @ A.T, rtol=1e-6, atol=1e-8)


def test_numerical_gradient_of_a_scalar_function_with_scalar_dout(rng):
    x = rng.standard_normal(5)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x, 2.0), 2 * np.cos(x),
                               rtol=1e-6, atol=1e-8)


def test_numerical_gradient_leaves_x_bit_identical(rng):
    # Values where (v + h) - h is not v in floating point: a naive "add h, subtract h" would drift.
    x = rng.standard_normal((4, 3)) * 1e3 + 0.1
    before = x.tobytes()
    numerical_gradient(lambda v: v ** 2, x, rng.standard_normal((4, 3)))
    assert x.tobytes() == before


def test_numerical_gradient_leaves_float32_x_bit_identical_and_keeps_its_dtype(rng):
    x = (rng.standard_normal(6) + 0.3).astype(np.float32)
    before = x.tobytes()
    dx = numerical_gradient(lambda v: 2 * v, x, np.ones(6), h=1e-2)
    assert x.tobytes() == before
    assert dx.dtype == np.float32 and dx.shape == x.shape
    np.testing.assert_allclose(dx, 2.0, rtol=1e-3)


def test_numerical_gradient_restores_x_even_when_f_raises(rng):
    x = rng.standard_normal(3)
    before = x.tobytes()

    def f(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x, np.ones(3))
    assert x.tobytes() == before


def test_numerical_gradient_rejects_an_integer_array():
    with pytest.raises(ValueError, match="float"):
        numerical_gradient(lambda v: v, np.arange(3), np.ones(3))


def test_numerical_gradient_rejects_a_non_positive_step():
    with pytest.raises(ValueError, match="h"):
        numerical_gradient(lambda v: v, np.ones(3), np.ones(3), h=0.0)


def test_numerical_gradient_agrees_with_the_tests_own_centred_differences(rng):
    x, w, b = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 2, 2, 2)), rng.standard_normal(2)
    dout = rng.standard_normal((1, 2, 3, 3))

    def forward(v):
        return conv_forward_naive(v, w, b, 2, 1)

    np.testing.assert_allclose(numerical_gradient(forward, x.copy(), dout),
                               oracles.numerical_gradient(forward, x, dout), rtol=1e-5, atol=1e-8)


# conv_backward_naive ------------------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_backward_naive_equals_numerical_gradient(rng, x_shape, w_shape, stride, pad):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    dout = rng.standard_normal(oracles.conv(x, w, b, stride, pad).shape)
    oracles.assert_conv_gradients_are_numerical(conv_backward_naive(dout, x, w, b, stride, pad),
                                                oracles.conv, x, w, b, stride, pad, dout)


def test_conv_backward_naive_gives_zero_dx_to_pixels_no_window_reads(rng):
    # 7 wide, 3-tap windows at stride 3: starts 0 and 3 read columns 0..5; column 6 is never read.
    x, w, b = rng.standard_normal((1, 1, 7, 7)), rng.standard_normal((1, 1, 3, 3)), np.zeros(1)
    dx, _, _ = conv_backward_naive(rng.standard_normal((1, 1, 2, 2)), x, w, b, stride=3)
    np.testing.assert_array_equal(dx[..., 6, :], 0)
    np.testing.assert_array_equal(dx[..., :, 6], 0)


def test_conv_backward_naive_keeps_float32(rng):
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 3, 3))
    grads32 = conv_backward_naive(*(a.astype(np.float32) for a in (dout, x, w, b)), stride=2, pad=1)
    grads64 = conv_backward_naive(dout, x, w, b, stride=2, pad=1)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


def test_conv_backward_naive_of_mixed_dtypes_is_their_result_type(rng):
    x, w = rng.standard_normal((1, 1, 4, 4)).astype(np.float32), rng.standard_normal((1, 1, 2, 2))
    dout, b = np.ones((1, 1, 3, 3), np.float32), np.zeros(1, np.float32)
    assert all(g.dtype == np.float64 for g in conv_backward_naive(dout, x, w, b))


def test_conv_backward_naive_does_not_modify_its_inputs(rng):
    x, w, b = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2)
    dout = rng.standard_normal((1, 2, 3, 3))
    copies = [a.copy() for a in (dout, x, w, b)]
    conv_backward_naive(dout, x, w, b, stride=2, pad=1)
    for a, before in zip((dout, x, w, b), copies):
        np.testing.assert_array_equal(a, before)


def test_conv_backward_naive_rejects_dout_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"dout must have shape \(1, 2, 3, 3\)"):
        conv_backward_naive(np.ones((1, 2, 4, 4)), np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), np.zeros(2))


def test_conv_backward_naive_rejects_a_channel_mismatch():
    with pytest.raises(ValueError, match="w has 2 input channels, x has 1"):
        conv_backward_naive(np.ones((1, 2, 3, 3)), np.ones((1, 1, 5, 5)), np.ones((2, 2, 3, 3)), np.zeros(2))


def test_conv_backward_naive_rejects_a_non_int_stride():
    with pytest.raises(ValueError, match="stride"):
        conv_backward_naive(np.ones((1, 1, 3, 3)), np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), np.zeros(1),
                            stride=1.0)


@given(geometry=oracles.conv_geometries(max_hw=6), seed=st.integers(0, 2**32 - 1))
def test_conv_backward_naive_equals_numerical_gradient_for_any_geometry(geometry, seed):
    N, C, H, W, F, HH, WW, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)
    dout = rng.standard_normal(oracles.conv(x, w, b, stride, pad).shape)
    # conv_forward_naive is checked against the brute-force oracle in test_convolution
    oracles.assert_conv_gradients_are_numerical(conv_backward_naive(dout, x, w, b, stride, pad),
                                                conv_forward_naive, x, w, b, stride, pad, dout)


def test_conv_backward_naive_matches_torch_autograd(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    _, dout, grads = oracles.torch_conv_and_grads(torch, x, w, b, 2, 1, rng)
    for ours, theirs in zip(conv_backward_naive(dout, x, w, b, 2, 1), grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# conv_transpose_forward ----------------------------------------------------------------------

TRANSPOSE_CASES = [  # (x shape, w shape (C, F, HH, WW), stride, pad)
    ((1, 1, 2, 2), (1, 1, 3, 3), 1, 0),
    ((2, 3, 3, 4), (3, 2, 3, 3), 2, 0),
    ((1, 2, 4, 3), (2, 3, 4, 2), 2, 1),
    ((2, 1, 3, 3), (1, 2, 3, 3), 3, 1),
    ((1, 2, 5, 5), (2, 1, 2, 2), 1, 0),
]


def test_conv_transpose_forward_worked_example_stamps_the_kernel():
    # Two input pixels 1 and 2, stride 2, 2x2 kernel of ones: two stamps side by side.
    x = np.array([[1.0, 2.0]])[None, None]
    out = conv_transpose_forward(x, np.ones((1, 1, 2, 2)), stride=2)
    np.testing.assert_array_equal(out, [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]])


def test_conv_transpose_forward_adds_up_overlapping_stamps():
    x = np.array([[1.0, 2.0]])[None, None]
    out = conv_transpose_forward(x, np.ones((1, 1, 1, 2)), stride=1)
    np.testing.assert_array_equal(out, [[[[1.0, 3.0, 2.0]]]])


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", TRANSPOSE_CASES)
def test_conv_transpose_forward_equals_brute_force_scatter(rng, x_shape, w_shape, stride, pad):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    np.testing.assert_allclose(conv_transpose_forward(x, w, stride, pad), oracles.conv_transpose(x, w, stride, pad),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", TRANSPOSE_CASES)
def test_conv_transpose_forward_is_the_input_gradient_of_a_conv_with_weight_w(rng, x_shape, w_shape, stride, pad):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    out = conv_transpose_forward(x, w, stride, pad)
    # The conv maps F channels to C with weight w (C, F, HH, WW); feed x as its dout.
    conv_input = np.zeros((x_shape[0],) + out.shape[1:])
    dx, _, _ = conv_backward_naive(x, conv_input, w, np.zeros(w_shape[0]), stride, pad)
    np.testing.assert_allclose(out, dx, rtol=1e-10, atol=1e-12)


def test_conv_transpose_forward_output_size_formula(rng):
    out = conv_transpose_forward(rng.standard_normal((1, 2, 5, 3)), rng.standard_normal((2, 4, 3, 2)), stride=2, pad=1)
    # (H-1)*stride - 2*pad + HH: (5-1)*2 - 2 + 3 = 9 and (3-1)*2 - 2 + 2 = 4.
    assert out.shape == (1, 4, 9, 4)


def test_conv_transpose_forward_undoes_the_shape_of_a_strided_conv(rng):
    x, w = rng.standard_normal((1, 3, 9, 9)), rng.standard_normal((2, 3, 3, 3))
    down = conv_forward_naive(x, w, np.zeros(2), stride=2, pad=1)
    assert conv_transpose_forward(down, w, stride=2, pad=1).shape == x.shape


def test_conv_transpose_forward_keeps_float32(rng):
    x, w = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 3, 3, 3))
    out = conv_transpose_forward(x.astype(np.float32), w.astype(np.float32), 2, 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, oracles.conv_transpose(x, w, 2, 1), rtol=1e-4, atol=1e-5)


def test_conv_transpose_forward_does_not_modify_its_inputs(rng):
    x, w = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 3, 3, 3))
    copies = x.copy(), w.copy()
    conv_transpose_forward(x, w, 2, 1)
    np.testing.assert_array_equal(x, copies[0])
    np.testing.assert_array_equal(w, copies[1])


def test_conv_transpose_forward_rejects_a_channel_mismatch():
    with pytest.raises(ValueError, match="w has 3 input channels"):
        conv_transpose_forward(np.ones((1, 2, 3, 3)), np.ones((3, 2, 3, 3)))


def test_conv_transpose_forward_rejects_a_pad_that_crops_everything():
    with pytest.raises(ValueError, match="crops the whole output"):
        conv_transpose_forward(np.ones((1, 1, 1, 1)), np.ones((1, 1, 2, 2)), pad=1)


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"pad": -1}, {"stride": 2.5}])
def test_conv_transpose_forward_rejects_bad_stride_or_pad(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        conv_transpose_forward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), **kwargs)


@given(geometry=oracles.conv_geometries(max_hw=5), seed=st.integers(0, 2**32 - 1))
def test_conv_transpose_forward_equals_brute_force_for_any_geometry(geometry, seed):
    N, C, H, W, F, HH, WW, stride, pad = geometry
    # Keep the cropped output non-empty: (H-1)*stride + HH > 2*pad on both axes.
    if min((H - 1) * stride + HH, (W - 1) * stride + WW) <= 2 * pad:
        pad = 0
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((C, F, HH, WW))
    np.testing.assert_allclose(conv_transpose_forward(x, w, stride, pad), oracles.conv_transpose(x, w, stride, pad),
                               rtol=1e-10, atol=1e-12)


def test_conv_transpose_forward_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 3, 4))
    expected = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1)
    np.testing.assert_allclose(conv_transpose_forward(x, w, 2, 1), expected.numpy(), rtol=1e-10, atol=1e-12)
