"""autograder.grading.CaseRunner, without a sandbox: a scripted caller stands in for the worker.

The runner's own rules: the submission's time budget, no second timeout for a function that
hung, which earlier functions the grader answers for, and the speed rule timed by the grader.
"""
import copy

import numpy as np
import pytest

import solutions
from autograder.cases import build_cases
from autograder.grading import CaseRunner
from autograder.sandbox import Outcome


class ScriptedCaller:
    """Answers every call with the reference's result, `seconds` as its measured time; records
    the calls and the names the runner allowed callbacks for. outcomes: {function: Outcome}
    to return instead; defines: the graded functions the "submission" has."""

    cell_errors = {}
    cells = []

    def __init__(self, seconds=1e-4, outcomes=None, defines=(), wrong_from_call=None):
        self.seconds, self.outcomes, self.defines = seconds, outcomes or {}, set(defines)
        self.wrong_from_call = wrong_from_call
        self.calls, self.allowed = [], []

    def defined(self, name):
        return name in self.defines

    def call(self, function, args, kwargs=None, seconds=None, callbacks=None):
        self.calls.append(function)
        self.allowed.append(set(callbacks.allowed) if callbacks else None)
        if function in self.outcomes:
            return self.outcomes[function]
        try:
            value = getattr(solutions, function)(*copy.deepcopy(args), **(kwargs or {}))
        except Exception as error:
            return Outcome(error={"type": type(error).__name__, "message": str(error), "where": None})
        if self.wrong_from_call is not None and len(self.calls) >= self.wrong_from_call:
            value = np.zeros_like(value) if isinstance(value, np.ndarray) else tuple(np.zeros_like(v) for v in value)
        return Outcome(ok=True, value=value, args_after=[a if isinstance(a, np.ndarray) else None for a in args],
                       seconds=self.seconds)


def _run(assignment, caller, functions=None, **runner):
    cases = build_cases(assignment, 0, functions=functions)
    graded = CaseRunner(caller, assignment=assignment, **runner)
    try:
        for case in cases:
            graded.run(case)
    finally:
        graded.close()
    return graded.results


def test_reference_answers_pass():
    results = _run("ch02_convolution", ScriptedCaller())
    assert results and all(r.passed for r in results), [r.message for r in results if not r.passed]


def test_once_the_budget_is_spent_every_case_fails_without_a_call():
    caller = ScriptedCaller()
    results = _run("ch02_convolution", caller, budget_seconds=-1)
    assert not caller.calls
    assert all(not r.passed and "[timeout] not run" in r.message for r in results)


def test_a_function_that_hung_is_not_called_again():
    hung = Outcome(ended="timeout", detail="did not finish within 1 s")
    caller = ScriptedCaller(outcomes={"corr2d": hung})
    results = _run("ch02_convolution", caller)
    corr2d = [r for r in results if r.function == "corr2d"]
    assert caller.calls.count("corr2d") == 1 and len(corr2d) > 1
    assert all("[timeout]" in r.message for r in corr2d)
    assert "in an earlier case of corr2d; not run again" in corr2d[1].message
    assert all(r.passed for r in results if r.function != "corr2d")


def test_callbacks_are_allowed_for_earlier_functions_the_submission_defines_only():
    caller = ScriptedCaller(defines={"corr2d", "conv_forward_naive", "dilate"})
    _run("ch02_convolution", caller)
    allowed = dict(zip(caller.calls, caller.allowed))
    assert allowed["corr2d"] == set()
    assert allowed["convolve2d"] == {"corr2d"}
    assert allowed["dilate"] == {"corr2d", "conv_forward_naive"}, "never the function under test"


def _speed_result(caller):
    results = _run("ch07_im2col", caller, functions={"conv_forward_im2col"})
    return next(r for r in results if r.name.startswith("speed"))


def test_the_speed_rule_passes_fast_code_timed_by_the_grader():
    assert _speed_result(ScriptedCaller(seconds=1e-4)).passed


def test_the_speed_rule_fails_slow_code_whatever_the_worker_says():
    result = _speed_result(ScriptedCaller(seconds=10.0))
    assert not result.passed and "[too_slow]" in result.message and "baseline" in result.message


def test_the_speed_rule_checks_every_timing_input():
    """A cached answer on the timing inputs (which differ from the value case's) is wrong there."""
    cases = build_cases("ch07_im2col", 0, functions={"conv_forward_im2col"})
    speed = next(c for c in cases if c.kind == "speed")
    calls_before_speed = len(cases) - 1 + 1  # the value cases, then the speed case's own value call
    result = _speed_result(ScriptedCaller(wrong_from_call=calls_before_speed + 1))
    assert len(speed.timing) == 3
    assert not result.passed and "the result on timing input 1 is wrong" in result.message


def test_arguments_the_task_calls_invalid_must_raise_value_error():
    results = _run("ch03_padding_stride", ScriptedCaller(), functions={"conv_output_size"})
    invalid = [r for r in results if r.name.startswith("invalid_")]
    assert len(invalid) == 5 and all(r.passed for r in invalid)
    assert sum(r.max_points for r in invalid) == pytest.approx(sum(r.max_points for r in results) / 6), \
        "the argument checks together weigh one case of the grid"


def test_returning_a_value_for_invalid_arguments_is_named():
    accepts = Outcome(ok=True, value=0, seconds=1e-4)
    results = _run("ch03_padding_stride", ScriptedCaller(outcomes={"conv_output_size": accepts}),
                   functions={"conv_output_size"})
    message = next(r.message for r in results if r.name == "invalid_stride_lt_1")
    assert "[no_value_error] these arguments are invalid (stride < 1): raise ValueError; it returned 0" in message
