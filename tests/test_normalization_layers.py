"""solutions/normalization_layers.py: the layers chapter 5's experiments train, checked
against centred differences and against the functions they wrap."""
import numpy as np
import pytest

from solutions import groupnorm_forward, numerical_gradient, spatial_batchnorm_forward
from solutions.layers import Conv
from solutions.normalization_layers import BatchNorm2d, GroupNorm, fold_batchnorm, set_training, with_norm
from solutions.training import small_cnn


def rel_error(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-300))


def layer_gradients_match(layer, x, rng):
    """Backward of layer (dx and every parameter) against centred differences."""
    dout = rng.standard_normal(layer.forward(x).shape)
    layer.forward(x)
    dx = layer.backward(dout)
    assert rel_error(dx, numerical_gradient(layer.forward, x.copy(), dout)) < 1e-7
    for name, p in layer.params.items():
        def f(value, name=name):
            layer.params[name] = value
            return layer.forward(x)
        num = numerical_gradient(f, p.copy(), dout)
        layer.params[name] = p
        assert rel_error(layer.grads[name], num) < 1e-7, name


def with_random_affine(layer, rng):
    layer.params = {k: rng.standard_normal(v.shape) for k, v in layer.params.items()}
    return layer


def test_batchnorm2d_training_mode_gradients_match_centred_differences(rng):
    bn = with_random_affine(BatchNorm2d(3), rng)
    bn.momentum = 0.0                     # the checks' forward calls must not move the statistics
    layer_gradients_match(bn, rng.standard_normal((2, 3, 4, 4)), rng)


def test_batchnorm2d_inference_mode_gradients_match_centred_differences(rng):
    bn = with_random_affine(BatchNorm2d(3), rng)
    bn.running_mean, bn.running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    bn.training = False
    layer_gradients_match(bn, rng.standard_normal((2, 3, 4, 4)), rng)


def test_groupnorm_gradients_match_centred_differences(rng):
    layer_gradients_match(with_random_affine(GroupNorm(4, 2), rng), rng.standard_normal((2, 4, 3, 3)), rng)


def test_batchnorm2d_training_forward_is_spatial_batchnorm_and_updates_running_statistics(rng):
    bn = with_random_affine(BatchNorm2d(3), rng)
    x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
    out = bn.forward(x)
    np.testing.assert_allclose(out, spatial_batchnorm_forward(x, bn.params["gamma"], bn.params["beta"]))
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=(0, 2, 3)))
    n = 4 * 5 * 5
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=(0, 2, 3)) * n / (n - 1))


def test_batchnorm2d_inference_mode_leaves_running_statistics_alone(rng):
    bn = BatchNorm2d(3)
    bn.training = False
    bn.forward(rng.standard_normal((2, 3, 4, 4)) + 5)
    assert np.all(bn.running_mean == 0) and np.all(bn.running_var == 1)


def test_groupnorm_forward_is_groupnorm_forward(rng):
    gn = with_random_affine(GroupNorm(6, 3), rng)
    x = rng.standard_normal((2, 6, 4, 4))
    np.testing.assert_allclose(gn.forward(x), groupnorm_forward(x, gn.params["gamma"], gn.params["beta"], 3))


def test_folding_batchnorm_into_the_conv_gives_the_same_inference_output(rng):
    conv = Conv(rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4))
    bn = with_random_affine(BatchNorm2d(4), rng)
    bn.running_mean, bn.running_var = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    bn.training = False
    x = rng.standard_normal((2, 3, 6, 6))
    folded = Conv(*fold_batchnorm(conv, bn))
    np.testing.assert_allclose(folded.forward(x), bn.forward(conv.forward(x)), rtol=1e-10, atol=1e-12)


def test_with_norm_none_is_small_cnn_and_same_seed_gives_same_weights():
    plain, reference = with_norm(None, seed=3), small_cnn(seed=3)
    assert list(plain.layers) == list(reference.layers)
    for name, value in reference.params().items():
        np.testing.assert_array_equal(plain.params()[name], value)
    batch = with_norm("batch", seed=3, scale=2.0)
    np.testing.assert_array_equal(batch.params()["conv1.w"], 2.0 * value_of(reference, "conv1.w"))


def value_of(net, name):
    return net.params()[name]


@pytest.mark.parametrize("place, order", [("before", ["conv1", "norm1", "relu1"]),
                                          ("after", ["conv1", "relu1", "norm1"])])
def test_with_norm_places_the_norm_before_or_after_the_relu(place, order):
    assert list(with_norm("batch", place=place).layers)[:3] == order


def test_set_training_switches_every_norm_layer():
    net = set_training(with_norm("batch"), False)
    assert [layer.training for layer in net.layers.values() if hasattr(layer, "training")] == [False, False]


def test_with_norm_rejects_an_unknown_norm():
    with pytest.raises(ValueError, match="norm must be"):
        with_norm("layer")
