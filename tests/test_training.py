"""solutions/training.py (optimiser, training loop, freezing, heads) and the digits splits."""
import numpy as np
import pytest

from solutions.fine_tuning import few_labels, load_digit_images, source_split, target_split
from solutions.training import SGD, accuracy, freeze, freeze_below, replace_head, small_cnn, train


@pytest.fixture(scope="module")
def source():
    return source_split()


def copies(params):
    return {k: v.copy() for k, v in params.items()}


def test_sgd_momentum_follows_v_then_p_update_by_hand():
    p = np.array([1.0, -2.0])
    opt = SGD({"p": p}, lr=0.1, momentum=0.5)
    opt.step({"p": np.array([1.0, 1.0])})   # v = g = [1, 1];        p = [0.9, -2.1]
    opt.step({"p": np.array([2.0, 0.0])})   # v = 0.5 v + g = [2.5, 0.5]; p = [0.65, -2.15]
    np.testing.assert_allclose(p, [0.65, -2.15])


def test_sgd_rejects_momentum_of_one():
    with pytest.raises(ValueError, match="momentum"):
        SGD({}, lr=0.1, momentum=1.0)


def test_training_loss_goes_down_on_a_fixed_seed(source):
    x, y, _, _ = source
    history = train(small_cnn(seed=0), x, y, steps=50, seed=0, progress=False)
    first, last = np.mean(history["loss"][:10]), np.mean(history["loss"][-10:])
    assert first > 1.0 and last < 0.3 * first


def test_training_is_reproducible_given_the_seed(source):
    x, y, _, _ = source
    runs = []
    for _ in range(2):
        net = small_cnn(seed=5)
        runs.append((train(net, x, y, steps=20, seed=7, progress=False)["loss"], net.params()))
    assert runs[0][0] == runs[1][0]
    for name in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][name], runs[1][1][name])


def test_training_records_a_learning_curve_at_the_requested_steps(source):
    x, y, xh, yh = source
    history = train(small_cnn(seed=0), x, y, steps=50, seed=0, x_eval=xh, y_eval=yh, eval_every=20,
                    progress=False)
    assert history["eval_step"] == [0, 20, 40, 50]
    assert len(history["eval_acc"]) == 4 and history["eval_acc"][-1] > history["eval_acc"][0]


def test_training_stops_with_a_clear_error_when_the_loss_is_not_finite(source):
    x, y, _, _ = source
    x = x.copy()
    x[:] = np.nan
    with pytest.raises(FloatingPointError, match="loss became nan at step 1"):
        train(small_cnn(seed=0), x, y, steps=5, progress=False)


def test_training_a_fully_frozen_network_is_an_error(source):
    x, y, _, _ = source
    net = freeze(small_cnn(), ["conv1", "conv2", "fc1", "fc2"])
    with pytest.raises(ValueError, match="every layer is frozen"):
        train(net, x, y, steps=1, progress=False)


def test_frozen_layers_keep_their_parameters_exactly(source):
    x, y, _, _ = source
    net = freeze(small_cnn(seed=2), ["conv1", "conv2"])
    before = copies(net.params())
    train(net, x, y, steps=30, seed=0, progress=False)
    for name in ["conv1.w", "conv1.b", "conv2.w", "conv2.b"]:
        np.testing.assert_array_equal(net.params()[name], before[name])
    for name in ["fc1.W", "fc2.W"]:
        assert not np.allclose(net.params()[name], before[name])


def test_freeze_names_unknown_layers():
    with pytest.raises(ValueError, match=r"no layers named \['fc3'\]"):
        freeze(small_cnn(), ["fc3"])


def test_freeze_below_freezes_exactly_the_earlier_layers():
    net = freeze_below(small_cnn(), "fc1")
    assert net.frozen == {"conv1", "relu1", "conv2", "relu2", "pool", "flatten"}
    assert list(net.trainable()) == ["fc1.W", "fc1.b", "fc2.W", "fc2.b"]


def test_replace_head_makes_a_new_trainable_head_and_keeps_the_body():
    net = small_cnn(seed=1)
    freeze(net, ["conv1", "fc2"])
    before = copies(net.params())
    replace_head(net, 3, seed=0)
    assert net.params()["fc2.W"].shape == (3, 64) and net.params()["fc2.b"].shape == (3,)
    assert "fc2" not in net.frozen and "conv1" in net.frozen
    for name in ["conv1.w", "conv2.w", "fc1.W"]:
        np.testing.assert_array_equal(net.params()[name], before[name])


def test_progress_bar_is_silent_when_asked(source, capsys):
    x, y, _, _ = source
    train(small_cnn(), x, y, steps=3, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_bar_shows_when_asked(source, capsys):
    x, y, _, _ = source
    train(small_cnn(), x, y, steps=3, progress=True)
    assert "training" in capsys.readouterr().err


def test_accuracy_counts_argmax_hits():
    net = small_cnn(seed=0)
    x = np.random.default_rng(0).uniform(size=(6, 1, 8, 8))
    predicted = net.forward(x).argmax(axis=1)
    y = predicted.copy()
    y[:2] = (y[:2] + 1) % 5
    assert accuracy(net, x, y) == pytest.approx(4 / 6)


# --- The digits splits ---------------------------------------------------------------------
def test_source_and_target_splits_partition_all_the_digits():
    x, y = load_digit_images()
    parts = [*source_split(), *target_split()]
    images = np.concatenate([parts[0], parts[2], parts[4], parts[6]])
    assert len(images) == len(x) == 1797
    assert len(np.unique(images.reshape(len(images), -1), axis=0)) == 1797


def test_target_split_holds_out_50_images_of_each_digit():
    _, y_train, _, y_heldout = target_split()
    assert np.bincount(y_heldout).tolist() == [50] * 5
    assert len(y_train) == 646 and set(np.unique(y_train)) == {0, 1, 2, 3, 4}


def test_target_labels_stand_for_digits_5_to_9():
    x_all, y_all = load_digit_images()
    x, y, _, _ = target_split()
    first_of_each = {label: x[np.flatnonzero(y == label)[0]] for label in range(5)}
    for label, image in first_of_each.items():
        matches = np.flatnonzero(np.all(x_all == image, axis=(1, 2, 3)))
        assert y_all[matches].tolist() == [label + 5]


def test_splits_are_the_same_on_every_call():
    np.testing.assert_array_equal(target_split()[0], target_split()[0])


def test_few_labels_takes_per_class_examples_of_each_label():
    x, y, _, _ = target_split()
    xs, ys = few_labels(x, y, 10, seed=3)
    assert np.bincount(ys).tolist() == [10] * 5 and xs.shape == (50, 1, 8, 8)


def test_few_labels_depends_on_the_seed():
    x, y, _, _ = target_split()
    assert not np.array_equal(few_labels(x, y, 10, seed=0)[0], few_labels(x, y, 10, seed=1)[0])


def test_few_labels_refuses_more_than_a_class_has():
    x, y, _, _ = target_split()
    with pytest.raises(ValueError, match="asked for 500"):
        few_labels(x, y, 500, seed=0)
