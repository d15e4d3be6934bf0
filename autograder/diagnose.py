"""Turn a wrong answer into a message a student can act on, naming a catalogue id.

First the function's known mistakes (transforms of the reference, from the case) are tried:
if the wrong result equals what a mistake produces, that mistake is named. Otherwise a
generic diagnosis: shape (H and W swapped, off by one, still padded), dtype, NaN, a constant
factor or sign, and finally where the first wrong element is and the largest error.
"""
import copy

import numpy as np

from .cases import Signature
from .compare import compare, rtol_for, values_close


def _component(value, index):
    if index is None:
        return value
    if isinstance(value, (tuple, list)) and index < len(value):
        return value[index]
    return None


def _shape(value):
    return tuple(value.shape) if isinstance(value, np.ndarray) else None


def _matching_mistake(case, args, got_part, component):
    """The catalogue id of the first mistake whose output equals got_part (the failing component)."""
    for mistake, fn in case.mistakes:
        try:
            wrong = fn(*copy.deepcopy(args), **copy.deepcopy(case.kwargs))
        except Exception:  # a mistake that cannot happen on these inputs
            continue
        wrong_part = _component(wrong, component)
        if isinstance(wrong_part, Signature):
            if wrong_part.test(got_part):
                return mistake
            continue
        if isinstance(wrong_part, np.ndarray) and isinstance(got_part, np.ndarray) and got_part.dtype.kind == "f":
            wrong_part = wrong_part.astype(got_part.dtype, copy=False)
        if wrong_part is not None and compare(got_part, wrong_part) is None:
            return mistake
    return None


def _shape_message(case, got, expected):
    g, e = got.shape, expected.shape
    text = f"shape {g}, expected {e}"
    if len(g) == len(e) >= 2 and g[:-2] == e[:-2] and g[-2:] == e[-2:][::-1]:
        return "shape_hw_swapped", f"{text}: H and W swapped? Keep (N, C, H, W) order, height before width"
    pad = case.pad
    if pad and len(g) == len(e) and g[:-2] == e[:-2] and all(a == b + 2 * pad for a, b in zip(g[-2:], e[-2:])):
        return "shape_padded", f"{text}: the result still includes the padding; crop {pad} from each side of H and W"
    if len(g) == len(e) and all(abs(a - b) <= 1 for a, b in zip(g, e)):
        return "shape_off_by_one", (f"{text}: off by one; an output has floor((n + 2*pad - k) / stride) + 1 "
                                    "positions along each axis")
    return "wrong_shape", text


def _factor_message(case, got, expected):
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
    if not isinstance(expected, np.ndarray):
        return f"returned {got!r}, expected {expected!r}"
    close = values_close(got, expected, rtol_for(expected))
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    error = np.abs(got.astype(np.float64) - expected) / max(np.abs(expected).max(initial=0.0), 1e-300)
    return (f"{(~close).sum()} of {close.size} values are wrong (largest error {error.max():.2g} relative to the "
            f"largest value); first at index {first}: got {got[first]:.6g}, expected {expected[first]:.6g}")


def explain(case, args, got, expected, problem):
    """The student-facing diagnosis of `problem`, as "[id] text" (prefixed by the output's name)."""
    component = problem.component if len(case.outputs) > 1 else None
    prefix = f"{case.outputs[component]}: " if component is not None else ""
    got_part, expected_part = _component(got, component), _component(expected, component)
    if problem.kind == "none":
        return f"{prefix}[returns_none] returned None: did the function end without `return`?"
    if problem.kind in ("type", "length"):
        return f"{prefix}[wrong_type] {problem.detail}"
    if problem.kind in ("shape", "values", "nonfinite"):
        mistake = _matching_mistake(case, args, got_part, component)
        if mistake:
            return f"{prefix}[{mistake}] {case.explain[mistake]}"
    if problem.kind == "shape":
        return prefix + "[%s] %s" % _shape_message(case, got_part, expected_part)
    if problem.kind == "dtype":
        return (f"{prefix}[dtype_changed] dtype {got_part.dtype}, expected {expected_part.dtype}: keep the inputs' "
                "float dtype (e.g. np.zeros(shape, dtype=x.dtype), np.zeros_like(x))")
    if problem.kind == "nonfinite":
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got_part))[0])
        return (f"{prefix}[nan_or_inf] the result has NaN or inf (first at index {bad}) where the reference is "
                "finite: a division by zero or an overflow?")
    if isinstance(expected_part, np.ndarray) and expected_part.size > 1:
        factor = _factor_message(case, got_part, expected_part)
        if factor:
            return prefix + "[%s] %s" % factor
    return f"{prefix}[wrong_values] {_values_message(got_part, expected_part)}"


def diagnose(case, args, got, expected):
    """None if got is right for this case, else the diagnosis message."""
    problem = compare(got, expected, case.outputs)
    return None if problem is None else explain(case, args, got, expected, problem)
