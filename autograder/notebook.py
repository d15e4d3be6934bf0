"""Read a submitted notebook: its solution cells, student and assignment.

A submission that cannot be read (missing file, corrupt JSON, not a notebook) gives a
Submission with a status and a reason instead of an exception, so a batch goes on.
The notebook is parsed as nbformat v4 JSON with the stdlib: importing nbformat pulls in
jsonschema's format checkers, seconds of start-up per grading process, and the grader
needs only the cells, which it checks itself.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

from .points import POINTS


@dataclass
class Submission:
    """path, student, assignment; cells: [(grade_id, source)] in notebook order.

    status is "ok", "unreadable" (problem says why) or "unknown_assignment".
    """
    path: Path
    student: str
    assignment: str | None
    cells: list = field(default_factory=list)
    status: str = "ok"
    problem: str = ""


def identify(path, notebook_assignment=None):
    """(student, assignment) from the path, nbgrader-style if possible.

    .../submitted/<student>/<assignment>/<assignment>.ipynb gives both; otherwise the
    assignment comes from the notebook's metadata or the file name, and the student from the
    parent directory (or the file name when it is not an assignment id).
    """
    path = Path(path)
    parts = path.parts
    if len(parts) >= 4 and parts[-4] in ("submitted", "autograded") or (
            len(parts) >= 3 and parts[-2] == path.stem and parts[-2] in POINTS):
        return parts[-3], parts[-2]
    stem = path.stem
    assignment = notebook_assignment or next((a for a in POINTS if a in stem), None)
    student = stem.replace(assignment, "").strip("_-. ") if assignment and assignment in stem else stem
    if not student:
        student = path.parent.name or "unknown"
    return student, assignment


def _load(path):
    """The notebook at path as a dict, or ValueError saying why it is not an nbformat v4 notebook."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("it is not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise ValueError(f"it is nbformat {nb.get('nbformat')!r}, expected 4")
    if not all(isinstance(c, dict) and isinstance(c.get("metadata", {}), dict) for c in nb["cells"]):
        raise ValueError("a cell is not a JSON object with metadata")
    return nb


def solution_cells(nb):
    """[(grade_id, source)] of the code cells marked nbgrader solution, in notebook order."""
    cells = []
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not isinstance(meta, dict):
            continue
        if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
            source = cell.get("source", "")
            text = "".join(map(str, source)) if isinstance(source, list) else str(source)
            cells.append((str(meta["grade_id"]), text))
    return cells


def read_submission(path, *, assignment=None, student=None):
    """The Submission at path; never raises for a bad notebook."""
    path = Path(path)
    guessed_student, guessed_assignment = identify(path)
    try:
        nb = _load(path)
    except OSError as error:
        return Submission(path, student or guessed_student, assignment or guessed_assignment,
                          status="unreadable", problem=f"{path} cannot be opened: {error.strerror}")
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return Submission(path, student or guessed_student, assignment or guessed_assignment,
                          status="unreadable", problem=f"the notebook cannot be read ({type(error).__name__}: "
                                                       f"{str(error)[:200]}); was the file edited outside Jupyter?")
    meta = nb.get("metadata", {}).get("nbgrader", {}) if isinstance(nb.get("metadata"), dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    meta_assignment = meta.get("assignment") if isinstance(meta.get("assignment"), str) else None
    found_student, found_assignment = identify(path, meta_assignment)
    submission = Submission(path, student or found_student, assignment or found_assignment, solution_cells(nb))
    if submission.assignment not in POINTS:
        submission.status = "unknown_assignment"
        submission.problem = (f"cannot tell which assignment this is (got {submission.assignment!r}); name the file "
                              f"<assignment>.ipynb or use nbgrader's layout; known: {', '.join(POINTS)}")
    return submission
