"""The grader's test cases, built from the Task records in tasks/<assignment>.py.

A task's `hidden` builder returns its grid of cases. A case holds the arguments of one call,
its check (autograder/checks.py: by default, comparison with the reference) and the known
mistakes of that function as transforms of the reference ("the reference with w flipped"),
which the diagnosis compares a wrong answer with. Inputs are drawn from a generator seeded
per (submission seed, function), so adding a function never changes another function's inputs.

A case also names the situations it exercises beyond the plain formula ("ties", "overlap",
"stride", ...), so that a test can hold every grid to its balance: no situation carries more
than half of a function's grid, so no single mistake costs most of a function's points.
"""
import re
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import tasks

from .checks import Raises, Value
from .diagnose import Signature


@dataclass
class Case:
    """One call of a graded function, what it checks and what a wrong answer to it may mean.

    check: check(case, runner) -> checks.Verdict (autograder/checks.py); Value() compares the
    result with the reference's.
    mistakes: [(catalogue id, fn)], fn(*args, **kwargs) returns what the mistake returns.
    factors: {"N": 4, ...}, constants a result off by a factor is compared with.
    outputs: names of the result's components, e.g. ("dx", "dw", "db"); each is scored on its own.
    situations: what the case exercises beyond the plain formula, e.g. ("ties", "overlap").
    mutation_id: the catalogue id for a function that modifies its inputs.
    restore_share: None when writing into an input fails the whole case; for a task that asks
    to modify an input and put it back (numerical_gradient), the share of the case that
    putting it back bit-identical is worth (the result's parts share the rest).
    explain: {catalogue id: explanation} of the function's mistakes (its Task's `mistakes`), and
    the function's own wording of generic ids (its output size for "shape_off_by_one").
    crop: the padding the function crops from its result, to recognise results that still
    include it (0: the function crops nothing).
    seconds: the wall-time limit of this case's call (None: the grader's per-call limit).
    label: how describe() shows the call when the check builds its arguments itself.
    """
    function: str
    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    check: Callable = field(default_factory=Value)
    mistakes: list = field(default_factory=list)
    factors: dict = field(default_factory=dict)
    outputs: tuple = ("out",)
    situations: tuple = ()
    mutation_id: str = "mutates_input"
    restore_share: float | None = None
    crop: int = 0
    points: float = 1.0
    reference: Callable | None = None
    seconds: float | None = None
    label: str | None = None
    explain: dict = field(default_factory=dict)

    @property
    def test_id(self):
        return f"{self.function}-{self.name}"

    @property
    def kind(self):
        """What the case checks, in a word: "value", "invalid", "speed" or "outcome"."""
        return self.check.kind

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


def only_where_windows_overlap(expected, coverage):
    """Signature of "overlapping windows overwrite instead of add": got differs from expected
    somewhere, and only at cells covered by more than one window (coverage: windows per cell).
    Where every cell is covered more than once, any wrong answer would fit: it tells nothing."""
    from .compare import rtol_for, values_close

    def test(got):
        if not isinstance(got, np.ndarray) or got.shape != expected.shape or (coverage > 1).all():
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
    return [Case(function, f"invalid_{_slug(why)}", args, kwargs, check=Raises(why))
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
