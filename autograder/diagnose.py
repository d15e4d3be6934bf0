"""Turn a wrong answer into findings a student can act on, each naming a catalogue id.

First the function's known mistakes (transforms of the reference, from the case) are tried:
if the wrong result equals what a mistake produces, that mistake is named. Otherwise a
generic diagnosis: shape (last two axes swapped, off by one, still padded), dtype, NaN, a
constant factor or sign, and finally where the first wrong element is and the largest error.
A task may word a generic id in its own terms (case.explain): its output-size formula for
"shape_off_by_one", for instance, which differs from function to function.

A result with several named outputs ((dx, dw, db)) is diagnosed part by part: one finding per
wrong part, named by the part's name.
"""
import copy
from dataclasses import dataclass

import numpy as np

from .compare import compare, rtol_for, values_close

# The ids the grader gives a call of any function. With the ids the task records name in their
# `mistakes`, they are the mistake catalogue: each has a realistic wrong submission in
# tests/corpus/mutants that the tests grade.
GENERIC_IDS = ("shape_hw_swapped", "shape_off_by_one", "shape_padded", "wrong_shape", "dtype_changed",
               "mutates_input", "nan_or_inf", "scaled", "sign_flipped", "wrong_values", "returns_none", "raises",
               "timeout", "missing_function", "no_value_error", "too_slow")

# The generic ids' advice, when the task does not word it itself.
GENERIC = {
    "shape_hw_swapped": "the last two axes are swapped: keep the reference's axis order (height before width "
                        "for an image)",
    "shape_padded": "the result still includes the padding: crop pad rows and columns from each side",
    "shape_off_by_one": "off by one: check how you compute the length of each axis against the task's formula",
    "dtype_changed": "keep the inputs' float dtype (e.g. np.zeros(shape, dtype=x.dtype), np.zeros_like(x))",
    "nan_or_inf": "look for a division by zero, an overflow, or an array started with np.empty or NaN whose "
                  "values are never all written",
    "mutates_input": "work on a copy, never write into an input",
    "too_slow": "use vectorised numpy (matrix products) instead of Python loops over output positions",
}


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a call: its catalogue id, what to tell the student (without the
    id), and the output it concerns ("dw"; "" for the whole result or call).

    detail: the reference's values that show it ("got 0.25, expected 0.5 at index (0, 1)"):
    part of the hidden case's answer, so students see it only when the instructor asks
    (--feedback-detail values); results.json always keeps it.
    """
    mistake: str
    text: str
    part: str = ""
    detail: str = ""

    def __str__(self):
        """The student's line: "dw: [dw_last_sample] is the reference dw of the last sample only..."."""
        return f"{self.part + ': ' if self.part else ''}[{self.mistake}] {self.text}"


class Signature:
    """A mistake recognised by what it does to the result rather than by an exact transform.

    A mistake function may return one (or put one in a component of its tuple):
    test(got) -> bool says whether the wrong result got shows that mistake.
    """

    def __init__(self, test):
        self.test = test


def advice(case, mistake):
    """The task's own wording of a generic id, else the generic one."""
    return case.explain.get(mistake, GENERIC.get(mistake, ""))


def _component(value, index):
    if index is None:
        return value
    if isinstance(value, (tuple, list)) and index < len(value):
        return value[index]
    return None


def _same(got_part, wrong_part):
    """Whether got_part is what a mistake returns (compared in got_part's float dtype)."""
    if isinstance(wrong_part, np.ndarray) and isinstance(got_part, np.ndarray) and got_part.dtype.kind == "f":
        wrong_part = wrong_part.astype(got_part.dtype, copy=False)
    return wrong_part is not None and compare(got_part, wrong_part) is None


def _matching_mistake(case, args, got_part, component, signatures=False):
    """The catalogue id of the first mistake whose output equals got_part (the failing component),
    or, with signatures, the first whose Signature recognises it."""
    for mistake, fn in case.mistakes:
        try:
            wrong = fn(*copy.deepcopy(args), **copy.deepcopy(case.kwargs))
        except Exception:  # a mistake that cannot happen on these inputs
            continue
        wrong_part = _component(wrong, component)
        if signatures:
            if isinstance(wrong_part, Signature) and wrong_part.test(got_part):
                return mistake
        elif not isinstance(wrong_part, Signature) and _same(got_part, wrong_part):
            return mistake
    return None


def _shape_finding(case, got, expected):
    """(id, text) of a result of the wrong shape."""
    g, e = got.shape, expected.shape
    text = f"shape {g}, expected {e}"
    if len(g) == len(e) >= 2 and g[:-2] == e[:-2] and g[-2:] == e[-2:][::-1]:
        mistake = "shape_hw_swapped"
    elif case.crop and len(g) == len(e) and g[:-2] == e[:-2] and all(
            a == b + 2 * case.crop for a, b in zip(g[-2:], e[-2:])):
        mistake = "shape_padded"
    elif len(g) == len(e) and all(abs(a - b) <= 1 for a, b in zip(g, e)):
        mistake = "shape_off_by_one"
    else:
        return "wrong_shape", text
    return mistake, f"{text}: {advice(case, mistake)}"


def _factor_finding(case, got, expected):
    """(id, text) if got is a constant multiple of expected, else None."""
    g, e = np.asarray(got, dtype=np.float64).ravel(), np.asarray(expected, dtype=np.float64).ravel()
    norm = float(e @ e)
    if norm == 0:
        return None
    c = float(g @ e) / norm
    if not values_close(g, c * e, rtol_for(expected) * 10).all():
        return None
    if np.isclose(c, -1.0, rtol=1e-3):
        return "sign_flipped", "the values have the opposite sign of the reference's: check a minus sign"
    if np.isclose(c, 0.0, atol=1e-9):
        return None
    names = [name for name, value in case.factors.items() if np.isclose(c, value, rtol=1e-3)]
    names += [f"1/{name}" for name, value in case.factors.items()
              if value and not name.startswith("1/") and np.isclose(c, 1 / value, rtol=1e-3)]
    hint = f" (= {' = '.join(names)})" if names else ""
    return "scaled", f"the values are {c:.4g} times the reference's{hint}: a missing or extra constant factor"


def _values_message(got, expected):
    """(text, detail) of wrong values: where and how wrong, then the values that show it."""
    if not isinstance(expected, np.ndarray):
        return f"returned {got!r}, which is not the right value", f"expected {expected!r}"
    close = values_close(got, expected, rtol_for(expected))
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    error = np.abs(got.astype(np.float64) - expected) / max(np.abs(expected).max(initial=0.0), 1e-300)
    return (f"{(~close).sum()} of {close.size} values are wrong (largest error {error.max():.2g} relative to the "
            f"largest value), the first at index {first}"), f"at {first}: got {got[first]:.6g}, expected {expected[first]:.6g}"


def _explain(case, args, got_part, expected_part, problem, component):
    """(id, text) or (id, text, detail) of the compare.Problem of one part (component: its index,
    None for the whole)."""
    if problem.kind == "none":
        return "returns_none", "returned None: did the function end without `return`?"
    if problem.kind in ("type", "length"):
        return "wrong_type", problem.detail
    if problem.kind in ("shape", "values", "nonfinite"):
        mistake = _matching_mistake(case, args, got_part, component)
        if mistake:
            return mistake, case.explain[mistake]
    if problem.kind == "shape":
        return _shape_finding(case, got_part, expected_part)
    if problem.kind == "dtype":
        return "dtype_changed", (f"dtype {got_part.dtype}, expected {expected_part.dtype}: "
                                 f"{advice(case, 'dtype_changed')}")
    if problem.kind == "nonfinite":
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got_part))[0])
        return "nan_or_inf", (f"the result has NaN or inf (first at index {bad}) where the reference is finite: "
                              f"{advice(case, 'nan_or_inf')}")
    if isinstance(expected_part, np.ndarray) and expected_part.size > 1:
        factor = _factor_finding(case, got_part, expected_part)
        if factor:
            return factor
    # a pattern of wrong values is weaker evidence than an exact transform or a constant factor
    mistake = _matching_mistake(case, args, got_part, component, signatures=True)
    if mistake:
        return mistake, case.explain[mistake]
    text, detail = _values_message(got_part, expected_part)
    return "wrong_values", text, detail


def _finding(explained, part=""):
    mistake, text, *detail = explained
    return Finding(mistake, text, part, *detail)


def diagnose(case, args, got, expected):
    """The findings of a result: [] if got is right for this case, else one per wrong part
    (named by case.outputs when the result has several), or one for the whole result when it
    is not the tuple the task asks for."""
    if len(case.outputs) == 1:
        problem = compare(got, expected)
        return [] if problem is None else [_finding(_explain(case, args, got, expected, problem, None))]
    problem = compare(got, expected, case.outputs)
    if problem is not None and problem.component is None:  # None, or not a tuple of the right length
        return [_finding(_explain(case, args, got, expected, problem, None))]
    findings = []
    for index, name in enumerate(case.outputs):
        problem = compare(got[index], expected[index])
        if problem is not None:
            findings.append(_finding(_explain(case, args, got[index], expected[index], problem, index), name))
    return findings
