"""Run one case against a submission and score it.

A "caller" runs the student's function: sandbox.Sandbox (the student's process) or
InProcessCaller (an instructor's own function, for nbgrader's hidden test cells). What a case
checks is its own (case.check, autograder/checks.py); the runner calls it, applies the rules
that hold for every case, and turns its Verdict into a TestResult. The reference result, every
comparison and every timing are computed here, never by the caller.
"""
import copy
import time
import traceback

import numpy as np

import solutions

from .callbacks import Callbacks, allowed_callbacks
from .checks import Verdict, call_failure, rebuild
from .diagnose import Finding
from .results import TestResult
from .sandbox import Limits, Outcome


def _reference(function):
    """The reference implementation of a graded function, for a student's call of it."""
    return getattr(solutions, function)


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
        from .points import POINTS  # read when a runner is made: importing the grader loads no task record

        self.caller, self.call_seconds, self.limits = caller, call_seconds, limits
        self.functions = list(POINTS.get(assignment, {}))
        self.deadline = time.monotonic() + budget_seconds
        self.budget_seconds = budget_seconds
        self.stopped = {}
        self.callbacks = Callbacks((), _reference, limits or Limits(call_seconds=call_seconds))

    def close(self):
        """End the process that computes callbacks (if one was started)."""
        self.callbacks.close()

    def run(self, case):
        """The TestResult of one case: its points are case.points times the share its check earned."""
        try:
            verdict, fault = self._verdict(case), False
        except Exception as exc:  # a fault of the grader itself: say so, never blame the student
            verdict, fault = Verdict.failed(Finding("grader_error", f"{type(exc).__name__}: {exc}")), True
        # what an outcome-graded check measured is shown even when it passed (the accuracy reached)
        message = "; ".join(([verdict.note] if verdict.note else []) + [str(f) for f in verdict.findings])
        result = TestResult(case.function, case.name, round(case.points * verdict.earned, 12), case.points,
                            not verdict.findings, f"{case.describe()}: {message}" if message else "",
                            grader_error=fault, mistakes=[f.mistake for f in verdict.findings],
                            detail="; ".join(f"{f.part + ' ' if f.part else ''}{f.detail}"
                                             for f in verdict.findings if f.detail))
        return result

    def _verdict(self, case):
        if case.function in self.stopped:
            return self.stopped[case.function]
        if time.monotonic() > self.deadline:
            return Verdict.failed(Finding("timeout", f"not run: the submission used up its {self.budget_seconds:g} s"))
        return case.check(case, self)

    def call(self, case, args, *, seconds=None, callbacks=True):
        """The Outcome of calling case's function on args (case's kwargs) in the caller.

        seconds: the call's limit (default: the case's own, else the runner's per-call limit).
        callbacks: whether earlier graded functions the submission defines answer with reference
        results (no double jeopardy); the function under test and later ones never do
        (autograder/callbacks.py).
        """
        if callbacks:
            self.callbacks.allowed = allowed_callbacks(self.functions, case.function, self.caller)
        return self.caller.call(case.function, args, case.kwargs, seconds=seconds or case.seconds or self.call_seconds,
                                callbacks=self.callbacks if callbacks else None)

    def failure(self, case, outcome):
        """A Finding when the call did not return a value to judge, else None. A function whose
        call hung or ended the worker is not called again: its later cases fail with this."""
        finding = call_failure(case.function, outcome, self.caller, self.limits)
        if outcome.ended:
            self.stopped[case.function] = Verdict.failed(
                Finding(finding.mistake, f"{finding.text} (in an earlier case of {case.function}; not run again)"))
        return finding
