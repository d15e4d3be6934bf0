"""What a case checks: every Case carries a check, called as check(case, runner) -> Verdict.

Value (the default) compares the call's result with the reference's; Raises wants the call to
raise ValueError; Speed compares values, then times the call against a baseline; an
outcome-graded task brings its own (autograder/outcome.py, HeldoutAccuracy). A check calls the
student's function through runner.call, which applies the runner's rules (callbacks for
earlier functions, per-call limits), and turns a call that did not return into a Finding with
runner.failure (which also stops a function that hung). CaseRunner turns the Verdict into a
TestResult; it knows no kind of check.

Partial credit follows what a mistake costs (Verdict.earned, a share of the case's points):
- a result with several named outputs ((dx, dw, db)) is scored by part, each output an equal
  share: a right dx and dw with a wrong db earn 2/3 of the case;
- a result that is not there (the call raised or hung, returned None, not the tuple asked
  for) earns nothing;
- writing into an input earns nothing for the case: the caller's data is destroyed, whatever
  the result. Except where the task asks to modify an input and put it back
  (numerical_gradient: Case.restore_share): there a right result with an input not put back
  bit-identical loses that share only. Putting it back earns its share only with a right
  result: a function that never touches x would otherwise earn it for doing nothing.
"""
import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import solutions

from . import probes
from .compare import changed
from .diagnose import Finding, advice, diagnose
from .protocol import Probe


@dataclass
class Verdict:
    """What a check found: findings ([] when the case passed), the share of the case's points
    earned (0..1), and a note of what it measured, shown even when it passed (an accuracy)."""
    findings: list = field(default_factory=list)
    earned: float = 1.0
    note: str = ""

    @classmethod
    def failed(cls, *findings):
        return cls(list(findings), 0.0)


def rebuild(value):
    """Turn Probe stand-ins back into functions, for calling code in this process."""
    return probes.build(value.name, value.args) if isinstance(value, Probe) else value


def expected_result(case, args):
    """The reference's result for case's function on args (copies: the reference may not write into them)."""
    reference = case.reference or getattr(solutions, case.function)
    return reference(*[rebuild(a) for a in copy.deepcopy(args)], **copy.deepcopy(case.kwargs))


def _text(value, limit=300):
    return str(value)[:limit]


_RAISED_HINTS = {
    "NotImplementedError": "the function is still the stub: write its body",
    "SystemExit": "your code called sys.exit() or exit(): return a value instead",
    "RecursionError": "unbounded recursion",
    "ImportError": "only numpy (imported as np) and the standard library are available",
    "ModuleNotFoundError": "only numpy (imported as np) and the standard library are available",
}


def raised_text(error, limits=None):
    """"ValueError: ... (cell, line: text): hint" for an exception description {"type",
    "message", "where"} from student code."""
    if not isinstance(error, dict):
        error = {}
    kind, message, where = _text(error.get("type", "Exception"), 80), _text(error.get("message", "")), error.get("where")
    place = ""
    if isinstance(where, dict):
        place = f" (cell {_text(where.get('cell'), 80)}, line {_text(where.get('line'), 10)}: " \
                f"{_text(where.get('text'), 160)})"
    hint = _RAISED_HINTS.get(kind)
    if kind == "MemoryError":
        hint = ("your code ran out of memory" + (f" (the limit is {limits.memory_bytes / 2**30:.1f} GiB)" if limits
                                                 else "") + ": avoid building huge intermediate arrays")
    return f"{kind}: {message}{place}" + (f": {hint}" if hint else "")


def call_failure(function, outcome, caller, limits=None):
    """A Finding when the call of `function` did not return (it hung, ended the worker, is not
    defined or raised), None when outcome holds a returned value to judge."""
    if outcome.ended:
        return Finding("timeout" if outcome.ended == "timeout" else "process_ended", outcome.detail)
    if outcome.missing:
        return Finding("missing_function", _missing(function, caller, limits))
    if outcome.error is not None:
        return Finding("raises", raised_text(outcome.error, limits))
    return None


def _missing(function, caller, limits):
    cells = dict(getattr(caller, "cells", []))
    error = caller.cell_errors.get(function)
    if error:
        return f"{function} is not defined because its cell failed: {raised_text(error, limits)}"
    if cells and function not in cells:
        return (f"{function} is not defined: no solution cell has grade_id {function!r} "
                "(was the cell deleted or its metadata changed?)")
    return f"{function} is not defined: define it with exactly this name in its cell"


def _shown(value):
    """A returned value in a few words: an array by its shape and dtype, anything else by repr."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return _text(repr(value), 80)


def _inputs_finding(case, args, outcome):
    """A Finding if the call wrote into one of its array arguments, else None."""
    written = [f"argument {index + 1} ({before.shape} {before.dtype})"
               for index, (before, after) in enumerate(zip(args, outcome.args_after))
               if isinstance(before, np.ndarray) and changed(before, after)]
    if not written:
        return None
    return Finding(case.mutation_id, f"{' and '.join(written)} {'was' if len(written) == 1 else 'were'} modified "
                                     f"by the call: {advice(case, case.mutation_id)}")


def judge(case, args, outcome):
    """The Verdict of a returned value on args: its parts against the reference's, then the inputs."""
    findings = diagnose(case, args, outcome.value, expected_result(case, args))
    whole = any(not f.part for f in findings)
    right = 0 if whole else len(case.outputs) - len(findings)
    restore = case.restore_share or 0.0
    earned = right * (1.0 - restore) / len(case.outputs)
    inputs = _inputs_finding(case, args, outcome)
    if inputs is not None:
        findings.append(inputs)
        if case.restore_share is None:
            earned = 0.0
    elif right == len(case.outputs):
        earned += restore
    return Verdict(findings, round(earned, 12))


class Value:
    """Compare the call's result with the reference's (the default check)."""
    kind = "value"

    def __call__(self, case, runner):
        outcome = runner.call(case, case.args)
        failure = runner.failure(case, outcome)
        return Verdict.failed(failure) if failure else judge(case, case.args, outcome)


@dataclass
class Raises:
    """A call the task calls invalid (`why`) must raise ValueError, nothing else."""
    why: str
    kind = "invalid"

    def __call__(self, case, runner):
        outcome = runner.call(case, case.args)
        kind = (outcome.error or {}).get("type")
        if kind == "ValueError":
            return Verdict()
        if outcome.ended or outcome.missing or kind == "NotImplementedError":
            return Verdict.failed(runner.failure(case, outcome))
        did = (f"it raised {raised_text(outcome.error, runner.limits)}" if kind
               else f"it returned {_shown(outcome.value)}")
        return Verdict.failed(Finding("no_value_error",
                                      f"these arguments are invalid ({self.why}): raise ValueError; {did}"))


@dataclass
class Speed:
    """Right values, then speed: at least `ratio` times faster than `baseline` (same arguments),
    best over the `timing` argument tuples, each a fresh input of the case's shapes whose
    result is checked too (an answer cached from an earlier call does not help). Every call
    is timed here, where student code cannot reach, with `seconds` as its limit. All or
    nothing: the case's points are for speed, and a wrong result earns no speed."""
    ratio: float
    baseline: Callable
    timing: list
    seconds: float = 120.0
    kind = "speed"

    def __call__(self, case, runner):
        outcome = runner.call(case, case.args, seconds=self.seconds)
        failure = runner.failure(case, outcome)
        if failure:
            return Verdict.failed(failure)
        verdict = judge(case, case.args, outcome)
        if verdict.findings:
            return Verdict.failed(*verdict.findings, Finding("too_slow", "speed not credited: the result is wrong"))
        slow = self._slow(case, runner)
        return Verdict.failed(slow) if slow else Verdict()

    def _slow(self, case, runner):
        """A too_slow Finding, or None when the best time beats the baseline's by `ratio`. The
        student's own helpers run (no callbacks): their time is the student's."""
        student = baseline = float("inf")
        for index, args in enumerate(self.timing, start=1):
            outcome = runner.call(case, args, seconds=self.seconds, callbacks=False)
            failure = runner.failure(case, outcome)
            if failure:
                return Finding("too_slow", f"speed not credited: on timing input {index}, {failure.text}")
            if diagnose(case, args, outcome.value, expected_result(case, args)):
                return Finding("too_slow", f"speed not credited: the result on timing input {index} is wrong")
            student = min(student, outcome.seconds)
            with threadpool_limits(1):  # as the worker: one BLAS thread
                start = time.perf_counter()
                self.baseline(*args, **case.kwargs)
                baseline = min(baseline, time.perf_counter() - start)
        ratio = baseline / max(student, 1e-9)
        if ratio >= self.ratio:
            return None
        return Finding("too_slow", f"{ratio:.1f}x faster than the baseline {self.baseline.__name__} "
                                   f"({student * 1e3:.1f} ms vs {baseline * 1e3:.1f} ms, best of {len(self.timing)}); "
                                   f"it must be at least {self.ratio:g}x: {advice(case, 'too_slow')}")
