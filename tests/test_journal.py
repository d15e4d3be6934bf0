"""autograder.journal and the CLI's resume: an interrupted batch keeps what it finished."""
import csv

import pytest

from autograder import cli
from autograder.journal import Journal
from autograder.results import SubmissionResult, TestResult
from tests.corpus.build import build_notebook, correct_cells, stub_cells

ASSIGNMENT = "ch01_motivation"


def _result(student, score):
    return SubmissionResult(student, ASSIGNMENT, f"/x/{student}.ipynb", seed=1,
                            tests=[TestResult("f", "c", score, 4.0, score == 4.0)])


def test_entries_round_trip_and_a_torn_last_line_is_skipped(tmp_path):
    journal = Journal(tmp_path / "grades.csv", {"seed": None})
    journal.append("a", _result("ada", 4.0))
    journal.append("b", _result("bob", 0.0))
    with open(journal.path, "a") as f:
        f.write('{"fingerprint": "c", "result": {"stud')  # killed mid-write
    loaded = journal.load()
    assert sorted(loaded) == ["a", "b"] and loaded["a"].score == 4.0 and loaded["a"].student == "ada"


def test_a_fingerprint_changes_with_the_file_and_with_the_settings(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text("one")
    a = Journal(tmp_path / "g.csv", {"seed": None})
    first = a.fingerprint(path)
    assert a.fingerprint(path) == first
    assert Journal(tmp_path / "g.csv", {"seed": 3}).fingerprint(path) != first
    path.write_text("two")
    assert a.fingerprint(path) != first


@pytest.mark.sandbox
def test_an_interrupted_batch_resumes_where_it_stopped(tmp_path, monkeypatch):
    subs = tmp_path / "submitted"
    for student, cells in (("ada", correct_cells(ASSIGNMENT)), ("bob", stub_cells(ASSIGNMENT)),
                           ("cy", correct_cells(ASSIGNMENT))):
        build_notebook(cells, ASSIGNMENT, subs / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    out = tmp_path / "grades.csv"
    real, graded = cli.grade_paths, []

    def interrupted_after_one(found, **kwargs):
        for result in real(found, **kwargs):
            graded.append(result.student)
            yield result
            raise KeyboardInterrupt

    monkeypatch.setattr(cli, "grade_paths", interrupted_after_one)
    with pytest.raises(cli.Interrupted, match="after 1 of 3"):
        cli.grade(paths=[subs], out=out)
    assert not out.exists() and Journal(out, {}).path.exists()

    monkeypatch.setattr(cli, "grade_paths", lambda found, **kw: (graded.extend(f.student for f in found),
                                                                 real(found, **kw))[1])
    cli.grade(paths=[subs], out=out)
    assert sorted(graded) == ["ada", "bob", "cy"], "the resumed run graded the finished submission again"
    rows = {r["student"]: r["score"] for r in csv.DictReader(open(out))}
    assert rows == {"ada": "16", "bob": "0", "cy": "16"}
    assert not Journal(out, {}).path.exists(), "the journal of a finished batch is removed"
