"""Run one case against a submission and score it.

A "caller" runs the student's function: sandbox.Sandbox (the student's process) or
InProcessCaller (an instructor's own function, for nbgrader's hidden test cells). The
reference result, every comparison and every timing are computed here, never by the caller.
"""
import copy
import time
import traceback

import numpy as np
from threadpoolctl import threadpool_limits

import solutions

from . import baselines, probes
from .callbacks import Callbacks, allowed_callbacks
from tasks.ch07_im2col import SPEED_RATIO
from .compare import changed
from .diagnose import diagnose
from .protocol import Probe
from .points import POINTS
from .results import TestResult
from .sandbox import Limits, Outcome

SPEED_SECONDS = 120.0


def _reference(function):
    """The reference implementation of a graded function, for a student's call of it."""
    return getattr(solutions, function)


def _expected(case, args):
    """The reference's result for case's function on args (copies: the reference may not write into them)."""
    reference = case.reference or getattr(solutions, case.function)
    return reference(*[rebuild(a) for a in copy.deepcopy(args)], **copy.deepcopy(case.kwargs))


def rebuild(value):
    """Turn Probe stand-ins back into functions, for calling code in this process."""
    return probes.build(value.name, value.args) if isinstance(value, Probe) else value


def _text(value, limit=300):
    return str(value)[:limit]


def raised_message(error, limits=None):
    """"[raises] ..." for an exception description {"type", "message", "where"} from student code."""
    if not isinstance(error, dict):
        error = {}
    kind, message, where = _text(error.get("type", "Exception"), 80), _text(error.get("message", "")), error.get("where")
    place = ""
    if isinstance(where, dict):
        place = f" (cell {_text(where.get('cell'), 80)}, line {_text(where.get('line'), 10)}: " \
                f"{_text(where.get('text'), 160)})"
    hints = {
        "NotImplementedError": "the function is still the stub: write its body",
        "MemoryError": "your code ran out of memory"
                       + (f" (the limit is {limits.memory_bytes / 2**30:.1f} GiB)" if limits else "")
                       + ": avoid building huge intermediate arrays",
        "SystemExit": "your code called sys.exit() or exit(): return a value instead",
        "RecursionError": "unbounded recursion",
        "ImportError": "only numpy (imported as np) and the standard library are available",
        "ModuleNotFoundError": "only numpy (imported as np) and the standard library are available",
    }
    hint = f": {hints[kind]}" if kind in hints else ""
    return f"[raises] {kind}: {message}{place}{hint}"


def call_failure(function, outcome, caller, limits=None):
    """"[id] message" when the call of `function` did not return (it hung, ended the worker, is
    not defined or raised), None when outcome holds a returned value to judge."""
    if outcome.ended:
        return f"[{'timeout' if outcome.ended == 'timeout' else 'process_ended'}] {outcome.detail}"
    if outcome.missing:
        return _missing(function, caller, limits)
    if outcome.error is not None:
        return raised_message(outcome.error, limits)
    return None


def _missing(function, caller, limits):
    cells = dict(getattr(caller, "cells", []))
    error = caller.cell_errors.get(function)
    if error:
        return f"[missing_function] {function} is not defined because its cell failed: " + \
            raised_message(error, limits)[len("[raises] "):]
    if cells and function not in cells:
        return (f"[missing_function] {function} is not defined: no solution cell has grade_id {function!r} "
                "(was the cell deleted or its metadata changed?)")
    return f"[missing_function] {function} is not defined: define it with exactly this name in its cell"


def _shown(value):
    """A returned value in a few words: an array by its shape and dtype, anything else by repr."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return _text(repr(value), 80)


class InProcessCaller:
    """Calls functions of this process (by name) with the same interface as sandbox.Sandbox."""

    isolation = "in-process"
    cell_errors = {}
    cells = []

    def __init__(self, functions):
        self.functions = functions

    def defined(self, name):
        return False

    def _run(self, function, fn_call):
        if function not in self.functions:
            return Outcome(missing=True)
        try:
            return fn_call(self.functions[function])
        except Exception as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            where = {"cell": function, "line": frames[-1].lineno, "text": frames[-1].line} if frames else None
            return Outcome(error={"type": type(exc).__name__, "message": str(exc), "where": where})

    def call(self, function, args, kwargs=None, seconds=None, callbacks=None):
        def run(fn):
            live = [rebuild(a) for a in copy.deepcopy(args)]
            start = time.perf_counter()
            value = fn(*live, **{k: rebuild(v) for k, v in (kwargs or {}).items()})
            return Outcome(ok=True, value=value, args_after=[a if isinstance(a, np.ndarray) else None for a in live],
                           seconds=time.perf_counter() - start)
        return self._run(function, run)


class CaseRunner:
    """Runs cases through a caller, one TestResult each.

    Once a function hangs or ends the worker, its remaining cases fail at once with the same
    reason instead of costing another timeout or restart; once the submission's time budget
    is spent, every remaining case fails.
    """

    def __init__(self, caller, *, assignment=None, call_seconds=10.0, budget_seconds=300.0, limits=None):
        self.caller, self.call_seconds, self.limits = caller, call_seconds, limits
        self.functions = list(POINTS.get(assignment, {}))
        self.deadline = time.monotonic() + budget_seconds
        self.budget_seconds = budget_seconds
        self.stopped = {}
        self.results = []
        self.callbacks = Callbacks((), _reference, limits or Limits(call_seconds=call_seconds))

    def close(self):
        """End the process that computes callbacks (if one was started)."""
        self.callbacks.close()

    def run(self, case):
        try:
            passed, message = self._run(case)
            fault = False
        except Exception as exc:  # a fault of the grader itself: say so, never blame the student
            passed, message, fault = False, f"[grader_error] {type(exc).__name__}: {exc}", True
        # an outcome-graded test says what it measured even when it passed (the accuracy reached)
        keep = message and (not passed or case.check is not None)
        result = TestResult(case.function, case.name, case.points if passed else 0.0, case.points, passed,
                            f"{case.describe()}: {message}" if keep else "", grader_error=fault)
        self.results.append(result)
        return result

    def _run(self, case):
        if case.function in self.stopped:
            return False, self.stopped[case.function]
        if time.monotonic() > self.deadline:
            return False, f"[timeout] not run: the submission used up its {self.budget_seconds:g} s"
        if case.check is not None:
            return case.check(case, self.caller)
        self.callbacks.allowed = allowed_callbacks(self.functions, case.function, self.caller)
        if case.kind == "invalid":
            return self._invalid(case)
        expected = _expected(case, case.args)
        # Earlier graded functions the submission defines answer with reference results (no
        # double jeopardy); the function under test and later ones never do (autograder/callbacks.py).
        outcome = self.caller.call(case.function, case.args, case.kwargs,
                                   seconds=SPEED_SECONDS if case.kind == "speed" else self.call_seconds,
                                   callbacks=self.callbacks)
        failure = self._failure(case, outcome)
        if failure:
            return False, failure
        problems = [m for m in [diagnose(case, case.args, outcome.value, expected)] if m]
        for index, (before, after) in enumerate(zip(case.args, outcome.args_after)):
            if isinstance(before, np.ndarray) and changed(before, after):
                problems.append(f"[{case.mutation_id}] argument {index + 1} ({before.shape} {before.dtype}) was "
                                "modified by the call: work on a copy, never write into an input")
        if case.kind == "speed":
            problems += ["[too_slow] speed not credited: the result is wrong"] if problems else self._speed(case)
        return not problems, "; ".join(problems)

    def _invalid(self, case):
        """A call the task calls invalid must raise ValueError, nothing else."""
        outcome = self.caller.call(case.function, case.args, case.kwargs, seconds=self.call_seconds,
                                   callbacks=self.callbacks)
        kind = (outcome.error or {}).get("type")
        if kind == "ValueError":
            return True, ""
        if outcome.ended or outcome.missing or kind == "NotImplementedError":
            return False, self._failure(case, outcome)
        did = (f"it raised {raised_message(outcome.error, self.limits)[len('[raises] '):]}" if kind
               else f"it returned {_shown(outcome.value)}")
        return False, f"[no_value_error] these arguments are invalid ({case.invalid}): raise ValueError; {did}"

    def _failure(self, case, outcome):
        message = call_failure(case.function, outcome, self.caller, self.limits)
        if outcome.ended:
            self.stopped[case.function] = f"{message} (in an earlier case of {case.function}; not run again)"
        return message

    def _speed(self, case):
        """Problems of the speed rule: the student's call and the baseline, best of the case's
        timing inputs (fresh ones each time, so a cached answer does not help), timed here.
        The student's own helpers run (no callbacks): their time is the student's."""
        student = baseline = float("inf")
        for index, args in enumerate(case.timing, start=1):
            outcome = self.caller.call(case.function, args, case.kwargs, seconds=SPEED_SECONDS)
            failure = call_failure(case.function, outcome, self.caller, self.limits)
            if failure:
                return [f"[too_slow] speed not credited: on timing input {index}, {failure}"]
            if diagnose(case, args, outcome.value, _expected(case, args)):
                return [f"[too_slow] speed not credited: the result on timing input {index} is wrong"]
            student = min(student, outcome.seconds)
            with threadpool_limits(1):  # as the worker: one BLAS thread
                start = time.perf_counter()
                baselines.BASELINES[case.function](*args, **case.kwargs)
                baseline = min(baseline, time.perf_counter() - start)
        ratio = baseline / max(student, 1e-9)
        if ratio >= SPEED_RATIO:
            return []
        return [f"[too_slow] {ratio:.1f}x faster than the per-output-value baseline ({student * 1e3:.1f} ms vs "
                f"{baseline * 1e3:.1f} ms, best of {len(case.timing)}); it must be at least {SPEED_RATIO:g}x: use "
                "one matrix product over im2col columns instead of Python loops over output positions"]
