"""autograder/outcome.py: the outcome-graded fine-tuning task of ch08_fine_tuning, and how the
grader runs it (in the sandbox, with its own time limit, all or nothing)."""
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from autograder import incell, outcome
from autograder.batch import time_budget
from autograder.cases import build_cases
from autograder.grading import CaseRunner
from autograder.points import POINTS
from autograder.sandbox import Limits, Sandbox
from corpus.build import correct_cells
from corpus.run import exec_cells
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


# ---------------------------------------------------------------- the task in the grader

def test_fine_tune_is_graded_after_fc_to_conv_with_the_tasks_points():
    assert list(POINTS["ch08_fine_tuning"]) == ["fc_to_conv", "fine_tune"]
    assert POINTS["ch08_fine_tuning"]["fine_tune"] == outcome.MAX_POINTS


def test_fine_tune_is_one_all_or_nothing_case_with_its_own_time_limit():
    cases = build_cases("ch08_fine_tuning", 0, functions={"fine_tune"})
    assert [(c.points, c.seconds, c.kind) for c in cases] == [(outcome.MAX_POINTS, outcome.TIME_LIMIT_SECONDS,
                                                                "outcome")]


def test_the_time_budget_of_a_submission_leaves_room_for_the_whole_fine_tune_call():
    ch08, ch03 = build_cases("ch08_fine_tuning", 0), build_cases("ch03_padding_stride", 0)
    assert time_budget(ch08, 10) == time_budget(ch03, 10) + outcome.TIME_LIMIT_SECONDS


def test_the_hidden_test_cells_in_process_check_credits_a_real_fine_tune(capsys):
    """autograder.incell.check, as the source notebook's hidden test calls it, on the corpus' fine_tune."""
    fine_tune = exec_cells(correct_cells("ch08_fine_tuning"))["fine_tune"]
    with threadpool_limits(1):  # as in the sandbox: BLAS threads only fight on a loaded machine
        assert incell.check("ch08_fine_tuning", "fine_tune", fine_tune) == outcome.MAX_POINTS
    assert "fine_tune: 5 / 5 points" in capsys.readouterr().out


def grade_fine_tune(source, call_seconds=5.0):
    """The TestResult of the fine_tune case for a cell `source`, run in the sandbox."""
    case, = build_cases("ch08_fine_tuning", 0, functions={"fine_tune"})
    with Sandbox([("fine_tune", source)], limits=Limits(call_seconds=call_seconds)) as sandbox:
        runner = CaseRunner(sandbox, assignment="ch08_fine_tuning", call_seconds=call_seconds, limits=sandbox.limits)
        return runner.run(case)


def returns(expression):
    return f"def fine_tune(params, x_train, y_train):\n    params = dict(params)\n    return {expression}\n"


@pytest.mark.sandbox
def test_a_real_fine_tune_in_the_sandbox_earns_every_point_and_says_its_accuracy():
    result = grade_fine_tune(correct_cells("ch08_fine_tuning")["fine_tune"])
    assert result.passed and result.points == outcome.MAX_POINTS, result.message
    assert "held-out accuracy 0.9" in result.message and "threshold 0.90" in result.message


@pytest.mark.sandbox
def test_returning_the_params_untouched_fails_saying_the_accuracy_and_the_threshold():
    result = grade_fine_tune(returns("params"))
    assert not result.passed and result.points == 0
    assert result.mistakes == ["below_threshold"]
    assert "held-out accuracy 0.180" in result.message and "below the threshold 0.90" in result.message
    assert "exactly the pretrained ones" in result.message


BAD_RETURNS = {
    "renamed_key": (returns('{("fc2.weight" if k == "fc2.W" else k): v for k, v in params.items()}'),
                    "wrong_keys", ["lacks fc2.W"]),
    "extra_key": (returns('dict(params, fc3=np.zeros(3))'), "wrong_keys", ["unexpected entries fc3"]),
    "ten_class_head": (returns('dict(params, **{"fc2.W": np.zeros((10, 64)), "fc2.b": np.zeros(10)})'),
                       "wrong_shape", ["fc2.W has shape (10, 64), expected (5, 64)"]),
    "diverged": (returns('dict(params, **{"fc1.W": params["fc1.W"] * np.nan})'), "nan_or_inf", ["fc1.W contains NaN"]),
    "none": ("def fine_tune(params, x_train, y_train):\n    params['fc2.b'] += 1\n", "returns_none",
             ["returned None"]),
    "list_of_arrays": (returns("list(params.values())"), "wrong_type", ["returned a list"]),
    "generator": (returns("(v for v in params.values())"), "wrong_type", ["generator", "return a dict"]),
    "object_array": (returns('dict(params, **{"fc2.b": np.array([None] * 5)})'),
                     "wrong_type", ["fc2.b is not a numpy array of numbers", "dtype object"]),
    "integer_key": (returns("{**params, 3: 1}"), "wrong_type", ["keys must be str"]),
}


@pytest.mark.sandbox
@pytest.mark.parametrize("name", BAD_RETURNS)
def test_an_unusable_returned_network_fails_with_a_message_saying_what_is_wrong(name):
    source, mistake, words = BAD_RETURNS[name]
    result = grade_fine_tune(source)
    assert not result.passed and result.points == 0 and result.mistakes == [mistake]
    assert all(w in result.message for w in words), result.message


@pytest.mark.sandbox
def test_a_fine_tune_that_loops_forever_times_out_at_the_tasks_limit(monkeypatch):
    monkeypatch.setattr(outcome, "TIME_LIMIT_SECONDS", 2)  # the real 120 s, shortened for the test
    start = time.monotonic()
    result = grade_fine_tune("def fine_tune(params, x_train, y_train):\n    while True:\n        pass\n")
    assert not result.passed and result.mistakes == ["timeout"] and "within 2 s" in result.message
    assert time.monotonic() - start < 30


@pytest.mark.sandbox
def test_the_tasks_limit_replaces_the_per_call_limit_for_fine_tune_only():
    """A fine_tune slower than the grader's per-call limit still runs to the end (and is judged)."""
    slow = "import time\n\n\n" + returns("params").replace("    return", "    time.sleep(2.5)\n    return")
    result = grade_fine_tune(slow, call_seconds=1.0)
    assert result.mistakes == ["below_threshold"]
