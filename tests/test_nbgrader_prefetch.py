"""autograder.nbgrader_prefetch: under nbgrader autograde, submissions are graded ahead of
nbgrader's loop, each alone in its sandbox, and a result is used only for the cells it graded."""
import logging

import pytest

from autograder.nbgrader_prefetch import Prefetch, submitted_notebooks
from autograder.notebook import read_submission
from autograder.sandbox import Limits
from tests.corpus.build import build_notebook, correct_cells, stub_cells

ASSIGNMENT = "ch01_motivation"


@pytest.fixture
def submitted(tmp_path):
    for student, cells in (("ada", correct_cells(ASSIGNMENT)), ("bob", stub_cells(ASSIGNMENT))):
        build_notebook(cells, ASSIGNMENT, tmp_path / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return sorted((tmp_path / "submitted").glob("*/*/*.ipynb"))


@pytest.mark.sandbox
def test_results_come_from_the_pool_with_progress_in_the_log(submitted, caplog):
    log = logging.getLogger("prefetch-test")
    ahead = Prefetch(submitted, jobs=2, log=log, seed=1, isolation="bwrap", limits=Limits(call_seconds=10))
    with caplog.at_level(logging.INFO, logger="prefetch-test"):
        bob = ahead.result(submitted[1], read_submission(submitted[1]).cells)
        ada = ahead.result(submitted[0], read_submission(submitted[0]).cells)
    assert (ada.student, ada.score, ada.isolation) == ("ada", 16, "bwrap") and (bob.student, bob.score) == ("bob", 0)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "Sandboxed grader: 1 of 2 submissions graded", "Sandboxed grader: 2 of 2 submissions graded"]


def test_a_notebook_whose_cells_changed_is_not_answered_from_the_pool(submitted):
    ahead = Prefetch(submitted, jobs=1, seed=1, isolation="none", limits=Limits(call_seconds=10))
    changed = [(name, source + "\n# restored by nbgrader\n") for name, source in read_submission(submitted[0]).cells]
    assert ahead.result(submitted[0], changed) is None
    assert ahead.result(submitted[0].with_name("other.ipynb"), []) is None
    ahead.pending.close()


def test_the_notebooks_are_those_nbgrader_will_autograde(submitted, tmp_path):
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(root=str(tmp_path), assignment_id="*")
    assert submitted_notebooks(coursedir) == submitted
    coursedir.student_id = "bob"
    assert submitted_notebooks(coursedir) == submitted[1:]
