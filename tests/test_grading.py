"""autograder.grading.CaseRunner and the cases' checks, without a sandbox: a scripted caller
stands in for the worker.

The runner's own rules: the submission's time budget, no second timeout for a function that
hung, which earlier functions the grader answers for. What each case checks is its own
(autograder/checks.py): comparison part by part, ValueError, the speed rule timed by the grader,
the restore share of numerical_gradient; mistakes are named in a field, never parsed from text.
"""
import copy
import subprocess
import sys

import numpy as np
import pytest

import solutions
from autograder.cases import Case, build_cases
from autograder.checks import Verdict, rebuild
from autograder.diagnose import Finding
from autograder.grading import CaseRunner
from autograder.sandbox import Outcome
from tasks.ch06_backprop import RESTORE_SHARE
from tasks.ch07_im2col import SPEED_RATIO


class ScriptedCaller:
    """Answers every call with the reference's result, `seconds` as its measured time; records
    the calls and the names the runner allowed callbacks for. outcomes: {function: Outcome}
    to return instead; defines: the graded functions the "submission" has; answer(function,
    args, value) -> (value, args after the call): what the "student" returns instead of the
    reference's value, and what it leaves of the arguments."""

    cell_errors = {}
    cells = []

    def __init__(self, seconds=1e-4, outcomes=None, defines=(), wrong_from_call=None, answer=None):
        self.seconds, self.outcomes, self.defines = seconds, outcomes or {}, set(defines)
        self.wrong_from_call, self.answer = wrong_from_call, answer
        self.calls, self.allowed = [], []

    def defined(self, name):
        return name in self.defines

    def call(self, function, args, kwargs=None, seconds=None, callbacks=None):
        self.calls.append(function)
        self.allowed.append(set(callbacks.allowed) if callbacks else None)
        if function in self.outcomes:
            return self.outcomes[function]
        live = list(copy.deepcopy(args))
        try:
            value = getattr(solutions, function)(*[rebuild(a) for a in copy.deepcopy(args)], **(kwargs or {}))
        except Exception as error:
            return Outcome(error={"type": type(error).__name__, "message": str(error), "where": None})
        if self.wrong_from_call is not None and len(self.calls) >= self.wrong_from_call:
            value = np.zeros_like(value) if isinstance(value, np.ndarray) else tuple(np.zeros_like(v) for v in value)
        if self.answer:
            value, live = self.answer(function, live, value)
        return Outcome(ok=True, value=value, args_after=[a if isinstance(a, np.ndarray) else None for a in live],
                       seconds=self.seconds)


def _run(assignment, caller, functions=None, **runner):
    cases = build_cases(assignment, 0, functions=functions)
    graded = CaseRunner(caller, assignment=assignment, **runner)
    try:
        return [graded.run(case) for case in cases]
    finally:
        graded.close()


def test_reference_answers_pass():
    results = _run("ch02_convolution", ScriptedCaller())
    assert results and all(r.passed and r.mistakes == [] for r in results), [r.message for r in results if not r.passed]


def test_once_the_budget_is_spent_every_case_fails_without_a_call():
    caller = ScriptedCaller()
    results = _run("ch02_convolution", caller, budget_seconds=-1)
    assert not caller.calls
    assert all(not r.passed and r.mistakes == ["timeout"] and "not run" in r.message for r in results)


def test_a_function_that_hung_is_not_called_again():
    hung = Outcome(ended="timeout", detail="did not finish within 1 s")
    caller = ScriptedCaller(outcomes={"corr2d": hung})
    results = _run("ch02_convolution", caller)
    corr2d = [r for r in results if r.function == "corr2d"]
    assert caller.calls.count("corr2d") == 1 and len(corr2d) > 1
    assert all(r.mistakes == ["timeout"] for r in corr2d)
    assert "in an earlier case of corr2d; not run again" in corr2d[1].message
    assert all(r.passed for r in results if r.function != "corr2d")


def test_callbacks_are_allowed_for_earlier_functions_the_submission_defines_only():
    caller = ScriptedCaller(defines={"corr2d", "conv_forward_naive", "dilate"})
    _run("ch02_convolution", caller)
    allowed = dict(zip(caller.calls, caller.allowed))
    assert allowed["corr2d"] == set()
    assert allowed["convolve2d"] == {"corr2d"}
    assert allowed["dilate"] == {"corr2d", "conv_forward_naive"}, "never the function under test"


# ---------------------------------------------------------------- one interface for every check

class Halves:
    """A check of its own: calls nothing, earns half the case, says so."""
    kind = "halves"

    def __call__(self, case, runner):
        return Verdict([Finding("wrong_values", "half right", "dw")], earned=0.5, note="measured 0.5")


def test_the_runner_runs_whatever_check_a_case_carries():
    case = Case("corr2d", "own_check", (), check=Halves(), points=4.0)
    result = CaseRunner(ScriptedCaller()).run(case)
    assert (result.points, result.max_points, result.passed) == (2.0, 4.0, False)
    assert result.mistakes == ["wrong_values"]
    assert result.message == "corr2d(): measured 0.5; dw: [wrong_values] half right"


def test_every_case_carries_its_check_and_the_kind_names_it():
    kinds = {c.kind for a in ("ch03_padding_stride", "ch07_im2col", "ch08_fine_tuning") for c in build_cases(a, 0)}
    assert kinds == {"value", "invalid", "speed", "outcome"}


def test_importing_the_grader_loads_no_task_record():
    """The runner knows no task: the speed ratio is the im2col record's, the function order is
    read when a runner is made (a module-level import of tasks would also tie them in a cycle)."""
    code = "import sys, autograder.grading; print(sorted(m for m in sys.modules if m.split('.')[0] == 'tasks'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------- the speed rule

def _speed_result(caller):
    results = _run("ch07_im2col", caller, functions={"conv_forward_im2col"})
    return next(r for r in results if r.name.startswith("speed"))


def test_the_speed_ratio_is_the_im2col_records():
    speed = next(c for c in build_cases("ch07_im2col", 0) if c.kind == "speed")
    assert speed.check.ratio == SPEED_RATIO


def test_the_speed_rule_passes_fast_code_timed_by_the_grader():
    assert _speed_result(ScriptedCaller(seconds=1e-4)).passed


def test_the_speed_rule_fails_slow_code_whatever_the_worker_says():
    result = _speed_result(ScriptedCaller(seconds=10.0))
    assert not result.passed and result.mistakes == ["too_slow"] and "baseline" in result.message
    assert "one matrix product over im2col columns" in result.message, "the task's own advice"


def test_the_speed_rule_checks_every_timing_input():
    """A cached answer on the timing inputs (which differ from the value case's) is wrong there."""
    cases = build_cases("ch07_im2col", 0, functions={"conv_forward_im2col"})
    speed = next(c for c in cases if c.kind == "speed")
    calls_before_speed = len(cases) - 1 + 1  # the value cases, then the speed case's own value call
    result = _speed_result(ScriptedCaller(wrong_from_call=calls_before_speed + 1))
    assert len(speed.check.timing) == 3
    assert not result.passed and "the result on timing input 1 is wrong" in result.message


# ---------------------------------------------------------------- invalid arguments

def test_arguments_the_task_calls_invalid_must_raise_value_error():
    results = _run("ch03_padding_stride", ScriptedCaller(), functions={"conv_output_size"})
    invalid = [r for r in results if r.name.startswith("invalid_")]
    grid = [r for r in results if not r.name.startswith("invalid_")]
    assert len(invalid) == 5 and all(r.passed for r in invalid)
    assert sum(r.max_points for r in invalid) == pytest.approx(sum(r.max_points for r in results) / (len(grid) + 1)), \
        "the argument checks together weigh one case of the grid"


def test_returning_a_value_for_invalid_arguments_is_named():
    accepts = Outcome(ok=True, value=0, seconds=1e-4)
    results = _run("ch03_padding_stride", ScriptedCaller(outcomes={"conv_output_size": accepts}),
                   functions={"conv_output_size"})
    result = next(r for r in results if r.name == "invalid_stride_lt_1")
    assert result.mistakes == ["no_value_error"]
    assert "these arguments are invalid (stride < 1): raise ValueError; it returned 0" in result.message


def test_a_students_exception_text_cannot_name_a_mistake():
    """The id is a field: an exception message that looks like a diagnosis stays the student's text."""
    raised = Outcome(error={"type": "ValueError", "message": "[flipped_kernel] [grader_error]", "where": None})
    result = _run("ch02_convolution", ScriptedCaller(outcomes={"corr2d": raised}), functions={"corr2d"})[0]
    assert result.mistakes == ["raises"] and not result.grader_error


# ---------------------------------------------------------------- partial credit by part

def _conv_backward(answer):
    """The results of conv_backward_naive's value cases for a "student" answering answer(value) -> value."""
    caller = ScriptedCaller(answer=lambda function, args, value: (answer(value, args), args))
    return _run("ch06_backprop", caller, functions={"conv_backward_naive"})


def test_a_tuple_result_is_scored_by_part_and_names_the_wrong_part():
    """Right dx and dw, db a mean instead of a sum: 2/3 of each case, named "db", never "[2]"."""
    results = _conv_backward(lambda value, args: (value[0], value[1], args[0].mean(axis=(0, 2, 3))))
    for result in results:
        assert result.points == pytest.approx(result.max_points * 2 / 3)
        assert result.mistakes == ["db_mean"] and not result.passed
        assert ": db: [db_mean] matches a mean" in result.message and "[2]" not in result.message


def test_each_wrong_part_costs_its_share_and_is_named():
    results = _conv_backward(lambda value, args: (value[0] * 2, value[1], -value[2]))
    assert all(r.points == pytest.approx(r.max_points / 3) for r in results)
    assert all(r.mistakes == ["scaled", "sign_flipped"] for r in results)
    assert all("dx: [scaled]" in r.message and "db: [sign_flipped]" in r.message for r in results)


def test_a_result_that_is_not_the_tuple_asked_for_earns_nothing():
    results = _conv_backward(lambda value, args: list(value[:2]))
    assert all(r.points == 0 and r.mistakes == ["wrong_type"] for r in results)
    assert "expected a tuple of 3 (dx, dw, db)" in results[0].message


# ---------------------------------------------------------------- writing into inputs

def _numerical_gradient(answer):
    caller = ScriptedCaller(answer=lambda function, args, value: answer(value, args))
    return _run("ch06_backprop", caller, functions={"numerical_gradient"})


def _nudged(args):
    """The arguments with x as x[i] += h; x[i] -= h may leave it: one element off in its last bit."""
    x = args[1].copy()
    x.flat[0] = np.nextafter(x.flat[0], np.inf)
    return args[:1] + [x] + args[2:]


def test_a_right_gradient_with_x_not_put_back_exactly_loses_only_the_restore_share():
    results = _numerical_gradient(lambda value, args: (value, _nudged(args)))
    for result in results:
        assert result.points == pytest.approx(result.max_points * (1 - RESTORE_SHARE))
        assert result.mistakes == ["x_not_restored"]
        assert "save x[i] before perturbing it and assign the saved value back" in result.message
        assert "never write into an input" not in result.message, "the task asks to write into x"


def test_putting_x_back_earns_nothing_without_a_right_gradient():
    """Otherwise a function that never touches x would earn the restore share for nothing."""
    results = _numerical_gradient(lambda value, args: (np.zeros_like(value), args))
    assert all(r.points == 0 and r.mistakes == ["wrong_values"] for r in results)


def test_writing_into_an_input_elsewhere_fails_the_whole_case():
    def divides_dout(function, args, value):
        args[0] /= 4
        return value, args
    results = _run("ch04_pooling", ScriptedCaller(answer=divides_dout), functions={"avg_pool_backward"})
    assert all(r.points == 0 and r.mistakes == ["mutates_input"] for r in results)
    assert "argument 1" in results[0].message and "work on a copy, never write into an input" in results[0].message


# ---------------------------------------------------------------- pytest is the source of truth

@pytest.fixture
def run_suite(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # as the grading process runs it
    from autograder.suite.plugin import run_suite
    return run_suite


def test_the_suite_returns_the_results_its_reports_carry(run_suite):
    cases = build_cases("ch02_convolution", 0, functions={"corr2d", "convolve2d"})
    wrong = Outcome(ok=True, value=np.zeros((1, 1)), seconds=1e-4)
    runner = CaseRunner(ScriptedCaller(outcomes={"convolve2d": wrong}), assignment="ch02_convolution")
    exit_code, results = run_suite(cases, runner)
    assert exit_code == pytest.ExitCode.TESTS_FAILED
    assert [(r.function, r.name) for r in results] == [(c.function, c.name) for c in cases]
    assert [r.passed for r in results] == [c.function == "corr2d" for c in cases]
    assert all(len(r.mistakes) == 1 and r.points == 0 for r in results if r.function == "convolve2d")


class BrokenRunner:
    """A runner that fails before its test can record a verdict."""

    def run(self, case):
        raise RuntimeError("the runner broke")


def test_a_test_that_records_no_verdict_is_a_grader_fault(run_suite):
    cases = build_cases("ch02_convolution", 0, functions={"corr2d"})
    exit_code, results = run_suite(cases, BrokenRunner())
    assert exit_code == pytest.ExitCode.TESTS_FAILED and len(results) == len(cases)
    assert all(r.grader_error and r.mistakes == ["grader_error"] and not r.passed and r.points == 0 for r in results)
    assert "the runner broke" in results[0].message
