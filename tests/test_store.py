"""autograder.store and incremental grading: a regrade of one student (--only) or a late
submission merges into the class's results, the newest result of each row winning."""
import csv
import json

import pytest

from autograder import cli, store
from autograder.results import SubmissionResult, TestResult
from tests.corpus.build import build_notebook, correct_cells, stub_cells

ASSIGNMENT = "ch01_motivation"


def _result(student, score, graded_at, assignment=ASSIGNMENT):
    return SubmissionResult(student, assignment, f"/x/{student}.ipynb", seed=1, graded_at=graded_at,
                            tests=[TestResult("f", "c", score, 4.0, score == 4.0)])


def test_merge_keeps_one_row_per_student_and_assignment_the_newest_winning():
    old = [_result("ada", 4.0, "2026-10-01T10:00:00+00:00"), _result("bob", 0.0, "2026-10-01T10:00:00+00:00")]
    new = [_result("bob", 4.0, "2026-10-02T09:00:00+00:00"), _result("cy", 1.0, "2026-10-02T09:00:00+00:00"),
           _result("ada", 1.0, "2026-09-30T09:00:00+00:00")]  # older than the stored row: loses
    merged = {r.student: r.score for r in store.merge(old, new)}
    assert merged == {"ada": 4.0, "bob": 4.0, "cy": 1.0}


def test_the_store_round_trips_and_a_foreign_file_is_refused_not_overwritten(tmp_path):
    path = tmp_path / "grades.csv.store.json"
    assert store.load(path) == []
    rows = [_result("ada", 4.0, "2026-10-01T10:00:00+00:00")]
    store.save(rows, path)
    assert store.load(path) == rows
    path.write_text('{"something": "else"}')
    with pytest.raises(store.StoreError, match="not one this grader wrote"):
        store.load(path)
    assert path.read_text() == '{"something": "else"}'


def _class(root, students):
    for student, cells in students.items():
        build_notebook(cells, ASSIGNMENT, root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return root / "submitted"


def _rows(out):
    return {r["student"]: r for r in csv.DictReader(open(out))}


@pytest.mark.sandbox
def test_regrading_one_student_and_adding_a_late_one_keep_the_other_rows(tmp_path):
    subs = _class(tmp_path, {"ada": correct_cells(ASSIGNMENT), "bob": stub_cells(ASSIGNMENT)})
    out = tmp_path / "grades.csv"
    cli.grade(paths=[subs], out=out, json_path=tmp_path / "results.json")
    first = _rows(out)
    assert {s: r["score"] for s, r in first.items()} == {"ada": "16", "bob": "0"}
    assert all(r["graded_at"] and r["submitted_at"] for r in first.values())

    _class(tmp_path, {"bob": correct_cells(ASSIGNMENT)})  # bob fixes his notebook: regrade him alone
    regraded = cli.grade(paths=[subs], out=out, json_path=tmp_path / "results.json", only=["bob"])
    assert [r.student for r in regraded] == ["bob"]
    second = _rows(out)
    assert {s: r["score"] for s, r in second.items()} == {"ada": "16", "bob": "16"}
    assert second["ada"]["graded_at"] == first["ada"]["graded_at"], "ada's row was not regraded"

    late = _class(tmp_path / "late", {"cy": correct_cells(ASSIGNMENT)})  # a late submission, in another folder
    cli.grade(paths=[late], out=out, json_path=tmp_path / "results.json")
    assert sorted(_rows(out)) == ["ada", "bob", "cy"]
    students = [s["student"] for s in json.loads((tmp_path / "results.json").read_text())["submissions"]]
    assert students == ["ada", "bob", "cy"]


def test_only_a_student_without_a_notebook_is_a_usage_error(tmp_path):
    subs = _class(tmp_path, {"ada": stub_cells(ASSIGNMENT)})
    with pytest.raises(cli.UsageError, match="--only: no notebook of adaa"):
        cli.grade(paths=[subs], out=tmp_path / "g.csv", only=["adaa"], unsafe_no_sandbox=True)


def test_an_unreadable_store_stops_the_batch_before_it_grades(tmp_path, capsys):
    subs = _class(tmp_path, {"ada": stub_cells(ASSIGNMENT)})
    (tmp_path / "g.csv.store.json").write_text("{not json")
    assert cli.main(["grade", str(subs), "--out", str(tmp_path / "g.csv"), "--unsafe-no-sandbox"]) == 2
    assert "is not one this grader wrote" in capsys.readouterr().err
