"""How the course compares a result with the reference: in the grader and in the notebooks.

One module, numpy only, with one tolerance rule and one order of checks: type, shape, dtype,
finite values, values; then, for the caller, inputs unmodified (`changed`). The grader imports
it; every exercise folder ships a copy next to fixtures.npz (written by scripts/regenerate.py),
whose setup cell runs the visible checks with `check_against_fixtures`. So a result that
passes a visible check passes the same case in the grader, and the reverse. When they all
pass, it prints what the hidden tests of that function cover, a sentence the fixtures hold
(written from the function's hidden grid by scripts/make_fixtures.py).

`compare(got, expected)` returns None when they agree, else a Problem naming the first thing
that differs and in which component ("dw" of a (dx, dw, db) result).
"""
import ast
import contextlib
import json
import numbers
import os
import sys
from dataclasses import dataclass

import numpy as np

# The tolerance rule: |got - expected| <= RTOL * (|expected| + max|expected|), elementwise,
# with RTOL by the reference's dtype; ints compare exactly.
RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-6}


@dataclass
class Problem:
    """kind: "none", "type", "length", "shape", "dtype", "nonfinite" or "values"."""
    kind: str
    component: int | None
    got: object
    expected: object
    detail: str = ""


def rtol_for(*arrays):
    dtypes = [a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return max((RTOL.get(d, 1e-4) for d in dtypes), default=1e-6)


def values_close(got, expected, rtol):
    """|got - expected| <= rtol * (|expected| + max|expected|), elementwise, NaN never close."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    scale = np.abs(expected).max(initial=0.0)
    return np.abs(got - expected) <= rtol * (np.abs(expected) + scale)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _sequence_problem(got, expected, component, names=()):
    """A Problem unless got is a tuple or list of len(expected) values; names: the outputs' names."""
    wanted = f"a {type(expected).__name__} of {len(expected)}" + (f" ({', '.join(names)})" if names else "")
    if not isinstance(got, (tuple, list)):
        return Problem("type", component, got, expected, f"returned {type(got).__name__}, expected {wanted}")
    if len(got) != len(expected):
        return Problem("length", component, got, expected, f"returned {len(got)} values, expected {wanted}")
    return None


def _compare_array(got, expected, component):
    if not isinstance(got, np.ndarray):
        return Problem("type", component, got, expected, f"returned {type(got).__name__}, expected a numpy array")
    if got.shape != expected.shape:
        return Problem("shape", component, got, expected)
    if got.dtype.kind not in "biuf":
        return Problem("type", component, got, expected, f"returned an array of dtype {got.dtype}")
    if got.dtype != expected.dtype:
        return Problem("dtype", component, got, expected)
    if not (np.isfinite(got) | ~np.isfinite(expected)).all():
        return Problem("nonfinite", component, got, expected)
    if not values_close(got, expected, rtol_for(expected)).all():
        return Problem("values", component, got, expected)
    return None


def _compare_one(got, expected, component):
    if got is None and expected is not None:
        return Problem("none", component, got, expected)
    if isinstance(expected, np.ndarray):
        return _compare_array(got, expected, component)
    if _is_int(expected):
        if not _is_int(got):
            return Problem("type", component, got, expected, f"returned {type(got).__name__} {got!r}, expected an int")
        return None if int(got) == int(expected) else Problem("values", component, got, expected)
    if _is_number(expected):
        if not _is_number(got):
            return Problem("type", component, got, expected, f"returned {type(got).__name__}, expected a number")
        return None if values_close(got, expected, 1e-6).all() else Problem("values", component, got, expected)
    if isinstance(expected, (tuple, list)):
        problem = _sequence_problem(got, expected, component)
        if problem is not None:
            return problem
        for g, e in zip(got, expected):
            problem = _compare_one(g, e, component)
            if problem is not None:
                return Problem(problem.kind, component, got, expected, problem.detail)
        return None
    return None if got == expected else Problem("values", component, got, expected)


def compare(got, expected, outputs=("out",)):
    """None if got matches expected, else the first Problem.

    When the result has several named outputs (a tuple such as (dx, dw, db)), each
    component is compared on its own and the Problem's component is its index.
    """
    if len(outputs) > 1:
        if got is None:
            return Problem("none", None, got, expected)
        problem = _sequence_problem(got, expected, None, outputs)
        if problem is not None:
            return problem
        for index, (g, e) in enumerate(zip(got, expected)):
            problem = _compare_one(g, e, index)
            if problem is not None:
                return problem
        return None
    return _compare_one(got, expected, None)


def changed(before, after):
    """True if array `after` differs from `before` (bitwise for equal dtypes, NaN == NaN)."""
    if not isinstance(after, np.ndarray) or after.shape != before.shape:
        return True
    return not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")


def sentence(problem, where):
    """A Problem in one sentence about `where` ("the result of corr2d on ...")."""
    got, want = problem.got, problem.expected
    if problem.kind == "none":
        return f"{where} is None: did you forget `return`?"
    if problem.kind in ("type", "length"):
        return f"{where}: {problem.detail}"
    if problem.kind == "shape":
        return f"{where} has shape {got.shape}, expected {want.shape}"
    if problem.kind == "dtype":
        return f"{where} has dtype {got.dtype}, expected {want.dtype} (keep the inputs' float dtype)"
    if problem.kind == "nonfinite":
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        return f"{where} has NaN or inf (the first at index {first}) where the reference is finite"
    if isinstance(want, np.ndarray):
        bad = ~values_close(got, want, rtol_for(want))
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        return (f"{where} is wrong in {int(bad.sum())} of {bad.size} elements; the first is at index {first}: "
                f"got {got[first]!r}, expected {want[first]!r}")
    return f"{where} is {got!r}, expected {want!r}"


# --- The notebook's visible checks: fixtures.npz holds the reference's results -------------------


def _decode(tree, fixtures):
    """Rebuild a stored value: {"array": key}, {"tuple": [...]}, {"list": [...]}, {"literal": repr}."""
    if "array" in tree:
        return fixtures[tree["array"]].copy()
    if "tuple" in tree:
        return tuple(_decode(t, fixtures) for t in tree["tuple"])
    if "list" in tree:
        return [_decode(t, fixtures) for t in tree["list"]]
    return ast.literal_eval(tree["literal"])


def check_case(fn, case, fixtures):
    """Run fn on one stored case; None if it behaves as the reference does, else what went wrong."""
    args = [_decode(a, fixtures) for a in case["args"]]
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    call = f"{fn.__name__} on {case['description']}"
    try:
        got = fn(*args)
    except NotImplementedError:
        return (f"{fn.__name__} is not implemented yet: replace `raise NotImplementedError()` "
                f"in its cell with your code and run that cell again")
    except ValueError as error:
        if case.get("raises") == "ValueError":
            return None
        return f"{call} raised ValueError: {error}"
    except Exception as error:
        return f"{call} raised {type(error).__name__}: {error}"
    if case.get("raises"):
        return f"{call} returned instead of raising ValueError: these arguments are invalid ({case['raises_why']})"
    outputs = tuple(case.get("outputs", ("out",)))
    where = f"the result of {call}"
    problem = compare(got, _decode(case["output"], fixtures), outputs)
    if problem is not None:
        if problem.component is not None:
            where = f"{outputs[problem.component]} of {call}"
        return sentence(problem, where)
    for name, old, new in zip(case["names"], before, args):
        if isinstance(old, np.ndarray) and changed(old, new):
            return f"{call} modified its input {name} in place: work on a copy"
    return None


def check_against_fixtures(fn, path="fixtures.npz"):
    """Compare fn with every stored case for its name; fail at the first mismatch (see report).
    When every case passes, print how many and what the hidden tests cover (passed_message)."""
    with np.load(path) as fixtures:
        cases = [c for c in json.loads(str(fixtures["__cases__"])) if c["function"] == fn.__name__]
        with contextlib.redirect_stderr(sys.stdout):
            for case in cases:
                problem = check_case(fn, case, fixtures)
                if problem:
                    report(problem)
                    return
        print(_passed(fn.__name__, len(cases), fixtures))


def passed_message(name, count, path="fixtures.npz"):
    """What a student reads when the `count` visible checks of `name` pass: that they passed,
    and what the grader's hidden tests of `name` cover, a sentence scripts/make_fixtures.py
    wrote into the fixtures from the function's hidden case grid."""
    with np.load(path) as fixtures:
        return _passed(name, count, fixtures)


def _passed(name, count, fixtures):
    hidden = json.loads(str(fixtures["__hidden__"])) if "__hidden__" in fixtures.files else {}
    checks = "its visible check passed" if count == 1 else f"all {count} visible checks passed"
    return f"{name}: {checks}. " + hidden.get(name, "The hidden tests check more cases.")


def report(problem):
    """Fail a visible check; when nbgrader runs the notebook the hidden tests score, so only print."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        print("visible check failed:", problem)
    else:
        raise AssertionError(problem)
