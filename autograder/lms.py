"""Gradebook files for Canvas and Moodle, from grades.csv and a roster.

One row per student of the roster, one column per assignment, late penalties applied
(autograder.deadlines). The roster (CSV) maps the grader's student id (the submission
folder's name) to what each LMS identifies a student by:

    student,name,first_name,last_name,canvas_id,sis_user_id,sis_login_id,section,email,id_number

`student` is required; Canvas needs `name` and one of canvas_id / sis_user_id / sis_login_id
(its gradebook import matches students on them and creates a new assignment for each column
it does not know); Moodle needs email or id_number (chosen under "Identify user by" in its CSV
grade import) and maps each assignment column, and its "feedback" column, to a grade item.

A score is never written as 0 when nothing was graded: a submission that could not be graded
(unreadable, wrong assignment, timeout...) or is missing leaves its cell empty, Moodle's
feedback column says why, and every such cell is listed in the problems file and on the
command line, for the instructor to act on.
"""
import csv
from dataclasses import dataclass
from pathlib import Path

from .deadlines import parse_time
from .points import POINTS
from .reports import csv_text, one_line


class ExportError(Exception):
    """A roster or grades file that cannot be used: reported in one line."""


@dataclass
class Cell:
    """One student's result of one assignment in the export: score (None: leave empty) and,
    when there is no score or it was cut, why."""
    score: float | None
    note: str = ""
    problem: str = ""  # set when the cell is empty: the instructor must act


def _read_csv(path, what):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return list(csv.DictReader(f))
    except OSError as error:
        raise ExportError(f"the {what} {path} cannot be read: {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ExportError(f"the {what} {path} is not a UTF-8 CSV file: {error}") from None


def read_roster(path):
    """The roster's rows as dicts; ExportError without a student column or with a student twice."""
    rows = _read_csv(path, "roster")
    if not rows or "student" not in rows[0]:
        raise ExportError(f"the roster {path} needs a 'student' column (the submission folder's name) and a row "
                          "per student")
    seen = set()
    for row in rows:
        if row["student"] in seen:
            raise ExportError(f"the roster {path} lists {row['student']!r} twice")
        seen.add(row["student"])
    return rows


def read_grades(path):
    """{(student, assignment): grades.csv row}."""
    rows = _read_csv(path, "grades file")
    if rows and not {"student", "assignment", "score", "status"} <= set(rows[0]):
        raise ExportError(f"{path} is not a grades.csv of `python -m autograder grade`")
    return {(r["student"], r["assignment"]): r for r in rows}


def _require(roster, columns, lms, path="the roster"):
    """ExportError unless every roster row has one of `columns` filled in."""
    for row in roster:
        if not any((row.get(c) or "").strip() for c in columns):
            raise ExportError(f"{lms} needs {' or '.join(columns)} for every student; {path} has none for "
                              f"{row['student']!r}")


def cell(row, deadlines=None):
    """The export Cell of one grades.csv row (None: nothing submitted)."""
    if row is None:
        return Cell(None, "nothing submitted", "missing: nothing submitted")
    if row["status"] != "ok":
        reason = f"not graded ({row['status']}): {one_line(row.get('problem', ''))}"
        return Cell(None, reason, reason)
    score = float(row["score"])
    if deadlines is None:
        return Cell(score)
    late = deadlines.lateness(row["student"], row["assignment"], parse_time(row.get("submitted_at")))
    return Cell(round(score * (1 - late.penalty), 2), late.describe() if late.penalty else "")


def _assignments(grades):
    """The assignments in the grades, in course order."""
    present = {a for _, a in grades}
    return [a for a in POINTS if a in present]


def table(roster, grades, deadlines=None):
    """({student: {assignment: Cell}}, assignments, problems): problems lists (student,
    assignment, problem) for every empty cell and every graded student the roster lacks."""
    assignments = _assignments(grades)
    cells = {r["student"]: {a: cell(grades.get((r["student"], a)), deadlines) for a in assignments} for r in roster}
    problems = [(s, a, c.problem) for s, row in cells.items() for a, c in row.items() if c.problem]
    on_roster = set(cells)
    problems += [(s, a, "not on the roster: this grade is in no export") for s, a in sorted(grades)
                 if s not in on_roster]
    # a notebook whose assignment nobody could tell has no column: it must not vanish unseen
    problems += [(s, a, f"not graded ({row['status']}): {one_line(row.get('problem', ''))}")
                 for (s, a), row in sorted(grades.items()) if s in on_roster and a not in assignments]
    return cells, assignments, problems


def _number(value):
    return "" if value is None else f"{value:g}"


def write_canvas(roster, cells, assignments, path):
    """Canvas' gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then a column
    per assignment; the second row gives each assignment's points possible, as Canvas' export does."""
    _require(roster, ("canvas_id", "sis_user_id", "sis_login_id"), "Canvas")
    _require(roster, ("name",), "Canvas")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments])
        writer.writerow(["    Points Possible", "", "", "", "", *(_number(sum(POINTS[a].values())) for a in assignments)])
        for r in roster:
            ids = [csv_text(r.get(c) or "") for c in ("name", "canvas_id", "sis_user_id", "sis_login_id", "section")]
            writer.writerow([*ids, *(_number(cells[r["student"]][a].score) for a in assignments)])


def _names(row):
    """(first, last) from first_name/last_name, else from name ("Last, First" or "First Last")."""
    if row.get("first_name") or row.get("last_name"):
        return row.get("first_name") or "", row.get("last_name") or ""
    name = (row.get("name") or "").strip()
    if "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
        return first, last
    first, _, last = name.rpartition(" ")
    return (first, last) if first else (last, "")


def write_moodle(roster, cells, assignments, path):
    """Moodle's CSV grade import: First name, Last name, ID number, Email address, then per
    assignment its grade column and a feedback column (why a cell is empty, or the late penalty)."""
    _require(roster, ("email", "id_number"), "Moodle")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["First name", "Last name", "ID number", "Email address",
                         *(h for a in assignments for h in (a, f"{a} feedback"))])
        for r in roster:
            first, last = _names(r)
            row = [csv_text(v) for v in (first, last, r.get("id_number") or "", r.get("email") or "")]
            for a in assignments:
                c = cells[r["student"]][a]
                row += [_number(c.score), csv_text(c.note)]
            writer.writerow(row)


def write_problems(problems, path):
    """student,assignment,problem: every cell an export leaves empty, and every grade no row takes."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "problem"])
        writer.writerows([csv_text(s), csv_text(a), csv_text(p)] for s, a, p in problems)
