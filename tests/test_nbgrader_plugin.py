"""The course's nbgrader preprocessors and config, without the nbgrader command line: the test
cell outputs SandboxedGrade writes are scored by nbgrader's own determine_grade as intended,
and feedback tracebacks lose the hidden tests they quote."""
import os
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader import utils
from traitlets.config.loader import PyFileConfigLoader

from autograder.nbgrader_autograde import SandboxedGrade
from autograder.nbgrader_feedback import TrimGradedTracebacks
from autograder.points import POINTS

ROOT = Path(__file__).resolve().parent.parent


def grade_cell(function, points):
    cell = new_code_cell(f"check_against_fixtures({function})")
    cell.metadata.nbgrader = {"grade": True, "solution": False, "locked": True, "grade_id": f"test_{function}",
                              "points": points, "schema_version": 3, "task": False}
    return cell


def solution_cell(function, source):
    cell = new_code_cell(source)
    cell.metadata.nbgrader = {"grade": False, "solution": True, "locked": False, "grade_id": function,
                              "schema_version": 3, "task": False}
    return cell


def nbgrader_score(cell):
    """What nbgrader's SaveAutoGrades would store for this cell."""
    return utils.determine_grade(cell, None)


OK = types.SimpleNamespace(status="ok")


def outcome(cell, by_function, result=OK):
    cell.outputs = SandboxedGrade().outcome(cell, by_function, result)
    return cell


def test_full_marks_become_the_cells_points():
    cell = outcome(grade_cell("corr2d", 4.0), {"corr2d": (4.0, 4.0, [])})
    assert nbgrader_score(cell) == (4.0, 4.0)


def test_partial_marks_become_nbgraders_partial_credit_with_the_diagnoses_on_stdout():
    cell = outcome(grade_cell("corr2d", 4.0), {"corr2d": (3.0, 4.0, ["[flipped_kernel] do not flip k"])})
    assert nbgrader_score(cell) == (3.0, 4.0)
    assert "[flipped_kernel] do not flip k" in cell.outputs[0].text


def test_zero_marks_become_an_error_that_lists_the_diagnoses():
    cell = outcome(grade_cell("corr2d", 4.0), {"corr2d": (0.0, 4.0, ["[raises] NotImplementedError"])})
    assert nbgrader_score(cell) == (0, 4.0)
    assert cell.outputs[0].output_type == "error" and "[raises] NotImplementedError" in cell.outputs[0].evalue


def test_points_are_scaled_to_the_cells_points():
    """A gradebook made with other points still gets the same fraction (and never more than the cell's points)."""
    cell = outcome(grade_cell("corr2d", 2.0), {"corr2d": (3.0, 4.0, ["one case failed"])})
    assert nbgrader_score(cell) == (1.5, 2.0)


def test_a_function_the_grader_did_not_grade_scores_zero_with_the_reason():
    cell = outcome(grade_cell("corr2d", 4.0), {}, types.SimpleNamespace(status="unreadable"))
    assert nbgrader_score(cell) == (0, 4.0)
    assert "corr2d was not graded: unreadable" in cell.outputs[0].evalue


def test_course_paths_hide_the_course_root_and_the_gradebooks_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "elsewhere" / "gradebook.db"
    assert SandboxedGrade().course_paths({"db_url": f"sqlite:///{db}"}) == tuple(
        sorted({str(tmp_path.resolve()), str(db.parent.resolve())}))


@pytest.mark.slow
@pytest.mark.sandbox
def test_preprocess_scores_every_test_cell_from_the_sandbox(tmp_path, monkeypatch):
    """A notebook with one right and one wrong function: the right one full, the wrong one 0,
    and a test cell's own code is never run (it would raise NameError)."""
    monkeypatch.chdir(tmp_path)
    right = "def corr2d(x, k):\n    w = np.lib.stride_tricks.sliding_window_view(x, k.shape)\n    return np.einsum('ijab,ab->ij', w, k)\n"
    wrong = "def conv1x1(x, w, b):\n    return x\n"
    nb = new_notebook(cells=[solution_cell("corr2d", right), grade_cell("corr2d", 4.0),
                             solution_cell("conv1x1", wrong), grade_cell("conv1x1", 3.0)])
    resources = {"nbgrader": {"notebook": "ch02_convolution", "assignment": "ch02_convolution",
                              "student": "s1", "db_url": f"sqlite:///{tmp_path / 'gradebook.db'}"}}
    nb, _ = SandboxedGrade().preprocess(nb, resources)
    assert nbgrader_score(nb.cells[1]) == (4.0, 4.0)
    assert nbgrader_score(nb.cells[3]) == (0, 3.0)
    assert "conv1x1: 0 of 3 points." in nb.cells[3].outputs[0].evalue


def test_trim_keeps_only_the_last_line_of_a_graded_cells_traceback():
    cell = grade_cell("corr2d", 4.0)
    cell.outputs = [new_output("error", ename="AssertionError", evalue="wrong values",
                               traceback=["Traceback ...", "### BEGIN HIDDEN TESTS", "secret_check(corr2d)"])]
    nb = new_notebook(cells=[cell])
    nb, _ = TrimGradedTracebacks().preprocess(nb, {})
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: wrong values"]


def test_trim_leaves_a_students_own_traceback_alone():
    cell = solution_cell("corr2d", "def corr2d(x, k):\n    return x[")
    trace = ["Traceback ...", "  File cell, line 2", "SyntaxError: '[' was never closed"]
    cell.outputs = [new_output("error", ename="SyntaxError", evalue="'[' was never closed", traceback=list(trace))]
    nb, _ = TrimGradedTracebacks().preprocess(new_notebook(cells=[cell]), {})
    assert nb.cells[0].outputs[0].traceback == trace


def load_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def test_config_grades_in_the_sandbox_instead_of_a_kernel():
    steps = load_config().Autograde.autograde_preprocessors
    assert steps[0] == "autograder.nbgrader_autograde.SandboxedGrade"
    assert not any(step.endswith(".Execute") for step in steps)
    assert "nbgrader.preprocessors.SaveAutoGrades" in steps


def test_config_feedback_clears_hidden_tests_and_trims_tracebacks():
    steps = load_config().GenerateFeedback.preprocessors
    assert steps.index("nbgrader.preprocessors.ClearHiddenTests") < steps.index(
        "autograder.nbgrader_feedback.TrimGradedTracebacks")


def test_config_sources_are_the_exercises_folder():
    config = load_config()
    assert config.CourseDirectory.source_directory == "exercises"
    assert {p.name for p in (ROOT / "exercises").iterdir() if p.is_dir()} >= set(POINTS)
