"""autograder.lms and `python -m autograder export`: Canvas and Moodle gradebook CSVs, one row
per student of the roster, late penalties applied, no silent 0 for what was not graded."""
import csv
import shutil
from pathlib import Path

import pytest

from autograder import cli, reports
from autograder.results import SubmissionResult, TestResult

EXAMPLES = Path(__file__).resolve().parents[1] / "autograder" / "examples" / "submitted"
ROSTER = """student,name,canvas_id,sis_user_id,sis_login_id,section,email,id_number
ada,"Lovelace, Ada",101,S1,ada@uni,L01,ada@uni.edu,1001
ben,Ben Okri,102,S2,ben@uni,L01,ben@uni.edu,1002
cy,Cy Twombly,103,S3,cy@uni,L02,cy@uni.edu,1003
dee,Dee Dee,104,S4,dee@uni,L02,dee@uni.edu,1004
"""
DEADLINES = """[penalty]
per_day = 0.25
[due]
ch01_motivation = 2026-10-01T12:00:00Z
"""


def _result(student, assignment, score, status="ok", problem="", submitted_at="2026-10-01T10:00:00+00:00"):
    tests = [TestResult("f", "c", score, 16.0, score == 16.0)] if status == "ok" else []
    return SubmissionResult(student, assignment, "x.ipynb", status=status, problem=problem, tests=tests,
                            submitted_at=submitted_at)


@pytest.fixture
def course(tmp_path):
    results = [_result("ada", "ch01_motivation", 16.0), _result("ben", "ch01_motivation", 8.0,
                                                                submitted_at="2026-10-02T13:00:00+00:00"),
               _result("cy", "ch01_motivation", 0.0, "unreadable", "the notebook cannot be read (JSONDecodeError)"),
               _result("ada", "ch02_convolution", 20.0), _result("zed", "ch01_motivation", 16.0)]
    reports.write_grades_csv(results, tmp_path / "grades.csv")
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "deadlines.toml").write_text(DEADLINES)
    return tmp_path


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_canvas_has_its_id_columns_a_row_per_student_and_blanks_not_zeros(course, capsys):
    assert cli.main(["export", str(course / "grades.csv"), "--roster", str(course / "roster.csv"),
                     "--canvas", str(course / "canvas.csv"), "--deadlines", str(course / "deadlines.toml")]) == 0
    header, points, *rows = _rows(course / "canvas.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch01_motivation", "ch02_convolution"]
    assert points[0].strip() == "Points Possible" and points[5:] == ["16", "20"]
    by_id = {r[1]: r for r in rows}
    assert by_id["101"] == ["Lovelace, Ada", "101", "S1", "ada@uni", "L01", "16", "20"]
    assert by_id["102"][5] == "4", "ben, 2 started days late at 25% a day, keeps half of his 8"
    assert by_id["103"][5] == "" and by_id["104"][5:] == ["", ""], "unreadable and missing: empty, never 0"
    problems = {(r[0], r[1]): r[2] for r in _rows(course / "canvas.problems.csv")[1:]}
    assert problems[("cy", "ch01_motivation")].startswith("not graded (unreadable): the notebook cannot be read")
    assert problems[("dee", "ch01_motivation")] == "missing: nothing submitted"
    assert problems[("zed", "ch01_motivation")].startswith("not on the roster")
    out = capsys.readouterr().out
    assert "cy (ch01_motivation): not graded (unreadable)" in out and "see " in out


def test_moodle_identifies_by_email_and_id_number_and_says_why_in_feedback(course):
    assert cli.main(["export", str(course / "grades.csv"), "--roster", str(course / "roster.csv"),
                     "--moodle", str(course / "moodle.csv"), "--deadlines", str(course / "deadlines.toml")]) == 0
    header, *rows = _rows(course / "moodle.csv")
    assert header[:4] == ["First name", "Last name", "ID number", "Email address"]
    assert header[4:] == ["ch01_motivation", "ch01_motivation feedback", "ch02_convolution", "ch02_convolution feedback"]
    by_email = {r[3]: r for r in rows}
    assert by_email["ada@uni.edu"][:6] == ["Ada", "Lovelace", "1001", "ada@uni.edu", "16", ""]
    assert by_email["ben@uni.edu"][4] == "4" and "2 days late, 50% late penalty" in by_email["ben@uni.edu"][5]
    assert by_email["cy@uni.edu"][4] == "" and by_email["cy@uni.edu"][5].startswith("not graded (unreadable)")


@pytest.mark.parametrize("roster, message", [
    ("name,email\nAda,a@b\n", "needs a 'student' column"),
    ("student,name\nada,Ada\n", "Canvas needs canvas_id or sis_user_id or sis_login_id"),
    ("student,name,canvas_id\nada,Ada,1\nada,Ada,2\n", "lists 'ada' twice"),
])
def test_a_roster_that_cannot_be_used_is_one_clear_error(course, capsys, roster, message):
    (course / "roster.csv").write_text(roster)
    assert cli.main(["export", str(course / "grades.csv"), "--roster", str(course / "roster.csv"),
                     "--canvas", str(course / "canvas.csv")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_bundled_examples_and_an_unreadable_notebook_export_to_canvas(tmp_path):
    subs = tmp_path / "submitted"
    shutil.copytree(EXAMPLES, subs)
    (subs / "dee" / "ch01_motivation").mkdir(parents=True)
    (subs / "dee" / "ch01_motivation" / "ch01_motivation.ipynb").write_text("{not json")
    cli.grade(paths=[subs], out=tmp_path / "grades.csv", jobs=2)
    (tmp_path / "roster.csv").write_text(ROSTER)
    assert cli.main(["export", str(tmp_path / "grades.csv"), "--roster", str(tmp_path / "roster.csv"),
                     "--canvas", str(tmp_path / "canvas.csv")]) == 0
    header, _, *rows = _rows(tmp_path / "canvas.csv")
    assert len(header) == 5 + 8 and len(rows) == 4
    ada = next(r for r in rows if r[1] == "101")
    assert all(cell for cell in ada[5:]), "ada's every assignment has a score"
    dee = next(r for r in rows if r[1] == "104")
    assert dee[5:] == [""] * 8
    problems = _rows(tmp_path / "canvas.problems.csv")[1:]
    assert ["dee", "ch01_motivation"] == problems[0][:2] and "unreadable" in problems[0][2]
