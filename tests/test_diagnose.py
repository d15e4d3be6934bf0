"""Diagnoses name the catalogue id of the mistake (a field), or a generic one that says what to
fix in the terms of the function it is about; case grids weigh what they test evenly."""
from collections import Counter

import numpy as np
import pytest

import solutions as ref
from autograder.cases import build_cases
from autograder.checks import rebuild
from autograder.diagnose import GENERIC, diagnose
from autograder.points import POINTS


def _case(assignment, function, index=0):
    return [c for c in build_cases(assignment, 7) if c.function == function][index]


def _expected(case):
    return (case.reference or getattr(ref, case.function))(*[rebuild(a) for a in case.args], **case.kwargs)


def _mistakes(case, got):
    return [f.mistake for f in diagnose(case, case.args, got, _expected(case))]


def test_flipped_kernel_is_named():
    case = _case("ch02_convolution", "conv_forward_naive")
    x, w, b = case.args
    assert _mistakes(case, ref.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, **case.kwargs)) == ["flipped_kernel"]


def test_dw_of_last_sample_is_named_on_the_dw_part():
    case = _case("ch06_backprop", "conv_backward_naive")
    dx, dw, db = _expected(case)
    d, x, w, b = case.args
    last = ref.conv_backward_naive(d[-1:], x[-1:], w, b, **case.kwargs)[1]
    finding, = diagnose(case, case.args, (dx, last, db), (dx, dw, db))
    assert (finding.part, finding.mistake) == ("dw", "dw_last_sample")
    assert str(finding).startswith("dw: [dw_last_sample] ")


def test_hw_swapped_shape():
    case = _case("ch04_pooling", "max_pool_forward")
    assert _mistakes(case, _expected(case).swapaxes(2, 3).copy()) == ["shape_hw_swapped"]


def test_constant_factor_names_its_value():
    case = _case("ch04_pooling", "avg_pool_forward")
    finding, = diagnose(case, case.args, _expected(case) * 3.0, _expected(case))
    assert finding.mistake == "scaled" and "3 times" in finding.text


def test_fallback_gives_the_first_wrong_element():
    case = _case("ch02_convolution", "corr2d")
    got = _expected(case).copy()
    got[1, 1] += 5
    finding, = diagnose(case, case.args, got, _expected(case))
    assert finding.mistake == "wrong_values" and "(1, 1)" in finding.text


def test_the_reference_values_are_a_detail_kept_apart_from_the_diagnosis():
    """The diagnosis says where and how wrong; the reference's value, part of the hidden
    case's answer, is only in the detail (shown to students at --feedback-detail values)."""
    case = _case("ch02_convolution", "corr2d")
    expected = _expected(case)
    got = expected.copy()
    got[1, 1] += 5
    finding, = diagnose(case, case.args, got, expected)
    value = f"{expected[1, 1]:.6g}"
    assert value not in finding.text and "expected" not in finding.text
    assert finding.detail == f"at (1, 1): got {got[1, 1]:.6g}, expected {value}"


def test_a_wrong_scalar_does_not_give_the_right_one_away():
    case = _case("ch03_padding_stride", "conv_output_size")
    expected = _expected(case)
    finding, = diagnose(case, case.args, expected + 1, expected)
    assert str(expected) not in finding.text.replace(str(expected + 1), "")
    assert finding.detail == f"expected {expected!r}"


def test_a_scaled_dx_is_not_taken_for_overwriting_where_every_cell_is_overlapped():
    """With a 2x2 kernel at stride 1 on a 2-padded input, every cell is in several windows: the
    pattern "wrong only where windows overlap" tells nothing there; the factor does."""
    case = next(c for c in build_cases("ch06_backprop", 7, functions={"conv_backward_naive"})
                if c.kwargs == {"stride": 1, "pad": 2})
    dx, dw, db = _expected(case)
    assert _mistakes(case, (dx * 2, dw, db)) == ["scaled"]


# ---------------------------------------------------------------- hints true for their function

def _off_by_one(case):
    expected = _expected(case)
    return np.zeros(expected.shape[:-1] + (expected.shape[-1] + 1,), expected.dtype)


def test_an_off_by_one_of_a_transposed_conv_states_its_own_output_size():
    case = _case("ch06_backprop", "conv_transpose_forward")
    finding, = diagnose(case, case.args, _off_by_one(case), _expected(case))
    assert finding.mistake == "shape_off_by_one"
    assert "(H-1)*stride - 2*pad + HH" in finding.text and "// stride + 1" not in finding.text


@pytest.mark.parametrize("assignment, function, formula", [
    ("ch02_convolution", "conv_forward_naive", "(H + 2*pad - HH) // stride + 1"),
    ("ch02_convolution", "corr2d", "H - HH + 1"),
    ("ch04_pooling", "max_pool_forward", "(H - pool) // stride + 1"),
    ("ch03_padding_stride", "corr1d", "n + m - 1"),
])
def test_an_off_by_one_states_the_functions_own_output_size(assignment, function, formula):
    case = _case(assignment, function)
    finding, = diagnose(case, case.args, _off_by_one(case), _expected(case))
    assert finding.mistake == "shape_off_by_one" and formula in finding.text


def test_an_off_by_one_of_a_function_without_a_size_formula_gets_generic_advice():
    case = _case("ch05_normalization", "layernorm_forward")
    finding, = diagnose(case, case.args, _off_by_one(case), _expected(case))
    assert finding.text.endswith(GENERIC["shape_off_by_one"]) and "stride" not in finding.text


def test_a_result_padded_twice_by_zero_pad_is_not_told_to_crop_its_padding():
    case = next(c for c in build_cases("ch03_padding_stride", 7, functions={"zero_pad"}) if c.args[1] == 1)
    x, pad = case.args
    assert _mistakes(case, ref.zero_pad(x, 2 * pad)) == ["wrong_shape"]


def test_a_result_that_still_holds_the_padding_is_told_so_where_the_function_crops():
    case = next(c for c in build_cases("ch07_im2col", 7, functions={"col2im"}) if c.kwargs["pad"] == 1)
    got = np.pad(_expected(case), ((0, 0), (0, 0), (1, 1), (1, 1)))
    finding, = diagnose(case, case.args, got, _expected(case))
    assert finding.mistake == "shape_padded" and "crop pad rows and columns" in finding.text


def test_a_transposed_global_pool_is_told_its_own_axes():
    case = _case("ch04_pooling", "global_avg_pool")
    finding, = diagnose(case, case.args, _expected(case).T.copy(), _expected(case))
    assert finding.mistake == "shape_hw_swapped" and "(N, C), one row per sample" in finding.text


def test_every_generic_id_a_task_words_itself_is_one_the_diagnosis_can_give():
    """A task's wording of a generic id would be dead text under another id."""
    for assignment in POINTS:
        cases = build_cases(assignment, 0)
        for function in POINTS[assignment]:
            grid = [c for c in cases if c.function == function]
            caught = {mistake for c in grid for mistake, _ in c.mistakes} | {c.mutation_id for c in grid}
            explained = {mistake for c in grid for mistake in c.explain}
            assert explained - caught <= set(GENERIC), (function, explained - caught - set(GENERIC))


# ---------------------------------------------------------------- the catalogue and the grids

@pytest.mark.parametrize("assignment", list(POINTS))
def test_every_catalogued_mistake_changes_some_case(assignment):
    """Can each mistake of the case grid be told apart from the reference on at least one case?"""
    seen, visible = set(), set()
    for case in build_cases(assignment, 3):
        if case.kind in ("invalid", "outcome"):  # judged by what it raises or achieves
            assert case.mistakes == []
            continue
        expected = _expected(case)
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


def _grids():
    for assignment in POINTS:
        cases = build_cases(assignment, 0)
        for function in POINTS[assignment]:
            yield pytest.param([c for c in cases if c.function == function and c.kind != "invalid"], id=function)


@pytest.mark.parametrize("grid", list(_grids()))
def test_no_situation_carries_more_than_half_of_a_functions_grid(grid):
    """Each thing a function must handle (ties, overlapping windows, stride, float32, ...) weighs
    about the same: getting one of them wrong never costs most of the function's points."""
    weight = Counter(s for case in grid for s in case.situations)
    total = sum(case.points for case in grid)
    heavy = {s: n for s, n in weight.items()
             if sum(c.points for c in grid if s in c.situations) > total / 2 + 1e-9}
    assert heavy == {}, f"{grid[0].function}: {heavy} of {len(grid)} cases"


def test_max_pool_backward_has_each_situation_and_ties_weigh_at_most_half():
    grid = build_cases("ch04_pooling", 0, functions={"max_pool_backward"})
    tied = sum(c.points for c in grid if "ties" in c.situations)
    assert 0 < tied <= sum(c.points for c in grid) / 2
    assert {"ties", "overlap", "leftover", "float32"} <= {s for c in grid for s in c.situations}


def test_an_outcome_graded_function_is_one_case_worth_all_its_points():
    cases = [c for a in POINTS for c in build_cases(a, 0) if c.kind == "outcome"]
    assert [(c.function, c.points) for c in cases] == [("fine_tune", POINTS["ch08_fine_tuning"]["fine_tune"])]
