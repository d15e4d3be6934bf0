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


# --- one verdict: a visible check and the grader agree on the same case --------------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import solutions  # noqa: E402
from autograder import compare as compare_module  # noqa: E402
from autograder.cases import Case  # noqa: E402
from autograder.grading import CaseRunner, InProcessCaller  # noqa: E402
from tasks import ASSIGNMENTS  # noqa: E402

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"


def _perturbations(rtol):
    """Ways to answer: right, off by rounding, off by a little more than the tolerance, wrong
    dtype, wrong shape, writing into an input."""
    def scale(factor):
        return lambda out, args: out * out.dtype.type(factor) if isinstance(out, np.ndarray) else out

    def cast(out, args):
        return out.astype(np.float64 if out.dtype == np.float32 else np.float32)

    def grow(out, args):
        return np.pad(out, [(0, 1)] + [(0, 0)] * (out.ndim - 1))

    def mutate(out, args):
        next(a for a in args if isinstance(a, np.ndarray) and a.size)[...] += 1
        return out

    return {"exact": lambda out, args: out, "rounding": scale(1 + rtol / 10), "beyond": scale(1 + 3 * rtol),
            "dtype": cast, "shape": grow, "mutates": mutate}


def _fixture_cases():
    for assignment in ASSIGNMENTS:
        with np.load(EXERCISES / assignment / "fixtures.npz") as fixtures:
            for index, case in enumerate(json.loads(str(fixtures["__cases__"]))):
                if "output" in case and "array" in case["output"]:
                    yield pytest.param(assignment, index, id=f"{case['function']}-{index}")


@pytest.mark.parametrize("assignment, index", list(_fixture_cases()))
def test_a_visible_check_and_the_grader_give_the_same_verdict(assignment, index):
    """For each visible case with an array result, answers that are right, right up to rounding,
    just beyond the tolerance, of the wrong dtype or shape, or that write into an input: the
    notebook's check_case passes exactly those the grader's runner passes."""
    with np.load(EXERCISES / assignment / "fixtures.npz") as fixtures:
        stored = json.loads(str(fixtures["__cases__"]))[index]
        args = tuple(compare_module._decode(a, fixtures) for a in stored["args"])
        expected = compare_module._decode(stored["output"], fixtures)
        reference = getattr(solutions, stored["function"])
        for name, perturb in _perturbations(compare_module.rtol_for(expected)).items():
            def student(*call_args):
                return perturb(reference(*[a.copy() if isinstance(a, np.ndarray) else a for a in call_args]),
                               call_args)
            student.__name__ = stored["function"]
            visible = compare_module.check_case(student, stored, fixtures) is None
            case = Case(stored["function"], "visible", args, outputs=tuple(stored["outputs"]))
            graded = CaseRunner(InProcessCaller({stored["function"]: student})).run(case).passed
            assert visible == graded, f"{name}: visible check says {visible}, grader says {graded}"
            if name in ("exact", "rounding"):
                assert visible, name
            else:
                assert not visible, name


# --- what a student reads when the visible checks pass -------------------------------------------


def test_the_pass_message_counts_the_checks_and_says_what_the_hidden_tests_cover(tmp_path):
    path = tmp_path / "fixtures.npz"
    covered = "The hidden tests run 6 more cases (tied maxima, float32) and 1 argument check (stride != pool)."
    np.savez(path, __cases__=np.array("[]"), __hidden__=np.array(json.dumps({"max_unpool": covered})))
    assert compare_module.passed_message("max_unpool", 4, path) == f"max_unpool: all 4 visible checks passed. {covered}"
    assert compare_module.passed_message("max_unpool", 1, path) == f"max_unpool: its visible check passed. {covered}"


def test_every_fixture_file_says_what_the_hidden_tests_of_each_function_cover():
    for assignment in ASSIGNMENTS:
        with np.load(EXERCISES / assignment / "fixtures.npz") as fixtures:
            covered = json.loads(str(fixtures["__hidden__"]))
            functions = {c["function"] for c in json.loads(str(fixtures["__cases__"]))}
        assert functions <= set(covered), assignment
        assert all(sentence.startswith("The hidden test") for sentence in covered.values()), assignment
