"""The grader's test cases, built from the Task records in tasks/<assignment>.py.

A task's `hidden` builder returns its grid of cases. A case holds the arguments of one call,
and the known mistakes of that function as transforms of the reference ("the reference with
w flipped"), which the diagnosis compares a wrong answer with. Inputs are drawn from a
generator seeded per (submission seed, function), so adding a function never changes another
function's inputs.

Outcome-graded tasks (e.g. chapter 8's fine-tuning) build cases with `check` set, a callable
(case, caller) -> (passed, message) that calls the student's function itself (with `seconds`
as that call's time limit) and judges what it returns.
"""
import re
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import tasks


@dataclass
class Case:
    """One call of a graded function and what a wrong answer to it may mean.

    mistakes: [(catalogue id, fn)], fn(*args, **kwargs) returns what the mistake returns.
    factors: {"N": 4, ...}, constants a result off by a factor is compared with.
    outputs: names of the result's components, e.g. ("dx", "dw", "db").
    kind: "value" (compare with the reference), "speed" (also time against the baseline) or
    "invalid" (the call must raise ValueError).
    mutation_id: the catalogue id for a function that modifies its inputs.
    explain: {catalogue id: explanation} of the function's mistakes (its Task's `mistakes`).
    pad: the case's padding, to recognise results that still include it.
    check: for outcome-graded cases, (case, caller) -> (passed, message) replaces comparison.
    seconds: the wall-time limit of this case's call (None: the grader's per-call limit).
    label: how describe() shows the call when check builds its arguments itself.
    timing: for a speed case, the argument tuples it is timed on (fresh inputs of the case's
    shapes, each result checked: an answer cached from an earlier call does not help).
    invalid: for a case of arguments the task calls invalid, why they are: the call must
    raise ValueError (kind "invalid").
    """
    function: str
    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    mistakes: list = field(default_factory=list)
    factors: dict = field(default_factory=dict)
    outputs: tuple = ("out",)
    kind: str = "value"
    mutation_id: str = "mutates_input"
    pad: int = 0
    points: float = 1.0
    reference: Callable | None = None
    check: Callable | None = None
    seconds: float | None = None
    label: str | None = None
    timing: list = field(default_factory=list)
    invalid: str | None = None
    explain: dict = field(default_factory=dict)

    @property
    def test_id(self):
        return f"{self.function}-{self.name}"

    def describe(self):
        """The call in words, for messages: corr2d(x (5, 7) float64, k (3, 2) float64)."""
        if self.label:
            return self.label
        def show(v):
            if isinstance(v, np.ndarray):
                return f"{v.shape} {v.dtype}"
            return repr(v) if not callable(v) else getattr(v, "name", "a test function")
        parts = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return f"{self.function}({', '.join(parts)})"


class Signature:
    """A mistake recognised by what it does to the result rather than by an exact transform.

    A mistake function may return one (or put one in a component of its tuple):
    test(got) -> bool says whether the wrong result got shows that mistake.
    """

    def __init__(self, test):
        self.test = test


def only_where_windows_overlap(expected, coverage):
    """Signature of "overlapping windows overwrite instead of add": got differs from expected
    somewhere, and only at cells covered by more than one window (coverage: windows per cell)."""
    from .compare import rtol_for, values_close

    def test(got):
        if not isinstance(got, np.ndarray) or got.shape != expected.shape:
            return False
        wrong = ~values_close(got, expected, rtol_for(expected))
        return bool(wrong.any()) and not bool((wrong & (coverage <= 1)).any())
    return Signature(test)


def window_coverage(H, W, HH, WW, stride, pad=0):
    """(H, W) count of the windows (HH x WW, moved by stride over the padded input) covering each cell."""
    Hout, Wout = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    count = np.zeros((H + 2 * pad, W + 2 * pad), dtype=int)
    for i in range(Hout):
        for j in range(Wout):
            count[i * stride:i * stride + HH, j * stride:j * stride + WW] += 1
    return count[pad:pad + H, pad:pad + W]


def function_rng(seed, function):
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(function.encode())])


def build_cases(assignment, seed, functions=None):
    """Every case of assignment (or of the given functions), in contract order, with points set."""
    cases = []
    for task in tasks.load(assignment).graded:
        if functions is not None and task.name not in functions:
            continue
        rng = function_rng(seed, task.name)
        grid = task.hidden(rng)
        invalid = invalid_cases(task.name, task.invalid(rng) if task.invalid else [])
        # the argument checks together weigh as much as one case of the grid
        share = task.points / (len(grid) + (1 if invalid else 0))
        for case in grid:
            case.points, case.explain = share, task.mistakes
        for case in invalid:
            case.points = share / len(invalid)
        cases.extend(grid + invalid)
    return cases


def invalid_cases(function, calls):
    """Cases of the calls [(why, args, kwargs)] a task calls invalid: each must raise ValueError."""
    return [Case(function, f"invalid_{_slug(why)}", args, kwargs, kind="invalid", invalid=why)
            for why, args, kwargs in calls]


def _slug(text):
    """A test id from a sentence: "stride < 1" -> "stride_lt_1"."""
    text = text.lower().replace("!=", " ne ").replace("<", " lt ")
    return "_".join(re.findall("[a-z0-9]+", text))[:40]


def normal(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def ties(rng, shape, dtype=np.float64, levels=4):
    """Small integers as floats: many equal values, so windows have tied maxima."""
    return rng.integers(0, levels, size=shape).astype(dtype)
