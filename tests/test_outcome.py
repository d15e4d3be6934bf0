"""autograder/outcome.py: the outcome-graded fine-tuning task of ch08_fine_tuning."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from autograder import outcome
from solutions.training import freeze_below, replace_head, small_cnn, train


@pytest.fixture(scope="module")
def inputs():
    return outcome.task_inputs()


def fine_tuned(inputs, first_trainable, lr):
    """An honest fine_tune: shipped weights, a fresh head, layers from first_trainable trained."""
    params, x, y = inputs
    net = replace_head(small_cnn(n_classes=5).load(params), 5, seed=0)
    freeze_below(net, first_trainable)
    with threadpool_limits(1):
        train(net, x, y, steps=300, batch_size=32, lr=lr, seed=0, progress=False)
    return net.params()


@pytest.mark.slow
def test_fine_tuning_the_whole_network_at_a_tenth_of_the_lr_passes_with_margin(inputs):
    params = fine_tuned(inputs, "conv1", lr=0.005)
    acc, _ = outcome.evaluate(params)
    assert acc >= outcome.THRESHOLD + 0.04
    assert outcome.grade(params)[0] == outcome.MAX_POINTS


@pytest.mark.slow
def test_fine_tuning_the_dense_layers_passes_with_margin(inputs):
    acc, _ = outcome.evaluate(fine_tuned(inputs, "fc1", lr=0.05))
    assert acc >= outcome.THRESHOLD + 0.03


def test_the_untouched_pretrained_network_fails_by_far(inputs):
    params, _, _ = inputs
    acc, _ = outcome.evaluate(params)
    assert acc <= outcome.THRESHOLD - 0.5
    points, message = outcome.grade(params)
    assert points == 0 and "below the threshold 0.90" in message


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_random_untrained_network_fails_by_far(seed):
    acc, _ = outcome.evaluate(small_cnn(n_classes=5, seed=seed).params())
    assert acc <= outcome.THRESHOLD - 0.4


def test_the_shipped_weights_have_the_stated_names_and_shapes(inputs):
    params, _, _ = inputs
    assert {k: v.shape for k, v in params.items()} == outcome.PARAM_SHAPES
    assert outcome.PARAM_SHAPES["conv2.w"] == (32, 16, 3, 3) and outcome.PARAM_SHAPES["fc1.W"] == (64, 128)


def test_the_training_inputs_never_contain_a_held_out_image(inputs):
    _, x_train, y_train = inputs
    x_heldout, _ = outcome.heldout()
    train_rows = {row.tobytes() for row in x_train.reshape(len(x_train), -1)}
    assert not any(row.tobytes() in train_rows for row in x_heldout.reshape(len(x_heldout), -1))
    assert x_train.shape == (646, 1, 8, 8) and y_train.shape == (646,)


def test_a_missing_parameter_scores_zero_and_is_named(inputs):
    params = dict(inputs[0])
    del params["fc1.b"]
    points, message = outcome.grade(params)
    assert points == 0 and "lacks fc1.b" in message


def test_a_reshaped_head_scores_zero_and_says_the_shape(inputs):
    params = dict(inputs[0], **{"fc2.W": np.zeros((10, 64)), "fc2.b": np.zeros(10)})
    points, message = outcome.grade(params)
    assert points == 0 and "fc2.W has shape (10, 64), expected (5, 64)" in message


def test_extra_entries_score_zero_and_are_named(inputs):
    points, message = outcome.grade(dict(inputs[0], fc3=np.zeros(3)))
    assert points == 0 and "unexpected entries fc3" in message


def test_a_nan_parameter_scores_zero_and_says_so(inputs):
    params = dict(inputs[0], **{"conv1.w": np.full((16, 1, 3, 3), np.nan)})
    points, message = outcome.grade(params)
    assert points == 0 and "conv1.w contains NaN" in message


def test_something_other_than_a_dict_scores_zero(inputs):
    points, message = outcome.grade(tuple(inputs[0].values()))
    assert points == 0 and "returned a tuple" in message


def test_a_non_array_value_scores_zero(inputs):
    points, message = outcome.grade(dict(inputs[0], **{"fc2.b": [0.0] * 5}))
    assert points == 0 and "fc2.b is a list" in message
