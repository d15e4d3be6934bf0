"""The layers of solutions/layers.py, and dense layers rewritten as convolutions.

Forward passes are compared with the brute-force oracles; every backward is compared with
centred differences of its own forward (written here, independently of the course's
numerical_gradient).
"""
import numpy as np
import pytest

from oracles import conv as conv_oracle
from solutions.fine_tuning import convolutionalize, fc_to_conv
from solutions.layers import Conv, Dense, Flatten, MaxPool, ReLU, Sequential, softmax_cross_entropy
from solutions.training import small_cnn


def centred_difference(f, x, h=1e-6):
    """d f(x) / dx for a scalar f, one element at a time: (f(x + h) - f(x - h)) / 2h."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def check_layer_gradients(layer, x, rng):
    """Backward of layer against centred differences of L = sum(forward(x) * dout)."""
    dout = rng.normal(size=layer.forward(x).shape)
    layer.forward(x)
    dx = layer.backward(dout)
    loss = lambda: np.sum(layer.forward(x) * dout)
    np.testing.assert_allclose(dx, centred_difference(loss, x), rtol=1e-5, atol=1e-7)
    for name, param in layer.params.items():
        np.testing.assert_allclose(layer.grads[name], centred_difference(loss, param), rtol=1e-5, atol=1e-7)


def test_conv_forward_matches_brute_force_oracle(rng):
    x, w, b = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    np.testing.assert_allclose(Conv(w, b, stride=2, pad=1).forward(x), conv_oracle(x, w, b, 2, 1), rtol=1e-10)


def test_conv_gradients_match_centred_differences(rng):
    layer = Conv(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), stride=1, pad=1)
    check_layer_gradients(layer, rng.normal(size=(2, 2, 5, 5)), rng)


def test_relu_gradients_match_centred_differences(rng):
    # Inputs kept away from 0, where ReLU has its kink and differences are meaningless.
    x = rng.uniform(0.1, 1.0, size=(3, 8)) * rng.choice([-1, 1], size=(3, 8))
    check_layer_gradients(ReLU(), x, rng)


def test_maxpool_gradients_match_centred_differences(rng):
    # Distinct values, so that a small step never changes which element is a window's max.
    x = rng.permutation(2 * 2 * 4 * 4).reshape(2, 2, 4, 4) / 10.0
    check_layer_gradients(MaxPool(2, 2), x, rng)


def test_flatten_gradients_match_centred_differences(rng):
    check_layer_gradients(Flatten(), rng.normal(size=(2, 3, 2, 2)), rng)


def test_dense_gradients_match_centred_differences(rng):
    check_layer_gradients(Dense(rng.normal(size=(4, 6)), rng.normal(size=4)), rng.normal(size=(3, 6)), rng)


def test_dense_computes_x_times_w_transposed_plus_b():
    W, b = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]), np.array([0.5, 0.0, -1.0])
    x = np.array([[1.0, 1.0]])
    np.testing.assert_allclose(Dense(W, b).forward(x), [[3.5, -1.0, 2.5]])


def test_dense_rejects_input_of_wrong_width(rng):
    with pytest.raises(ValueError, match="x has 5 features, W expects 6"):
        Dense(rng.normal(size=(4, 6)), np.zeros(4)).forward(rng.normal(size=(2, 5)))


def test_softmax_cross_entropy_matches_its_definition(rng):
    scores, y = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    loss, _ = softmax_cross_entropy(scores, y)
    expected = np.mean([-np.log(np.exp(s[k]) / np.exp(s).sum()) for s, k in zip(scores, y)])
    assert loss == pytest.approx(expected, rel=1e-12)


def test_softmax_cross_entropy_gradient_matches_centred_differences(rng):
    scores, y = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    _, dscores = softmax_cross_entropy(scores, y)
    numeric = centred_difference(lambda: softmax_cross_entropy(scores, y)[0], scores)
    np.testing.assert_allclose(dscores, numeric, rtol=1e-6, atol=1e-9)


def test_softmax_cross_entropy_stays_finite_for_huge_scores():
    loss, dscores = softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0]))
    assert loss == pytest.approx(500.0) and np.all(np.isfinite(dscores))


def test_softmax_cross_entropy_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))


def test_small_cnn_gradients_match_centred_differences(rng):
    net = small_cnn(n_classes=5, seed=1, channels=(2, 3), hidden=4)
    x, y = rng.normal(size=(2, 1, 8, 8)), np.array([1, 4])
    loss = lambda: softmax_cross_entropy(net.forward(x), y)[0]
    _, dscores = softmax_cross_entropy(net.forward(x), y)
    dx = net.backward(dscores)
    np.testing.assert_allclose(dx, centred_difference(loss, x), rtol=1e-4, atol=1e-8)
    for name, grad in net.grads().items():
        np.testing.assert_allclose(grad, centred_difference(loss, net.params()[name]), rtol=1e-4, atol=1e-8)


def test_sequential_names_parameters_by_layer():
    assert list(small_cnn().params()) == ["conv1.w", "conv1.b", "conv2.w", "conv2.b",
                                          "fc1.W", "fc1.b", "fc2.W", "fc2.b"]


def test_sequential_backward_stops_below_the_lowest_trainable_layer(rng):
    net = small_cnn(seed=0)
    net.frozen = {"conv1", "conv2", "fc1"}
    _, dscores = softmax_cross_entropy(net.forward(rng.normal(size=(2, 1, 8, 8))), np.array([0, 1]))
    assert net.backward(dscores) is None
    assert list(net.grads()) == ["fc2.W", "fc2.b"]


def test_sequential_load_names_the_wrong_shape():
    params = small_cnn().params()
    params["fc2.W"] = np.zeros((3, 64))
    with pytest.raises(ValueError, match=r"fc2.W must have shape \(5, 64\), got \(3, 64\)"):
        small_cnn().load(params)


def test_sequential_load_names_missing_parameters():
    params = small_cnn().params()
    del params["conv2.b"]
    with pytest.raises(ValueError, match="missing \\['conv2.b'\\]"):
        small_cnn().load(params)


def test_sequential_load_copies_so_training_cannot_change_the_callers_arrays():
    params = {k: v.copy() for k, v in small_cnn(seed=3).params().items()}
    net = small_cnn().load(params)
    net.layers["conv1"].params["w"] += 1.0
    np.testing.assert_array_equal(params["conv1.w"], small_cnn(seed=3).params()["conv1.w"])


# --- Dense layers as convolutions ----------------------------------------------------------
def test_fc_to_conv_equals_the_dense_layer_on_the_training_size(rng):
    x, W, b = rng.normal(size=(3, 2, 4, 5)), rng.normal(size=(6, 40)), rng.normal(size=6)
    w_conv, b_conv = fc_to_conv(W, b, (2, 4, 5))
    out = conv_oracle(x, w_conv, b_conv)
    assert out.shape == (3, 6, 1, 1)
    np.testing.assert_allclose(out[:, :, 0, 0], x.reshape(3, -1) @ W.T + b, rtol=1e-10)


def test_fc_to_conv_slides_the_dense_layer_over_a_larger_input(rng):
    x, W, b = rng.normal(size=(1, 2, 7, 9)), rng.normal(size=(6, 2 * 4 * 5)), rng.normal(size=6)
    out = conv_oracle(x, *fc_to_conv(W, b, (2, 4, 5)))
    assert out.shape == (1, 6, 4, 5)
    for i in range(4):
        for j in range(5):
            crop = x[0, :, i:i + 4, j:j + 5].ravel()
            np.testing.assert_allclose(out[0, :, i, j], W @ crop + b, rtol=1e-10)


def test_convolutionalized_network_gives_the_networks_scores_on_8x8_images(rng):
    net, x = small_cnn(seed=4), rng.uniform(size=(3, 1, 8, 8))
    scores = convolutionalize(net, (1, 8, 8)).forward(x)
    assert scores.shape == (3, 5, 1, 1)
    np.testing.assert_allclose(scores[:, :, 0, 0], net.forward(x), rtol=1e-10, atol=1e-12)


def test_convolutionalized_network_classifies_every_crop_at_stride_2(rng):
    net, canvas = small_cnn(seed=4), rng.uniform(size=(1, 1, 14, 20))
    scores = convolutionalize(net, (1, 8, 8)).forward(canvas)
    assert scores.shape == (1, 5, 4, 7)     # (14 - 8) / 2 + 1 by (20 - 8) / 2 + 1 crops
    crops = np.stack([canvas[0, :, 2 * i:2 * i + 8, 2 * j:2 * j + 8] for i in range(4) for j in range(7)])
    np.testing.assert_allclose(scores[0].reshape(5, -1).T, net.forward(crops), rtol=1e-10, atol=1e-12)


def test_convolutionalize_leaves_the_original_network_alone(rng):
    net = small_cnn(seed=4)
    before = {k: v.copy() for k, v in net.params().items()}
    convolutionalize(net, (1, 8, 8)).layers["conv1"].params["w"] += 1.0
    for name, value in net.params().items():
        np.testing.assert_array_equal(value, before[name])
