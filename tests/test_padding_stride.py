"""Chapter 3 (padding and stride): output sizes, same padding, zero_pad, corr1d, receptive fields."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import oracles
from solutions import conv_forward_naive, conv_output_size, corr1d, receptive_field, same_padding, zero_pad


# conv_output_size -----------------------------------------------------------------------

def test_conv_output_size_of_alexnet_conv1_is_55():
    assert conv_output_size(227, 11, stride=4) == 55


def test_2x2_pool_at_stride_1_takes_30_to_29():
    assert conv_output_size(30, 2, stride=1) == 29


def test_ten_valid_5x5_layers_take_200_to_160():
    n = 200
    for _ in range(10):
        n = conv_output_size(n, 5)
    assert n == 160


def test_conv_output_size_rounds_down_when_the_stride_leaves_a_remainder():
    # Windows of 3 at stride 2 on 8: starts 0, 2, 4 (a start at 6 would need index 8).
    assert conv_output_size(8, 3, stride=2) == 3


def test_conv_output_size_counts_dilated_windows():
    # A 3-tap kernel dilated by 2 spans 5 inputs: 7 - 5 + 1 = 3 positions.
    assert conv_output_size(7, 3, dilation=2) == 3


@given(n=st.integers(1, 40), k=st.integers(1, 8), stride=st.integers(1, 5), pad=st.integers(0, 4),
       dilation=st.integers(1, 3))
def test_conv_output_size_equals_the_number_of_window_positions(n, k, stride, pad, dilation):
    positions = oracles.window_positions(n, k, stride, pad, dilation)
    if positions >= 1:
        assert conv_output_size(n, k, stride, pad, dilation) == positions
    else:
        with pytest.raises(ValueError):
            conv_output_size(n, k, stride, pad, dilation)


def test_conv_output_size_rejects_a_window_that_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(4, 7, pad=1)


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"stride": 1.5}, {"pad": -1}, {"dilation": 0}])
def test_conv_output_size_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        conv_output_size(10, 3, **kwargs)


# same_padding ---------------------------------------------------------------------------

def test_same_padding_of_3x3_is_1_1():
    assert same_padding(3) == (1, 1)


def test_same_padding_of_an_even_kernel_puts_the_extra_zero_after():
    assert same_padding(4) == (1, 2)
    assert same_padding(2) == (0, 1)


def test_same_padding_of_1x1_is_none():
    assert same_padding(1) == (0, 0)


def test_same_padding_grows_with_dilation():
    # Total dilation*(k-1) = 2*2 = 4.
    assert same_padding(3, dilation=2) == (2, 2)


@given(k=st.integers(1, 9), dilation=st.integers(1, 4), n=st.integers(1, 12))
def test_same_padding_keeps_the_size_at_stride_1(k, dilation, n):
    before, after = same_padding(k, dilation)
    assert before <= after <= before + 1
    # Count the window starts on an axis padded (before, after): exactly n.
    span = dilation * (k - 1) + 1
    starts = [s for s in range(n + before + after) if s + span <= n + before + after]
    assert len(starts) == n


def test_same_padding_rejects_a_zero_kernel():
    with pytest.raises(ValueError, match="k"):
        same_padding(0)


# zero_pad ---------------------------------------------------------------------------------

def test_zero_pad_surrounds_the_image_with_zeros(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(zero_pad(x, 2), oracles.pad_hw(x, 2))


def test_zero_pad_with_a_pair_pads_height_and_width_differently(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    out = zero_pad(x, (1, 2))
    assert out.shape == (1, 2, 5, 8)
    for i in range(5):
        for j in range(8):
            inside = 1 <= i < 4 and 2 <= j < 6
            expected = x[:, :, i - 1, j - 2] if inside else 0.0
            np.testing.assert_array_equal(out[:, :, i, j], expected)


def test_zero_pad_by_0_returns_the_same_values(rng):
    x = rng.standard_normal((1, 1, 3, 3))
    np.testing.assert_array_equal(zero_pad(x, 0), x)


def test_zero_pad_keeps_float32_and_does_not_modify_x(rng):
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    before = x.copy()
    assert zero_pad(x, 1).dtype == np.float32
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("pad", [-1, 1.5, (1, 2, 3), (1, -1), "1"])
def test_zero_pad_rejects_bad_pads(pad):
    with pytest.raises(ValueError, match="pad"):
        zero_pad(np.ones((1, 1, 3, 3)), pad)


def test_zero_pad_rejects_a_2d_input():
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        zero_pad(np.ones((3, 3)), 1)


def test_padding_3x3_convs_by_same_padding_keeps_the_size(rng):
    x, w = rng.standard_normal((1, 2, 7, 6)), rng.standard_normal((3, 2, 3, 3))
    before, after = same_padding(3)
    assert before == after
    assert conv_forward_naive(x, w, np.zeros(3), pad=before).shape == (1, 3, 7, 6)


# corr1d -----------------------------------------------------------------------------------

def test_corr1d_contract_example_valid():
    np.testing.assert_allclose(corr1d([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], "valid"), [6.0])


def test_corr1d_contract_example_same():
    np.testing.assert_allclose(corr1d([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], "same"), [3.0, 6.0, 5.0])


def test_corr1d_contract_example_full():
    np.testing.assert_allclose(corr1d([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], "full"), [1.0, 3.0, 6.0, 5.0, 3.0])


@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("n, m", [(7, 3), (6, 4), (5, 1), (4, 4)])
def test_corr1d_equals_numpy_correlate(rng, mode, n, m):
    x, k = rng.standard_normal(n), rng.standard_normal(m)
    np.testing.assert_allclose(corr1d(x, k, mode), np.correlate(x, k, mode), rtol=1e-10, atol=1e-12)


def _corr1d_same_by_hand(x, k):
    # Pad (m-1)//2 before and the rest after, then slide.
    m = len(k)
    before = (m - 1) // 2
    xp = [0.0] * before + list(x) + [0.0] * (m - 1 - before)
    return [sum(xp[i + j] * k[j] for j in range(m)) for i in range(len(x))]


@pytest.mark.parametrize("n, m", [(7, 3), (6, 4), (5, 2), (3, 5)])
def test_corr1d_same_keeps_the_length_and_pads_the_extra_zero_after(rng, n, m):
    x, k = rng.standard_normal(n), rng.standard_normal(m)
    y = corr1d(x, k, "same")
    assert y.shape == (n,)
    np.testing.assert_allclose(y, _corr1d_same_by_hand(x, k), rtol=1e-10, atol=1e-12)


def test_corr1d_same_of_odd_kernel_equals_numpy_correlate_same(rng):
    x, k = rng.standard_normal(9), rng.standard_normal(5)
    np.testing.assert_allclose(corr1d(x, k, "same"), np.correlate(x, k, "same"), rtol=1e-10, atol=1e-12)


def test_corr1d_keeps_float32():
    x = np.array([1, 2, 3], np.float32)
    assert corr1d(x, np.ones(2, np.float32), "full").dtype == np.float32


@pytest.mark.parametrize("mode", ["circular", "VALID", None])
def test_corr1d_rejects_an_unknown_mode(mode):
    with pytest.raises(ValueError, match="mode must be 'valid', 'same' or 'full'"):
        corr1d([1.0, 2.0], [1.0], mode)


def test_corr1d_valid_rejects_a_kernel_longer_than_x():
    with pytest.raises(ValueError, match="does not fit"):
        corr1d([1.0, 2.0], [1.0, 1.0, 1.0], "valid")


# receptive_field --------------------------------------------------------------------------

def test_three_stacked_3x3_layers_see_7_pixels():
    assert receptive_field([(3, 1), (3, 1), (3, 1)]) == [3, 5, 7]


def test_stride_multiplies_the_growth_of_later_layers():
    # 2x2 pool at stride 2 after a 3x3 conv: the next 3x3 conv adds 2 * 2.
    assert receptive_field([(3, 1), (2, 2), (3, 1)]) == [3, 4, 8]


def test_receptive_field_of_no_layers_is_empty():
    assert receptive_field([]) == []


@given(layers=st.lists(st.tuples(st.integers(1, 7), st.integers(1, 3)), min_size=1, max_size=6))
def test_receptive_field_equals_the_input_span_of_one_top_unit(layers):
    assert receptive_field(layers) == oracles.receptive_field(layers)


@pytest.mark.parametrize("layers", [[3], [(3,)], [(3, 0)], [(0, 1)], [(3, 1.5)]])
def test_receptive_field_rejects_malformed_layers(layers):
    with pytest.raises(ValueError, match="layer 0"):
        receptive_field(layers)
