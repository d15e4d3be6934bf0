"""Comparing a result with the reference: what counts as the same answer."""
import numpy as np

from autograder.compare import changed, compare


def test_float32_rounding_differences_pass():
    expected = np.linspace(-1, 1, 50, dtype=np.float32)
    assert compare(expected + np.float32(1e-6), expected) is None


def test_a_real_value_error_fails():
    expected = np.linspace(-1, 1, 50)
    got = expected.copy()
    got[7] += 1e-3
    assert compare(got, expected).kind == "values"


def test_float64_result_for_float32_inputs_is_a_dtype_problem():
    expected = np.ones(3, dtype=np.float32)
    assert compare(expected.astype(np.float64), expected).kind == "dtype"


def test_shapes_are_compared_before_values():
    assert compare(np.zeros((2, 3)), np.zeros((3, 2))).kind == "shape"


def test_the_failing_component_of_a_tuple_is_named_by_index():
    expected = (np.ones(2), np.ones(3), np.ones(4))
    problem = compare((np.ones(2), np.zeros(3), np.ones(4)), expected, ("dx", "dw", "db"))
    assert problem.component == 1


def test_a_missing_output_is_a_length_problem_that_names_the_outputs():
    expected = (np.ones(2), np.ones(3), np.ones(4))
    problem = compare((np.ones(2), np.ones(3)), expected, ("dx", "dw", "db"))
    assert (problem.kind, problem.component) == ("length", None)
    assert "returned 2 values, expected a tuple of 3 (dx, dw, db)" in problem.detail


def test_an_array_where_a_tuple_of_outputs_is_due_is_a_type_problem():
    problem = compare(np.ones(2), (np.ones(2), np.ones(3)), ("dx", "dw"))
    assert problem.kind == "type" and "expected a tuple of 2 (dx, dw)" in problem.detail


def test_a_short_tuple_inside_one_output_is_a_length_problem():
    problem = compare([(1, 2)], [(1, 2, 3)])
    assert problem.kind == "length" and "returned 2 values, expected a tuple of 3" in problem.detail


def test_int_expected_rejects_a_float():
    assert compare(3.0, 3).kind == "type"


def test_nan_in_result_is_nonfinite():
    assert compare(np.array([1.0, np.nan]), np.array([1.0, 2.0])).kind == "nonfinite"


def test_changed_detects_an_in_place_edit():
    before = np.arange(4.0)
    assert changed(before, before * 1) is False
    assert changed(before, before + 1) is True
