"""Chapter 4 (pooling): max/avg pooling forward and backward, global pooling, upsampling, unpooling."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import oracles
from solutions import (avg_pool_backward, avg_pool_forward, global_avg_pool, global_max_pool, max_pool_backward,
                       max_pool_forward, max_unpool, upsample_bed_of_nails, upsample_nearest)

GEOMETRIES = [  # (x shape, pool, stride)
    ((2, 3, 4, 4), 2, 2),      # the usual 2x2 / 2
    ((1, 2, 7, 5), 2, 2),      # odd sizes: the last row/column is left out
    ((2, 1, 7, 7), 3, 2),      # overlapping windows
    ((1, 2, 5, 6), 2, 1),      # stride 1
    ((1, 1, 9, 8), 3, 3),      # non-overlapping 3x3
    ((1, 1, 6, 5), 1, 2),      # 1x1 windows: subsampling
]


def distinct_values(rng, shape):
    """A random permutation of 0..size-1, scaled: no ties, so the max is unique and smooth."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0


# forward ------------------------------------------------------------------------------------

def test_max_pool_forward_worked_example():
    x = np.array([[1.0, 3.0, 2.0, 0.0],
                  [4.0, 2.0, 1.0, 5.0],
                  [0.0, 1.0, 9.0, 8.0],
                  [2.0, 6.0, 7.0, 3.0]])[None, None]
    np.testing.assert_array_equal(max_pool_forward(x), [[[[4.0, 5.0], [6.0, 9.0]]]])


def test_avg_pool_forward_worked_example():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    # Top-left window (0, 1, 4, 5) averages to 2.5; the others follow by +2 per column, +8 per row.
    np.testing.assert_allclose(avg_pool_forward(x), [[[[2.5, 4.5], [10.5, 12.5]]]])


@pytest.mark.parametrize("shape, pool, stride", GEOMETRIES)
def test_max_pool_forward_equals_brute_force(rng, shape, pool, stride):
    x = rng.standard_normal(shape)
    np.testing.assert_array_equal(max_pool_forward(x, pool, stride), oracles.max_pool(x, pool, stride))


@pytest.mark.parametrize("shape, pool, stride", GEOMETRIES)
def test_avg_pool_forward_equals_brute_force(rng, shape, pool, stride):
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(avg_pool_forward(x, pool, stride), oracles.avg_pool(x, pool, stride),
                               rtol=1e-12, atol=1e-14)


def test_2x2_max_pool_at_stride_1_takes_30x30_to_29x29(rng):
    assert max_pool_forward(rng.standard_normal((1, 1, 30, 30)), pool=2, stride=1).shape == (1, 1, 29, 29)


@pytest.mark.parametrize("forward", [max_pool_forward, avg_pool_forward])
def test_pool_forward_keeps_float32(rng, forward):
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    out = forward(x, 3, 2)
    assert out.dtype == np.float32
    reference = oracles.max_pool if forward is max_pool_forward else oracles.avg_pool
    np.testing.assert_allclose(out, reference(x, 3, 2), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("forward", [max_pool_forward, avg_pool_forward])
def test_pool_forward_does_not_modify_x(rng, forward):
    x = rng.standard_normal((1, 2, 6, 6))
    before = x.copy()
    forward(x, 2, 1)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("forward", [max_pool_forward, avg_pool_forward])
def test_pool_forward_rejects_a_window_larger_than_the_input(forward):
    with pytest.raises(ValueError, match="does not fit"):
        forward(np.ones((1, 1, 3, 5)), pool=4, stride=1)


@pytest.mark.parametrize("forward", [max_pool_forward, avg_pool_forward])
@pytest.mark.parametrize("kwargs", [{"pool": 0}, {"stride": 0}, {"pool": 2.0}, {"stride": "2"}])
def test_pool_forward_rejects_bad_pool_or_stride(forward, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        forward(np.ones((1, 1, 4, 4)), **kwargs)


def test_pool_forward_rejects_a_3d_input():
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        max_pool_forward(np.ones((1, 4, 4)))


@given(geometry=oracles.pool_geometries(), seed=st.integers(0, 2**32 - 1))
def test_max_and_avg_pool_forward_equal_brute_force_for_any_geometry(geometry, seed):
    N, C, H, W, pool, stride = geometry
    x = np.random.default_rng(seed).standard_normal((N, C, H, W))
    np.testing.assert_array_equal(max_pool_forward(x, pool, stride), oracles.max_pool(x, pool, stride))
    np.testing.assert_allclose(avg_pool_forward(x, pool, stride), oracles.avg_pool(x, pool, stride),
                               rtol=1e-12, atol=1e-14)


# backward -------------------------------------------------------------------------------------

def test_max_pool_backward_sends_tied_gradient_to_first_max():
    x = np.array([[2.0, 2.0],
                  [2.0, 2.0]])[None, None]
    dx = max_pool_backward(np.array([[[[5.0]]]]), x)
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0], [0.0, 0.0]]]])


def test_max_pool_backward_tie_rule_is_row_major_not_column_major():
    # Maxima at (0, 1) and (1, 0): row-major order reaches (0, 1) first.
    x = np.array([[0.0, 3.0],
                  [3.0, 1.0]])[None, None]
    dx = max_pool_backward(np.array([[[[1.5]]]]), x)
    np.testing.assert_array_equal(dx, [[[[0.0, 1.5], [0.0, 0.0]]]])


def test_max_pool_backward_adds_up_overlapping_windows():
    # The centre is the max of all four 2x2 windows at stride 1: it collects all four gradients.
    x = np.array([[0.0, 1.0, 0.0],
                  [1.0, 9.0, 1.0],
                  [0.0, 1.0, 0.0]])[None, None]
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    dx = max_pool_backward(dout, x, pool=2, stride=1)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("shape, pool, stride", GEOMETRIES)
def test_max_pool_backward_with_many_ties_equals_brute_force(rng, shape, pool, stride):
    x = rng.integers(0, 3, size=shape).astype(np.float64)    # values 0, 1, 2: ties everywhere
    dout = rng.standard_normal(oracles.max_pool(x, pool, stride).shape)
    np.testing.assert_allclose(max_pool_backward(dout, x, pool, stride),
                               oracles.max_pool_backward(dout, x, pool, stride), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape, pool, stride", GEOMETRIES + [((2, 3, 7, 8), 2, 3)])
def test_max_pool_equals_brute_force_with_every_plane_in_its_own_chunk(one_chunk_per_item, rng, shape, pool,
                                                                      stride):
    x = rng.integers(0, 3, size=shape).astype(np.float64)
    dout = rng.standard_normal(oracles.max_pool(x, pool, stride).shape)
    np.testing.assert_array_equal(max_pool_forward(x, pool, stride), oracles.max_pool(x, pool, stride))
    np.testing.assert_allclose(max_pool_backward(dout, x, pool, stride),
                               oracles.max_pool_backward(dout, x, pool, stride), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape, pool, stride", [((1, 2, 4, 4), 2, 2), ((1, 2, 7, 7), 3, 2)])
def test_max_pool_backward_sends_an_infinite_or_nan_gradient_only_to_the_max(rng, shape, pool, stride):
    x = distinct_values(rng, shape)
    dout = rng.standard_normal(oracles.max_pool(x, pool, stride).shape)
    dout[0, 0, 0, 0], dout[0, 1, 0, 0] = np.inf, np.nan
    np.testing.assert_allclose(max_pool_backward(dout, x, pool, stride),
                               oracles.max_pool_backward(dout, x, pool, stride), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape, pool, stride", GEOMETRIES)
def test_max_pool_backward_equals_numerical_gradient_without_ties(rng, shape, pool, stride):
    x = distinct_values(rng, shape)
    dout = rng.standard_normal(max_pool_forward(x, pool, stride).shape)
    expected = oracles.numerical_gradient(lambda v: max_pool_forward(v, pool, stride), x, dout)
    np.testing.assert_allclose(max_pool_backward(dout, x, pool, stride), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape, pool, stride", GEOMETRIES)
def test_avg_pool_backward_equals_numerical_gradient(rng, shape, pool, stride):
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(avg_pool_forward(x, pool, stride).shape)
    expected = oracles.numerical_gradient(lambda v: avg_pool_forward(v, pool, stride), x, dout)
    np.testing.assert_allclose(avg_pool_backward(dout, x, pool, stride), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("backward", [max_pool_backward, avg_pool_backward])
def test_pool_backward_keeps_float32(rng, backward):
    x = distinct_values(rng, (1, 2, 6, 6)).astype(np.float32)
    dout = rng.standard_normal((1, 2, 2, 2)).astype(np.float32)
    dx = backward(dout, x, 3, 2)
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx, backward(dout.astype(np.float64), x.astype(np.float64), 3, 2), rtol=1e-6)


@pytest.mark.parametrize("backward", [max_pool_backward, avg_pool_backward])
def test_pool_backward_does_not_modify_its_inputs(rng, backward):
    x, dout = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((1, 2, 4, 4))
    x_before, dout_before = x.copy(), dout.copy()
    backward(dout, x, 2, 1)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)


@pytest.mark.parametrize("backward", [max_pool_backward, avg_pool_backward])
def test_pool_backward_rejects_dout_of_the_wrong_shape(backward):
    with pytest.raises(ValueError, match="dout must have shape"):
        backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), 2, 2)


@given(geometry=oracles.pool_geometries(max_hw=7), seed=st.integers(0, 2**32 - 1))
def test_max_pool_backward_equals_brute_force_for_any_geometry(geometry, seed):
    N, C, H, W, pool, stride = geometry
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(N, C, H, W)).astype(np.float64)
    dout = rng.standard_normal(oracles.max_pool(x, pool, stride).shape)
    np.testing.assert_allclose(max_pool_backward(dout, x, pool, stride),
                               oracles.max_pool_backward(dout, x, pool, stride), rtol=1e-12, atol=1e-14)


@given(geometry=oracles.pool_geometries(max_hw=7), seed=st.integers(0, 2**32 - 1))
def test_avg_pool_backward_equals_numerical_gradient_for_any_geometry(geometry, seed):
    N, C, H, W, pool, stride = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    dout = rng.standard_normal(oracles.avg_pool(x, pool, stride).shape)
    expected = oracles.numerical_gradient(lambda v: avg_pool_forward(v, pool, stride), x, dout)
    np.testing.assert_allclose(avg_pool_backward(dout, x, pool, stride), expected, rtol=1e-6, atol=1e-8)


def test_pooling_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = torch.tensor(distinct_values(rng, (2, 3, 7, 6)), requires_grad=True)
    dout = rng.standard_normal((2, 3, 3, 2))
    for forward, backward, torch_pool in [(max_pool_forward, max_pool_backward, torch.nn.functional.max_pool2d),
                                         (avg_pool_forward, avg_pool_backward, torch.nn.functional.avg_pool2d)]:
        out = torch_pool(x, 3, 2)
        (grad,) = torch.autograd.grad(out, x, torch.from_numpy(dout))
        xn = x.detach().numpy()
        np.testing.assert_allclose(forward(xn, 3, 2), out.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(backward(dout, xn, 3, 2), grad.numpy(), rtol=1e-10, atol=1e-12)


# global pooling ---------------------------------------------------------------------------------

def test_global_avg_pool_averages_every_pixel_of_each_channel(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out = global_avg_pool(x)
    assert out.shape == (2, 3)
    for n in range(2):
        for c in range(3):
            np.testing.assert_allclose(out[n, c], sum(x[n, c].ravel().tolist()) / 20, rtol=1e-12)


def test_global_max_pool_takes_the_max_of_each_channel(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    out = global_max_pool(x)
    assert out.shape == (2, 3)
    for n in range(2):
        for c in range(3):
            assert out[n, c] == max(x[n, c].ravel().tolist())


@pytest.mark.parametrize("pool", [global_avg_pool, global_max_pool])
def test_global_pool_keeps_float32(rng, pool):
    assert pool(rng.standard_normal((1, 2, 3, 3)).astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("pool", [global_avg_pool, global_max_pool])
def test_global_pool_rejects_a_2d_input(pool):
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        pool(np.ones((3, 3)))


# upsampling ---------------------------------------------------------------------------------------

def test_upsample_nearest_repeats_each_pixel_in_a_block():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    expected = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]], float)[None, None]
    np.testing.assert_array_equal(upsample_nearest(x, 2), expected)


def test_upsample_bed_of_nails_puts_each_pixel_top_left_of_its_block():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
    expected = np.array([[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]], float)[None, None]
    np.testing.assert_array_equal(upsample_bed_of_nails(x, 2), expected)


@pytest.mark.parametrize("factor", [1, 3])
def test_upsample_nearest_reads_pixel_i_over_factor(rng, factor):
    x = rng.standard_normal((2, 2, 3, 2))
    out = upsample_nearest(x, factor)
    assert out.shape == (2, 2, 3 * factor, 2 * factor)
    for i in range(3 * factor):
        for j in range(2 * factor):
            np.testing.assert_array_equal(out[:, :, i, j], x[:, :, i // factor, j // factor])


@pytest.mark.parametrize("factor", [1, 3])
def test_upsample_bed_of_nails_is_zero_off_the_block_corners(rng, factor):
    x = rng.standard_normal((1, 2, 2, 3))
    out = upsample_bed_of_nails(x, factor)
    assert out.shape == (1, 2, 2 * factor, 3 * factor)
    for i in range(2 * factor):
        for j in range(3 * factor):
            corner = i % factor == 0 and j % factor == 0
            expected = x[:, :, i // factor, j // factor] if corner else 0.0
            np.testing.assert_array_equal(out[:, :, i, j], expected)


@pytest.mark.parametrize("upsample", [upsample_nearest, upsample_bed_of_nails])
def test_upsample_keeps_float32(upsample):
    assert upsample(np.ones((1, 1, 2, 2), np.float32), 2).dtype == np.float32


@pytest.mark.parametrize("upsample", [upsample_nearest, upsample_bed_of_nails])
@pytest.mark.parametrize("factor", [0, 2.0])
def test_upsample_rejects_a_factor_that_is_not_a_positive_int(upsample, factor):
    with pytest.raises(ValueError, match="factor"):
        upsample(np.ones((1, 1, 2, 2)), factor)


# max_unpool -----------------------------------------------------------------------------------------

def test_max_unpool_puts_values_where_the_maxima_were():
    x = np.array([[1.0, 3.0, 2.0, 0.0],
                  [4.0, 2.0, 1.0, 5.0]])[None, None]
    y = np.array([[10.0, 20.0]])[None, None]
    expected = np.array([[0.0, 0.0, 0.0, 0.0],
                         [10.0, 0.0, 0.0, 20.0]])[None, None]
    np.testing.assert_array_equal(max_unpool(y, x), expected)


def test_max_unpool_uses_the_first_max_on_ties():
    x = np.full((1, 1, 2, 2), 7.0)
    np.testing.assert_array_equal(max_unpool(np.array([[[[1.0]]]]), x), [[[[1.0, 0.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("shape, pool", [((2, 3, 4, 6), 2), ((1, 2, 7, 5), 2), ((1, 1, 9, 6), 3)])
def test_max_unpool_equals_brute_force_with_ties(rng, shape, pool):
    x = rng.integers(0, 3, size=shape).astype(np.float64)
    y = rng.standard_normal(oracles.max_pool(x, pool, pool).shape)
    np.testing.assert_array_equal(max_unpool(y, x, pool, pool), oracles.max_unpool(y, x, pool))


def test_max_unpool_of_pooled_values_keeps_only_the_maxima(rng):
    x = distinct_values(rng, (1, 2, 4, 4))
    restored = max_unpool(max_pool_forward(x), x)
    np.testing.assert_array_equal(restored, np.where(restored != 0, x, 0))
    np.testing.assert_array_equal(max_pool_forward(restored), max_pool_forward(x))


def test_max_unpool_keeps_the_dtype_of_y(rng):
    x = rng.standard_normal((1, 1, 4, 4))
    assert max_unpool(np.ones((1, 1, 2, 2), np.float32), x).dtype == np.float32


def test_max_unpool_rejects_overlapping_windows():
    with pytest.raises(ValueError, match="stride == pool"):
        max_unpool(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), pool=2, stride=1)


def test_max_unpool_rejects_y_of_the_wrong_shape():
    with pytest.raises(ValueError, match="y must have shape"):
        max_unpool(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)))
