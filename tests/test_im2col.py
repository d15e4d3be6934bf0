"""Chapter 7 (im2col): unfolding windows into columns, its adjoint, and the conv layer as one matmul."""
import timeit

import numpy as np
import pytest
from hypothesis import given, strategies as st
from threadpoolctl import threadpool_limits

import oracles
from autograder.baselines import conv_backward_per_value, conv_forward_per_value
from solutions import col2im, conv_backward_im2col, conv_forward_im2col, im2col

WINDOW_CASES = [  # (x shape, HH, WW, stride, pad)
    ((1, 1, 3, 3), 2, 2, 1, 0),
    ((2, 3, 5, 4), 3, 3, 1, 1),
    ((1, 2, 7, 6), 3, 2, 2, 0),
    ((2, 1, 6, 7), 2, 4, 3, 2),
    ((1, 2, 4, 4), 4, 4, 1, 0),
]


# im2col --------------------------------------------------------------------------------------

def test_im2col_worked_example_columns_are_the_flattened_windows():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    expected = np.array([[0.0, 1.0, 3.0, 4.0],     # top-left of each window
                         [1.0, 2.0, 4.0, 5.0],
                         [3.0, 4.0, 6.0, 7.0],
                         [4.0, 5.0, 7.0, 8.0]])    # bottom-right
    np.testing.assert_array_equal(im2col(x, 2, 2), expected)


@pytest.mark.parametrize("shape, HH, WW, stride, pad", WINDOW_CASES)
def test_im2col_equals_brute_force_index_formula(rng, shape, HH, WW, stride, pad):
    x = rng.standard_normal(shape)
    np.testing.assert_array_equal(im2col(x, HH, WW, stride, pad), oracles.im2col(x, HH, WW, stride, pad))


def test_im2col_of_alexnet_conv1_is_363_by_3025(rng):
    x = rng.standard_normal((1, 3, 227, 227))
    cols = im2col(x, 11, 11, stride=4)
    assert cols.shape == (363, 3025)
    # Column (oh, ow) = (2, 5) is the window starting at pixel (8, 20).
    np.testing.assert_array_equal(cols[:, 2 * 55 + 5], x[0, :, 8:19, 20:31].ravel())


def test_im2col_keeps_float32_and_does_not_modify_x(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    before = x.copy()
    assert im2col(x, 3, 3, 1, 1).dtype == np.float32
    np.testing.assert_array_equal(x, before)


def test_im2col_of_1x1_windows_does_not_alias_x(rng):
    x = rng.standard_normal((1, 2, 3, 3))
    before = x.copy()
    cols = im2col(x, 1, 1)
    cols += 1.0
    np.testing.assert_array_equal(x, before)


def test_im2col_rejects_a_window_larger_than_the_padded_input():
    with pytest.raises(ValueError, match="does not fit"):
        im2col(np.ones((1, 1, 3, 3)), 6, 2, pad=1)


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"pad": -1}, {"HH": 0}, {"WW": 1.5}])
def test_im2col_rejects_bad_window_arguments(kwargs):
    args = {"HH": 2, "WW": 2, "stride": 1, "pad": 0, **kwargs}
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        im2col(np.ones((1, 1, 4, 4)), **args)


# col2im ----------------------------------------------------------------------------------------

def test_col2im_of_ones_counts_the_windows_each_pixel_is_in():
    counts = col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2)
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("shape, HH, WW, stride, pad", WINDOW_CASES)
def test_col2im_equals_brute_force_scatter_add(rng, shape, HH, WW, stride, pad):
    cols = rng.standard_normal(oracles.im2col(np.zeros(shape), HH, WW, stride, pad).shape)
    np.testing.assert_allclose(col2im(cols, shape, HH, WW, stride, pad),
                               oracles.col2im(cols, shape, HH, WW, stride, pad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, HH, WW, stride, pad", WINDOW_CASES)
def test_col2im_is_the_adjoint_of_im2col(rng, shape, HH, WW, stride, pad):
    x = rng.standard_normal(shape)
    c = rng.standard_normal(im2col(x, HH, WW, stride, pad).shape)
    lhs = np.vdot(im2col(x, HH, WW, stride, pad), c)
    rhs = np.vdot(x, col2im(c, shape, HH, WW, stride, pad))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


def test_col2im_keeps_float32(rng):
    cols = rng.standard_normal((9, 4)).astype(np.float32)
    assert col2im(cols, (1, 1, 4, 4), 3, 3).dtype == np.float32


def test_col2im_rejects_cols_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"cols must have shape \(4, 4\)"):
        col2im(np.ones((4, 5)), (1, 1, 3, 3), 2, 2)


def test_col2im_rejects_an_x_shape_that_is_not_nchw():
    with pytest.raises(ValueError, match="x_shape"):
        col2im(np.ones((4, 4)), (3, 3), 2, 2)


@given(geometry=oracles.conv_geometries(), seed=st.integers(0, 2**32 - 1))
def test_im2col_and_col2im_are_adjoint_for_any_geometry(geometry, seed):
    N, C, H, W, _, HH, WW, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    cols = im2col(x, HH, WW, stride, pad)
    np.testing.assert_array_equal(cols, oracles.im2col(x, HH, WW, stride, pad))
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, col2im(c, x.shape, HH, WW, stride, pad)),
                               rtol=1e-9, atol=1e-9)


# conv_forward_im2col / conv_backward_im2col -------------------------------------------------------

CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((1, 2, 6, 6), (2, 2, 2, 2), 1, 0),
    ((2, 1, 7, 5), (3, 1, 3, 2), 1, 1),
    ((1, 3, 9, 8), (2, 3, 3, 3), 2, 1),
    ((1, 2, 8, 7), (2, 2, 4, 3), 3, 2),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_forward_im2col_equals_brute_force(rng, x_shape, w_shape, stride, pad):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    np.testing.assert_allclose(conv_forward_im2col(x, w, b, stride, pad), oracles.conv(x, w, b, stride, pad),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_backward_im2col_equals_numerical_gradient(rng, x_shape, w_shape, stride, pad):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    dout = rng.standard_normal(oracles.conv(x, w, b, stride, pad).shape)
    dx, dw, db = conv_backward_im2col(dout, x, w, b, stride, pad)
    np.testing.assert_allclose(dx, oracles.numerical_gradient(lambda v: oracles.conv(v, w, b, stride, pad), x, dout),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, oracles.numerical_gradient(lambda v: oracles.conv(x, v, b, stride, pad), w, dout),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, oracles.numerical_gradient(lambda v: oracles.conv(x, w, v, stride, pad), b, dout),
                               rtol=1e-6, atol=1e-8)


def test_conv_im2col_keeps_float32(rng):
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 3, 3))
    out = conv_forward_im2col(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), 2, 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, oracles.conv(x, w, b, 2, 1), rtol=1e-4, atol=1e-5)
    grads32 = conv_backward_im2col(*(a.astype(np.float32) for a in (dout, x, w, b)), stride=2, pad=1)
    for g32, g64 in zip(grads32, conv_backward_im2col(dout, x, w, b, 2, 1)):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


def test_conv_im2col_of_mixed_dtypes_is_their_result_type(rng):
    x, w = rng.standard_normal((1, 1, 4, 4)).astype(np.float32), rng.standard_normal((1, 1, 2, 2))
    b = np.zeros(1, np.float32)
    assert conv_forward_im2col(x, w, b).dtype == np.float64
    assert all(g.dtype == np.float64 for g in conv_backward_im2col(np.ones((1, 1, 3, 3), np.float32), x, w, b))


def test_conv_im2col_does_not_modify_its_inputs(rng):
    x, w, b = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2)
    dout = rng.standard_normal((1, 2, 3, 3))
    copies = [a.copy() for a in (dout, x, w, b)]
    conv_forward_im2col(x, w, b, 2, 1)
    conv_backward_im2col(dout, x, w, b, 2, 1)
    for a, before in zip((dout, x, w, b), copies):
        np.testing.assert_array_equal(a, before)


def test_conv_forward_im2col_rejects_a_channel_mismatch():
    with pytest.raises(ValueError, match="w has 4 input channels, x has 3"):
        conv_forward_im2col(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3)), np.zeros(2))


def test_conv_backward_im2col_rejects_dout_of_the_wrong_shape():
    with pytest.raises(ValueError, match="dout must have shape"):
        conv_backward_im2col(np.ones((1, 1, 2, 2)), np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), np.zeros(1))


@given(geometry=oracles.conv_geometries(max_hw=6), seed=st.integers(0, 2**32 - 1))
def test_conv_im2col_forward_and_backward_equal_the_oracles_for_any_geometry(geometry, seed):
    N, C, H, W, F, HH, WW, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, HH, WW)), rng.standard_normal(F)
    out = conv_forward_im2col(x, w, b, stride, pad)
    np.testing.assert_allclose(out, oracles.conv(x, w, b, stride, pad), rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    # conv_forward_im2col was just checked against the brute-force oracle
    oracles.assert_conv_gradients_are_numerical(conv_backward_im2col(dout, x, w, b, stride, pad),
                                                conv_forward_im2col, x, w, b, stride, pad, dout)


def test_conv_im2col_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out, dout, grads = oracles.torch_conv_and_grads(torch, x, w, b, 2, 1, rng)
    np.testing.assert_allclose(conv_forward_im2col(x, w, b, 2, 1), out, rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(conv_backward_im2col(dout, x, w, b, 2, 1), grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# speed: the contract's benchmark ------------------------------------------------------------------

def _best_of_3(fn):
    return min(timeit.repeat(fn, number=1, repeat=3))


@pytest.mark.slow
def test_conv_im2col_is_at_least_10x_faster_than_the_per_output_baseline(rng):
    x, w, b = rng.standard_normal((8, 16, 16, 16)), rng.standard_normal((16, 16, 3, 3)), rng.standard_normal(16)
    dout = rng.standard_normal((8, 16, 16, 16))
    # The baselines are correct: otherwise the ratio would mean nothing.
    np.testing.assert_allclose(conv_forward_im2col(x, w, b, 1, 1), conv_forward_per_value(x, w, b, 1, 1),
                               rtol=1e-9, atol=1e-9)
    for ours, base in zip(conv_backward_im2col(dout, x, w, b, 1, 1), conv_backward_per_value(dout, x, w, b, 1, 1)):
        np.testing.assert_allclose(ours, base, rtol=1e-9, atol=1e-9)
    # One BLAS thread: on a busy 2-core machine OpenBLAS's threads contend with other processes
    # and a small matmul can take 100x longer, which would measure the load, not the code.
    with threadpool_limits(limits=1, user_api="blas"):
        forward_ratio = _best_of_3(lambda: conv_forward_per_value(x, w, b, 1, 1)) / _best_of_3(
            lambda: conv_forward_im2col(x, w, b, 1, 1))
        backward_ratio = _best_of_3(lambda: conv_backward_per_value(dout, x, w, b, 1, 1)) / _best_of_3(
            lambda: conv_backward_im2col(dout, x, w, b, 1, 1))
    assert forward_ratio >= 10, f"forward only {forward_ratio:.1f}x faster"
    assert backward_ratio >= 10, f"backward only {backward_ratio:.1f}x faster"
