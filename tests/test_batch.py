"""autograder.batch: how submissions reach their grading processes, and what a submission that
cannot be graded gets: one status and one reason, no test rows, 0 of the assignment's points."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.batch import grade_submission, submission_seconds
from autograder.points import POINTS
from tests.corpus.build import build_notebook, correct_cells

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "autograder" / "examples" / "submitted" / "ada" / "ch04_pooling" / "ch04_pooling.ipynb"

# A caller's main script, like nbgrader's: it records being run again under another name, which
# is what a spawn or forkserver child does to the caller's __main__ before it starts work.
CALLER = '''
import os
import threading
if __name__ != "__main__":
    open(os.environ["MARKER"], "w").write(__name__)
else:
    from autograder import grade_notebook
    stop = threading.Event()
    if os.environ.get("EXTRA_THREAD"):
        threading.Thread(target=stop.wait).start()
    result = grade_notebook(os.environ["NOTEBOOK"])
    stop.set()
    print(result.status, result.score, result.max_score)
'''


def grade_from_caller(tmp_path, **env):
    """Run CALLER on the correct example; return (marker path, (status, score, max_score))."""
    script, marker = tmp_path / "caller.py", tmp_path / "marker"
    script.write_text(CALLER)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MARKER": str(marker), "NOTEBOOK": str(CORRECT), **env})
    assert done.returncode == 0, done.stderr[-2000:]
    status, score, max_score = done.stdout.split()
    return marker, (status, float(score), float(max_score))


def test_grade_notebook_does_not_rerun_the_callers_main_script(tmp_path):
    marker, (status, score, max_score) = grade_from_caller(tmp_path)
    assert status == "ok" and score == max_score > 0
    assert not marker.exists(), (
        f"the grading process ran the caller's main script again (as {marker.read_text()}): under "
        "nbgrader that re-imports nbgrader for every notebook")


def test_grade_notebook_from_a_threaded_caller_uses_the_forkserver_and_grades(tmp_path):
    marker, (status, score, max_score) = grade_from_caller(tmp_path, EXTRA_THREAD="1")
    assert status == "ok" and score == max_score > 0
    assert marker.exists(), "a threaded caller was forked: its child could deadlock on a lock another thread held"


def _corrupt(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"cells": [ not json')
    return path


def _other_assignments(path):
    """ch05's correct notebook, saved where ch04's belongs."""
    path = build_notebook(correct_cells("ch05_normalization"), "ch05_normalization", path)
    nb = json.loads(path.read_text())
    nb["metadata"]["cnns_course"] = {"assignment": "ch05_normalization"}
    path.write_text(json.dumps(nb))
    return path


@pytest.mark.parametrize("write, status, reason", [
    (_corrupt, "unreadable", "the notebook cannot be read (JSONDecodeError"),
    (lambda path: build_notebook({}, "ch04_pooling", path), "no_metadata", "no solution cells with nbgrader metadata"),
    (_other_assignments, "wrong_assignment", "this is the ch05_normalization notebook, submitted as ch04_pooling"),
])
def test_a_submission_that_cannot_be_graded_has_one_reason_and_no_test_rows(tmp_path, write, status, reason):
    """Issue 12: the reason was copied into each of the assignment's ~40 test results."""
    path = write(tmp_path / "submitted" / "ada" / "ch04_pooling" / "ch04_pooling.ipynb")
    result = grade_submission(path)
    assert (result.student, result.assignment, result.status) == ("ada", "ch04_pooling", status)
    assert result.problem.startswith(reason)
    assert result.tests == []
    assert (result.score, result.max_score) == (0, sum(POINTS["ch04_pooling"].values()))


def test_a_notebook_whose_path_names_no_assignment_gets_the_largest_budget():
    """Its metadata names the assignment only once it is read, in the grading process."""
    assert submission_seconds(None, 10.0) == max(submission_seconds(a, 10.0) for a in POINTS)
