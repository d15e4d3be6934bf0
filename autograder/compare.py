"""Compare a student's result with the reference: type, shape, dtype, then values.

`compare(got, expected)` returns None when they agree, else a Problem naming the first
thing that differs and in which component ("dw" of a (dx, dw, db) result).
Tolerances are relative to the reference's magnitude and suited to the dtype.
"""
import numbers
from dataclasses import dataclass

import numpy as np

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


def _compare_one(got, expected, component):
    if got is None and expected is not None:
        return Problem("none", component, got, expected)
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            return Problem("type", component, got, expected, f"returned {type(got).__name__}, expected a numpy array")
        if got.shape != expected.shape:
            return Problem("shape", component, got, expected)
        if got.dtype.kind not in "biuf":
            return Problem("type", component, got, expected, f"returned an array of dtype {got.dtype}")
        rtol = rtol_for(expected)
        finite = np.isfinite(got) | ~np.isfinite(expected)
        if not finite.all():
            return Problem("nonfinite", component, got, expected)
        if not values_close(got, expected, rtol).all():
            return Problem("values", component, got, expected)
        if got.dtype != expected.dtype:
            return Problem("dtype", component, got, expected)
        return None
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
