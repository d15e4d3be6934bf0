"""The course's nbgrader preprocessors and config, without the nbgrader command line: the test
cell outputs SandboxedGrade writes are scored by nbgrader's own determine_grade as intended,
a submission nbgrader cannot sanitize becomes a stand-in graded 0 with one note, deleted test
cells are put back, and feedback tracebacks lose the hidden tests they quote."""
import json
import types
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader import utils
from nbgrader.preprocessors import OverwriteCells
from traitlets.config.loader import PyFileConfigLoader

from autograder.nbgrader_autograde import RestoreCells, SandboxedGrade, SubmissionExporter
from autograder.nbgrader_feedback import TrimGradedTracebacks
from autograder.points import POINTS
from tests.corpus.build import build_notebook, correct_cells

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
    assert cell.outputs[0].evalue == "corr2d was not graded: the notebook was not graded (unreadable; the note at its top says why)"


RESOURCES = {"nbgrader": {"notebook": "ch02_convolution", "assignment": "ch02_convolution", "student": "eve",
                          "db_url": "sqlite:///gradebook.db"}}


def exported(path):
    """The notebook SubmissionExporter makes of the submission at path, as JSON."""
    output, _ = SubmissionExporter().from_filename(str(path), resources=json.loads(json.dumps(RESOURCES)))
    return json.loads(output)


def test_exporter_stands_in_for_an_unreadable_submission(tmp_path):
    """nbgrader itself fails on it, and the student then looks as if nothing was submitted."""
    path = tmp_path / "ch02_convolution.ipynb"
    path.write_text('{"cells": [ not json')
    nb = exported(path)
    assert nb["cells"] == []
    assert nb["metadata"]["cnns_course"]["not_graded"]["status"] == "unreadable"
    assert nb["metadata"]["cnns_course"]["not_graded"]["problem"].startswith("the notebook cannot be read (JSONDecodeError")


def test_exporter_stands_in_for_another_assignments_notebook(tmp_path):
    path = build_notebook(correct_cells("ch01_motivation"), "ch01_motivation", tmp_path / "ch02_convolution.ipynb")
    nb = json.loads(path.read_text())
    nb["metadata"]["cnns_course"] = {"assignment": "ch01_motivation"}
    path.write_text(json.dumps(nb))
    assert exported(path)["metadata"]["cnns_course"]["not_graded"] == {
        "status": "wrong_assignment", "problem": "this is the ch01_motivation notebook, submitted as "
                                                 "ch02_convolution: submit your ch02_convolution notebook"}


def test_exporter_reads_a_gradable_submission_as_nbgrader_does(tmp_path):
    path = build_notebook(correct_cells("ch02_convolution"), "ch02_convolution", tmp_path / "ch02_convolution.ipynb")
    assert exported(path) == json.loads(path.read_text())


def test_a_stand_in_gets_one_note_and_zero_in_every_test_cell():
    nb = new_notebook(cells=[grade_cell("corr2d", 4.0), grade_cell("conv1x1", 3.0)])
    nb.metadata["cnns_course"] = {"not_graded": {"status": "unreadable", "problem": "it is `not` <b>JSON</b>"},
                                  "grading": {"status": "ok", "problem": ""}}
    nb, _ = SandboxedGrade().preprocess(nb, json.loads(json.dumps(RESOURCES)))
    note, *tests = nb.cells
    assert note.cell_type == "markdown"
    assert note.source == ("**This notebook was not graded (unreadable), so every test below scores 0.** "
                           "``it is `not` <b>JSON</b>``")
    assert [nbgrader_score(cell) for cell in tests] == [(0, 4.0), (0, 3.0)]
    assert all("the note at its top says why" in cell.outputs[0].evalue for cell in tests)
    assert nb.metadata["cnns_course"]["grading"] == {"status": "unreadable", "problem": "it is `not` <b>JSON</b>"}


def source_cell(name, cell_type="code", locked=True, max_score=None):
    return types.SimpleNamespace(name=name, cell_type=cell_type, locked=locked, checksum=f"sum-{name}",
                                 source=f"check({name!r})", max_score=max_score)


# the gradebook's version of a notebook: a locked setup cell, then two functions and their tests
SOURCE = types.SimpleNamespace(
    source_cells=[source_cell("setup"), source_cell("f", locked=False), source_cell("test_f", max_score=2.0),
                  source_cell("g", locked=False), source_cell("test_g", max_score=3.0)])
SOURCE.grade_cells = [c for c in SOURCE.source_cells if c.max_score]
SOURCE.solution_cells = [SOURCE.source_cells[1], SOURCE.source_cells[3]]


def restored(preprocessor, kept):
    """The grade_ids of a notebook holding the cells `kept` of SOURCE after add_missing_grade_cells."""
    setup = new_code_cell("import numpy as np")
    setup.metadata.nbgrader = {"grade": False, "solution": False, "locked": True, "grade_id": "setup",
                               "schema_version": 3, "task": False}
    cells = {"setup": setup, "f": solution_cell("f", "def f(): pass"),
             "test_f": grade_cell("f", 2.0), "g": solution_cell("g", "def g(): pass"), "test_g": grade_cell("g", 3.0)}
    nb = new_notebook(cells=[cells[name] for name in kept])
    preprocessor.notebook_id, preprocessor.assignment_id = "n", "a"
    preprocessor.gradebook = types.SimpleNamespace(find_notebook=lambda notebook, assignment: SOURCE)
    nb, _ = preprocessor.add_missing_grade_cells(nb, {})
    return [cell.metadata.nbgrader["grade_id"] for cell in nb.cells]


@pytest.mark.parametrize("kept, expected", [
    (["setup", "f", "test_f", "g"], ["setup", "f", "test_f", "g", "test_g"]),
    (["setup", "test_f"], ["setup", "test_f", "test_g"]),  # g deleted with its test: nbgrader's KeyError
    (["g", "test_g"], ["test_f", "g", "test_g"]),
    ([], ["test_f", "test_g"]),  # a stand-in
])
def test_restore_cells_puts_deleted_test_cells_back_in_place(kept, expected):
    assert restored(RestoreCells(), kept) == expected


def test_nbgraders_own_restore_fails_when_the_cell_before_is_gone_too():
    """Why RestoreCells exists (nbgrader 0.9.6): the whole submission would be dropped."""
    with pytest.raises(KeyError):
        restored(OverwriteCells(), ["setup", "test_f"])


def test_restored_cells_are_graded_cells_with_an_id():
    nb = new_notebook(cells=[solution_cell("f", "def f(): pass")])
    preprocessor = RestoreCells()
    preprocessor.notebook_id, preprocessor.assignment_id = "n", "a"
    preprocessor.gradebook = types.SimpleNamespace(find_notebook=lambda notebook, assignment: SOURCE)
    nb, _ = preprocessor.add_missing_grade_cells(nb, {})
    test_f = nb.cells[1]
    assert (test_f.id, test_f.metadata.nbgrader["points"], utils.is_grade(test_f)) == ("test_f", 2.0, True)
    assert test_f.source.endswith("check('test_f')")


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


def test_config_restores_deleted_test_cells_with_the_robust_restore():
    config = load_config()
    steps = config.Autograde.sanitize_preprocessors
    assert "autograder.nbgrader_autograde.RestoreCells" in steps
    assert not any(step.endswith(".OverwriteCells") for step in steps)
    assert config.OverwriteCells.add_missing_cells is True


def test_config_reads_submissions_with_stand_ins_and_exports_statuses():
    config = load_config()
    assert config.Autograde.exporter_class == "autograder.nbgrader_autograde.SubmissionExporter"
    assert config.ExportApp.plugin_class == "autograder.nbgrader_autograde.CsvExportWithStatus"


def test_config_sources_are_the_exercises_folder():
    config = load_config()
    assert config.CourseDirectory.source_directory == "exercises"
    assert {p.name for p in (ROOT / "exercises").iterdir() if p.is_dir()} >= set(POINTS)
