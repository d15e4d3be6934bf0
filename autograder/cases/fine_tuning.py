"""Cases of ch08_fine_tuning: fc_to_conv, and the outcome-graded fine_tune.

fine_tune is not compared with a reference: its one case (registered below with
autograder.cases.register) calls the student's fine_tune(*outcome.task_inputs()) in the
sandbox with outcome.TIME_LIMIT_SECONDS for that call, then scores the returned parameters
with outcome.grade: all of its points if the held-out accuracy reaches outcome.THRESHOLD,
none otherwise (autograder/outcome.py states the task).
"""
import numpy as np

from .. import outcome
from ..grading import call_failure
from ..protocol import Opaque
from . import Case, normal, register


def _hwc(W, b, in_shape):
    C, H, Wd = in_shape
    return W.reshape(W.shape[0], H, Wd, C).transpose(0, 3, 1, 2), b


def _hwc_unpermuted(W, b, in_shape):
    C, H, Wd = in_shape
    return W.reshape(W.shape[0], H, Wd, C), b


def _fc_to_conv(rng):
    grid = [(4, (3, 2, 5), np.float64), (2, (1, 4, 4), np.float32), (5, (2, 3, 3), np.float64)]
    return [Case("fc_to_conv", f"K{K}_in{'x'.join(map(str, s))}_{np.dtype(dt)}",
                 (normal(rng, (K, int(np.prod(s))), dt), normal(rng, (K,), dt), s), outputs=("w", "b"),
                 mistakes=[("hwc_order", _hwc), ("hwc_order", _hwc_unpermuted)])
            for K, s, dt in grid]


BUILDERS = {"fc_to_conv": _fc_to_conv}


def _catalogue_id(params):
    """The catalogue id of what outcome.validate finds wrong with params (same checks, same order)."""
    if params is None:
        return "returns_none"
    if not isinstance(params, dict):
        return "wrong_type"
    if set(params) != set(outcome.PARAM_SHAPES):
        return "wrong_keys"
    for name, shape in outcome.PARAM_SHAPES.items():
        value = params[name]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
            return "wrong_type"
        if value.shape != shape:
            return "wrong_shape"
        if not np.all(np.isfinite(value)):
            return "nan_or_inf"
    return None


def _unreadable(params):
    """A message for what the protocol could not carry back (an Opaque stand-in), else None."""
    zero = f"[wrong_type] 0/{outcome.MAX_POINTS:g} points:"
    if isinstance(params, Opaque):
        return (f"{zero} fine_tune returned {params!r}, which the grader cannot use: return a dict of numpy "
                f"arrays named like the params it was given ({', '.join(outcome.PARAM_SHAPES)})")
    if isinstance(params, dict):
        for name, value in params.items():
            if isinstance(value, Opaque):
                return f"{zero} {name} is not a numpy array of numbers (got {value!r})"
    return None


def _untouched(params, pretrained):
    return all(np.array_equal(params[name], value) for name, value in pretrained.items())


def check_fine_tune(case, caller):
    """(passed, message): fine_tune's returned network reaches the held-out threshold."""
    inputs = outcome.task_inputs()
    pretrained = {name: value.copy() for name, value in inputs[0].items()}
    called = caller.call("fine_tune", inputs, seconds=case.seconds)
    failure = call_failure("fine_tune", called, caller, getattr(caller, "limits", None))
    if failure:
        return False, failure
    params = called.value
    unreadable = _unreadable(params)
    if unreadable:
        return False, unreadable
    if params is None:
        return False, (f"[returns_none] 0/{outcome.MAX_POINTS:g} points: fine_tune returned None: did it end "
                       "without `return`?")
    points, message = outcome.grade(params)
    if points == outcome.MAX_POINTS:
        return True, message
    mistake = _catalogue_id(params)
    if mistake:
        return False, f"[{mistake}] {message}"
    if _untouched(params, pretrained):
        message += (". The returned parameters are exactly the pretrained ones: did fine_tune return the dict "
                    "it was given instead of the one it trained?")
    return False, f"[below_threshold] {message}"


def _fine_tune(rng):
    # the inputs are fixed (the task's training split), so rng is not used; they are loaded by
    # the check, not here: building the cases must stay cheap for every other use of the grid
    return [Case("fine_tune", "heldout_accuracy", (), check=check_fine_tune, seconds=outcome.TIME_LIMIT_SECONDS,
                 label="fine_tune(params (8 pretrained arrays), x_train (646, 1, 8, 8), y_train (646,))")]


register("ch08_fine_tuning", "fine_tune", _fine_tune)

# Arguments the task says are a ValueError: (why, args, kwargs) built from the case's generator.
INVALID = {
    "fc_to_conv": lambda rng: [("W's second dimension is not C*H*W", (normal(rng, (4, 29)), normal(rng, (4,)), (3, 2, 5)), {})],
}
