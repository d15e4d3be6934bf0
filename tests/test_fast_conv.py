"""solutions/fast_conv.py: Winograd F(2x2, 3x3) and FFT convolution compute the reference's
conv layer (solutions.conv_forward_naive) on every geometry they accept. No timing here:
speed is measured in benchmarks/bench_kernels.py, as ratios within one run."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.signal import correlate2d

from solutions import conv_forward_naive
from solutions.fast_conv import (WINOGRAD_AT, WINOGRAD_BT, WINOGRAD_G, conv_forward_fft, conv_forward_winograd,
                                 winograd_filters, winograd_tile)


def test_winograd_tile_by_hand_one_dimension_at_a_time():
    """F(2, 3) in 1D: d = (1, 2, 3, 4), g = (1, 0, -1) gives (1 - 3, 2 - 4) = (-2, -2)."""
    d, g = np.array([1.0, 2, 3, 4]), np.array([1.0, 0, -1])
    m = (WINOGRAD_G @ g) * (WINOGRAD_BT @ d)          # the 4 products of Winograd's algorithm
    np.testing.assert_allclose(WINOGRAD_AT @ m, [-2, -2])


def test_winograd_tile_is_the_valid_correlation_of_a_4x4_tile(rng):
    d, g = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
    np.testing.assert_allclose(winograd_tile(d, g), correlate2d(d, g, mode="valid"), rtol=1e-12, atol=1e-12)


@given(n=st.integers(1, 2), c=st.integers(1, 3), f=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
       pad=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_winograd_equals_the_reference_conv(n, c, f, h, w, pad, seed):
    if h + 2 * pad < 3 or w + 2 * pad < 3:
        return
    rng = np.random.default_rng(seed)
    x, k, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, 3, 3)), rng.standard_normal(f)
    np.testing.assert_allclose(conv_forward_winograd(x, k, b, pad), conv_forward_naive(x, k, b, 1, pad),
                               rtol=1e-10, atol=1e-10)


@given(n=st.integers(1, 2), c=st.integers(1, 3), f=st.integers(1, 3), h=st.integers(1, 10), w=st.integers(1, 10),
       kh=st.integers(1, 5), kw=st.integers(1, 5), stride=st.integers(1, 3), pad=st.integers(0, 2),
       seed=st.integers(0, 2**16))
def test_fft_conv_equals_the_reference_conv(n, c, f, h, w, kh, kw, stride, pad, seed):
    if h + 2 * pad < kh or w + 2 * pad < kw:
        return
    rng = np.random.default_rng(seed)
    x, k, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, kh, kw)), rng.standard_normal(f)
    np.testing.assert_allclose(conv_forward_fft(x, k, b, stride, pad), conv_forward_naive(x, k, b, stride, pad),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fn", [lambda x, w, b: conv_forward_winograd(x, w, b, 1),
                                lambda x, w, b: conv_forward_fft(x, w, b, 1, 1)])
def test_float32_in_float32_out_close_to_the_float64_result(fn, rng):
    x, w, b = rng.standard_normal((2, 8, 12, 12)), rng.standard_normal((4, 8, 3, 3)), rng.standard_normal(4)
    got = fn(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, conv_forward_naive(x, w, b, 1, 1), rtol=1e-4, atol=1e-4)


def test_winograd_accepts_pretransformed_filters(rng):
    x, w, b = rng.standard_normal((1, 3, 6, 6)), rng.standard_normal((2, 3, 3, 3)), np.zeros(2)
    np.testing.assert_allclose(conv_forward_winograd(x, w, b, 1, transformed=winograd_filters(w)),
                               conv_forward_winograd(x, w, b, 1))


def test_winograd_rejects_other_kernel_sizes(rng):
    with pytest.raises(ValueError, match="3x3 filters"):
        conv_forward_winograd(rng.standard_normal((1, 1, 6, 6)), rng.standard_normal((1, 1, 5, 5)), np.zeros(1))


def test_winograd_does_16_multiplications_per_tile_where_direct_does_36():
    """The count behind the 2.25x: a 2x2 output tile of a 3x3 filter, per (filter, channel)."""
    direct = 2 * 2 * 3 * 3
    winograd = WINOGRAD_BT.shape[0] * WINOGRAD_BT.shape[0]
    assert (direct, winograd, direct / winograd) == (36, 16, 2.25)


def test_fast_length_is_the_next_size_with_only_factors_2_3_5():
    from solutions.fast_conv import fast_length
    assert [fast_length(n) for n in (1, 7, 11, 58, 61, 229)] == [1, 8, 12, 60, 64, 240]
