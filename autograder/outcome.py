"""The outcome-graded task of ch08_fine_tuning: fine-tune the shipped network on digits 5-9.

The task
--------
The student's notebook defines ``fine_tune(params, x_train, y_train) -> params``.

- ``params``: the shipped pretrained network (exercises/ch08_fine_tuning/pretrained.npz,
  written by scripts/pretrain.py, trained on digits 0-4), a dict of float64 arrays:

      conv1.w (16, 1, 3, 3)   conv1.b (16,)
      conv2.w (32, 16, 3, 3)  conv2.b (32,)
      fc1.W   (64, 128)       fc1.b   (64,)
      fc2.W   (5, 64)         fc2.b   (5,)

  The network (solutions.training.small_cnn) is: conv1 (3x3, stride 1, no padding) -> ReLU
  -> conv2 (3x3, stride 1, no padding) -> ReLU -> 2x2 max pool, stride 2 -> flatten in C
  order (32*2*2 = 128) -> fc1 (x @ W.T + b) -> ReLU -> fc2 -> 5 class scores; the prediction
  is the argmax. Convolutions are cross-correlations, as everywhere in the course.
- ``x_train``: (646, 1, 8, 8) float64 in [0, 1], ``y_train``: (646,) int labels 0..4 that
  stand for digits 5..9: the training part of the target split (``task_inputs()``), i.e.
  scikit-learn's ``load_digits`` images of digits 5-9 divided by 16, minus the held-out images.
- It returns a dict with exactly the same names and shapes: the fine-tuned network, whose
  output k is the score of digit 5 + k. How to get there is the student's choice (replace the
  head, freeze layers, pick a learning rate); the chapter's experiment shows what works.
- Fixed seed: fine_tune must seed whatever randomness it uses itself (for example
  ``np.random.default_rng(0)``) so that a re-run gives the same network. numpy only.
- Time limit: TIME_LIMIT_SECONDS (120 s) of wall time on 2 cores for the call, enforced by
  the grader's sandbox; the chapter's recipe takes a few seconds.

How it is graded
----------------
The grader runs ``fine_tune`` in its sandbox, then in its own process ``grade(params)``
checks the returned dict (names, shapes, finite numbers; anything else scores 0 with a
message saying what is wrong), runs the reference forward pass on the held-out split (50
images of each digit 5-9, 250 in all, disjoint from x_train and never passed to student
code) and gives MAX_POINTS if the accuracy is at least THRESHOLD, else 0.

The held-out split is hidden by convention, not by secrecy: the digits ship with
scikit-learn and the split is fixed (solutions.fine_tuning.target_split), so a student
could train on them; the task asks them not to.

The threshold
-------------
THRESHOLD = 0.90, chosen from these measurements (5 seeds each, 300 SGD steps of 32,
momentum 0.9, a fresh head; tests/test_outcome.py re-measures seed 0 of the first and third):

    whole network fine-tuned, lr 0.005 (a tenth of pretraining's)   0.952 - 0.968, mean 0.960
    whole network fine-tuned, lr 0.05                                0.956 - 0.976, mean 0.965
    fc1 and the head trained, convs frozen, lr 0.05                  0.944 - 0.964, mean 0.953
    only a new head on frozen features (linear probe), lr 0.05       0.900 - 0.924, mean 0.910
    the untouched shipped network (its outputs still mean 0-4)       0.180
    a randomly initialised, untrained network (seeds 0, 1, 2)        0.344, 0.172, 0.276

Fine-tuning beyond the head clears the threshold by 4 to 8 points (10 to 20 of the 250
images); the untouched and the untrained networks fall short by more than 55 points. A
linear probe alone sits at the threshold, which the chapter says: unfreeze more.
"""
from pathlib import Path

import numpy as np

from solutions.fine_tuning import load_params, target_split
from solutions.training import accuracy, small_cnn

from .checks import Verdict
from .diagnose import Finding
from .protocol import Opaque

WEIGHTS = Path(__file__).resolve().parents[1] / "exercises" / "ch08_fine_tuning" / "pretrained.npz"
THRESHOLD = 0.90
TIME_LIMIT_SECONDS = 120
MAX_POINTS = 5.0
PARAM_SHAPES = {name: value.shape for name, value in small_cnn(n_classes=5).params().items()}


def task_inputs(weights=WEIGHTS):
    """What fine_tune is called with: (pretrained params, x_train (646, 1, 8, 8), y_train (646,))."""
    x_train, y_train, _, _ = target_split()
    return load_params(weights), x_train, y_train


def heldout():
    """The held-out split the grade is measured on: x (250, 1, 8, 8), y (250,) labels 0..4."""
    _, _, x_heldout, y_heldout = target_split()
    return x_heldout, y_heldout


def validate(params):
    """None if params is a usable network, else a sentence saying what is wrong with it."""
    if not isinstance(params, dict):
        return (f"fine_tune returned a {type(params).__name__}; it must return a dict of numpy "
                f"arrays named like the params it was given ({', '.join(PARAM_SHAPES)})")
    missing = [name for name in PARAM_SHAPES if name not in params]
    if missing:
        return f"the returned dict lacks {', '.join(missing)}; keep every parameter of the network"
    extra = sorted(str(name) for name in params if name not in PARAM_SHAPES)
    if extra:
        return f"the returned dict has unexpected entries {', '.join(extra)}; return only {', '.join(PARAM_SHAPES)}"
    for name, shape in PARAM_SHAPES.items():
        value = params[name]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
            return f"{name} is a {type(value).__name__}, not a numpy array of numbers"
        if value.shape != shape:
            return (f"{name} has shape {value.shape}, expected {shape}: the network's shape must "
                    f"stay as shipped (the 5 outputs of fc2 become digits 5-9)")
        if not np.all(np.isfinite(value)):
            return f"{name} contains NaN or infinite values: training diverged (try a smaller learning rate)"
    return None


def evaluate(params):
    """(held-out accuracy, message), or (None, what is wrong) when params is not a usable network."""
    problem = validate(params)
    if problem:
        return None, problem
    x, y = heldout()
    acc = accuracy(small_cnn(n_classes=5).load(params), x, y)
    return acc, f"held-out accuracy {acc:.3f} ({round(acc * len(y))}/{len(y)} digits 5-9 right)"


def grade(params):
    """(points, message): MAX_POINTS if the held-out accuracy reaches THRESHOLD, else 0."""
    acc, message = evaluate(params)
    if acc is None:
        return 0.0, f"0/{MAX_POINTS:g} points: {message}"
    if acc >= THRESHOLD:
        return MAX_POINTS, f"{MAX_POINTS:g}/{MAX_POINTS:g} points: {message}, threshold {THRESHOLD:.2f}"
    return 0.0, (f"0/{MAX_POINTS:g} points: {message}, below the threshold {THRESHOLD:.2f}. "
                 f"Output k must score digit 5 + k: train the head (or replace it) on x_train, "
                 f"and unfreeze more layers if a new head alone is not enough")


def _catalogue_id(params):
    """The catalogue id of what validate finds wrong with params (same checks, same order)."""
    if params is None:
        return "returns_none"
    if not isinstance(params, dict):
        return "wrong_type"
    if set(params) != set(PARAM_SHAPES):
        return "wrong_keys"
    for name, shape in PARAM_SHAPES.items():
        value = params[name]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
            return "wrong_type"
        if value.shape != shape:
            return "wrong_shape"
        if not np.all(np.isfinite(value)):
            return "nan_or_inf"
    return None


def _unreadable(params):
    """What the protocol could not carry back (an Opaque stand-in), in words, else None."""
    if isinstance(params, Opaque):
        return (f"fine_tune returned {params!r}, which the grader cannot use: return a dict of numpy "
                f"arrays named like the params it was given ({', '.join(PARAM_SHAPES)})")
    if isinstance(params, dict):
        for name, value in params.items():
            if isinstance(value, Opaque):
                return f"{name} is not a numpy array of numbers (got {value!r})"
    return None


def _untouched(params, pretrained):
    return all(np.array_equal(params[name], value) for name, value in pretrained.items())


class HeldoutAccuracy:
    """The check of fine_tune's one case: its returned network reaches THRESHOLD on the
    held-out split (all of the case's points, or none). It calls fine_tune itself, on the
    task's inputs, with the case's own time limit and no callbacks."""
    kind = "outcome"

    def __call__(self, case, runner):
        inputs = task_inputs()
        pretrained = {name: value.copy() for name, value in inputs[0].items()}
        called = runner.call(case, inputs, callbacks=False)
        failure = runner.failure(case, called)
        if failure:
            return Verdict.failed(failure)
        zero = f"0/{MAX_POINTS:g} points:"
        params = called.value
        unreadable = _unreadable(params)
        if unreadable:
            return Verdict.failed(Finding("wrong_type", f"{zero} {unreadable}"))
        if params is None:
            return Verdict.failed(Finding("returns_none", f"{zero} fine_tune returned None: did it end without "
                                                          "`return`?"))
        points, message = grade(params)
        if points == MAX_POINTS:
            return Verdict(note=message)
        mistake = _catalogue_id(params)
        if mistake:
            return Verdict.failed(Finding(mistake, message))
        if _untouched(params, pretrained):
            message += (". The returned parameters are exactly the pretrained ones: did fine_tune return the dict "
                        "it was given instead of the one it trained?")
        return Verdict.failed(Finding("below_threshold", message))
