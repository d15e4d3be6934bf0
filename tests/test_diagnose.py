"""Diagnoses name the catalogue id of the mistake, or a generic one that says what to fix."""
import numpy as np
import pytest

import solutions as ref
from autograder.cases import build_cases
from autograder.diagnose import diagnose
from autograder.grading import rebuild
from autograder.points import POINTS


def _case(assignment, function, index=0):
    return [c for c in build_cases(assignment, 7) if c.function == function][index]


def test_flipped_kernel_is_named():
    case = _case("ch02_convolution", "conv_forward_naive")
    x, w, b = case.args
    got = ref.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, **case.kwargs)
    assert "[flipped_kernel]" in diagnose(case, case.args, got, ref.conv_forward_naive(*case.args, **case.kwargs))


def test_dw_of_last_sample_is_named_on_the_dw_component():
    case = _case("ch06_backprop", "conv_backward_naive")
    dx, dw, db = ref.conv_backward_naive(*case.args, **case.kwargs)
    d, x, w, b = case.args
    last = ref.conv_backward_naive(d[-1:], x[-1:], w, b, **case.kwargs)[1]
    message = diagnose(case, case.args, (dx, last, db), (dx, dw, db))
    assert message.startswith("dw: [dw_last_sample]")


def test_hw_swapped_shape():
    case = _case("ch04_pooling", "max_pool_forward")
    expected = ref.max_pool_forward(*case.args, **case.kwargs)
    assert "[shape_hw_swapped]" in diagnose(case, case.args, expected.swapaxes(2, 3).copy(), expected)


def test_constant_factor_names_its_value():
    case = _case("ch04_pooling", "avg_pool_forward")
    expected = ref.avg_pool_forward(*case.args, **case.kwargs)
    message = diagnose(case, case.args, expected * 3.0, expected)
    assert "[scaled]" in message and "3 times" in message


def test_fallback_gives_the_first_wrong_element():
    case = _case("ch02_convolution", "corr2d")
    expected = ref.corr2d(*case.args)
    got = expected.copy()
    got[1, 1] += 5
    assert "[wrong_values]" in diagnose(case, case.args, got, expected) and "(1, 1)" in diagnose(
        case, case.args, got, expected)


@pytest.mark.parametrize("assignment", list(POINTS))
def test_every_catalogued_mistake_changes_some_case(assignment):
    """Can each mistake of the case grid be told apart from the reference on at least one case?"""
    seen, visible = set(), set()
    for case in build_cases(assignment, 3):
        if case.check is not None or case.kind == "invalid":  # judged by what it achieves or raises
            assert case.mistakes == []
            continue
        expected = (case.reference or getattr(ref, case.function))(*[rebuild(a) for a in case.args], **case.kwargs)
        for mistake, fn in case.mistakes:
            seen.add((case.function, mistake))
            try:
                wrong = fn(*case.args, **case.kwargs)
            except Exception:
                continue
            parts = wrong if isinstance(wrong, tuple) and len(case.outputs) > 1 else (wrong,)
            exp = expected if len(case.outputs) > 1 else (expected,)
            for w, e in zip(parts, exp):
                if w is None or not isinstance(w, (np.ndarray, int, float, tuple, list)):
                    continue
                if np.shape(w) != np.shape(e) or not np.allclose(np.asarray(w, float), np.asarray(e, float)):
                    visible.add((case.function, mistake))
    assert seen - visible == set()


def test_a_functions_cases_share_its_points_and_argument_checks_weigh_one_case():
    for assignment, functions in POINTS.items():
        cases = build_cases(assignment, 0)
        for function, points in functions.items():
            grid = [c.points for c in cases if c.function == function and c.kind != "invalid"]
            invalid = [c.points for c in cases if c.function == function and c.kind == "invalid"]
            assert sum(grid) + sum(invalid) == pytest.approx(points), function
            assert max(grid) == pytest.approx(min(grid)), function
            assert sum(invalid) == pytest.approx(grid[0] if invalid else 0), function


def test_an_outcome_graded_function_is_one_case_worth_all_its_points():
    cases = [c for a in POINTS for c in build_cases(a, 0) if c.check is not None]
    assert [(c.function, c.points) for c in cases] == [("fine_tune", POINTS["ch08_fine_tuning"]["fine_tune"])]
