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


def test_int_expected_rejects_a_float():
    assert compare(3.0, 3).kind == "type"


def test_nan_in_result_is_nonfinite():
    assert compare(np.array([1.0, np.nan]), np.array([1.0, 2.0])).kind == "nonfinite"


def test_changed_detects_an_in_place_edit():
    before = np.arange(4.0)
    assert changed(before, before * 1) is False
    assert changed(before, before + 1) is True
