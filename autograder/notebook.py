"""Find submitted notebooks and read them: their solution cells, student and assignment.

Who a file is graded as comes from its path alone (identify), and so does its assignment when
the path (or the instructor, with --assignment) says it. The notebook's own metadata
(metadata["cnns_course"]["assignment"], written by scripts/build_exercises.py) is the
student's to edit, so it never chooses the tests of a file whose assignment is known: it only
tells that the file is another assignment's notebook (status "wrong_assignment", graded 0),
and names the assignment of a renamed file whose path says nothing. collect finds the
notebooks to grade and refuses what would let one file be graded as another's: symbolic links
(never followed) and two files that map to the same student and assignment (both reported,
neither graded, rather than one silently replacing the other's grade and feedback).

A submission that cannot be graded (missing file, corrupt JSON, not a notebook, another
assignment's notebook, no solution cells) gives a Submission with a status and one reason
instead of an exception, so a batch goes on.
The notebook is parsed as nbformat v4 JSON with the stdlib: importing nbformat pulls in
jsonschema's format checkers, seconds of start-up per grading process, and the grader
needs only the cells, which it checks itself.
"""
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .points import POINTS

# A notebook of this course, outputs included, is a few MB; a bigger file is not read (it would
# be parsed in the grading process, outside the sandbox's memory limit).
MAX_NOTEBOOK_BYTES = 64 << 20
NO_SOLUTION_CELLS = ("no solution cells with nbgrader metadata were found in the notebook, so none of its "
                     "functions could be graded: every graded cell needs its nbgrader metadata (solution: true, "
                     "grade_id: the function's name). Was the notebook saved by an editor that drops cell metadata? "
                     "Paste your code into the cells of a fresh copy of the released notebook.")


@dataclass
class Submission:
    """path, student, assignment; cells: [(grade_id, source)] in notebook order.

    status is "ok" or, with problem saying why, "unreadable", "refused" (a symbolic link),
    "unknown_assignment", "wrong_assignment" (the notebook of another assignment) or
    "no_metadata" (no solution cells: an editor dropped the cells' nbgrader metadata).
    """
    path: Path
    student: str
    assignment: str | None
    cells: list = field(default_factory=list)
    status: str = "ok"
    problem: str = ""


@dataclass
class Found:
    """A notebook collect found: status "ok" (to grade), "refused" (a symbolic link),
    "duplicate" (path is the first of several files of one student and assignment) or
    "unreadable" (a folder that cannot be listed); problem says why when it is not "ok"."""
    path: Path
    student: str
    assignment: str | None
    status: str = "ok"
    problem: str = ""


def identify(path):
    """(student, assignment) from the path alone, nbgrader-style if possible.

    .../submitted/<student>/<assignment>/<notebook>.ipynb (or autograded/) and
    .../<student>/<assignment>/<assignment>.ipynb give both; otherwise the assignment is the
    assignment id in the file name (None if it holds none), and the student the folder in
    .../submitted/<student>/<file>.ipynb, else the rest of the file name (or the parent directory
    when the name is only the assignment id). Never the notebook's content: read_submission
    decides what the metadata may add.
    """
    path = Path(path)
    parts = path.parts
    if len(parts) >= 4 and parts[-4] in ("submitted", "autograded") or (
            len(parts) >= 3 and parts[-2] == path.stem and parts[-2] in POINTS):
        return parts[-3], parts[-2]
    stem = path.stem
    assignment = next((a for a in POINTS if a in stem), None)
    if len(parts) >= 3 and parts[-3] in ("submitted", "autograded"):
        return parts[-2], assignment
    student = stem.replace(assignment, "").strip("_-. ") if assignment else stem
    if not student:
        student = path.parent.name or "unknown"
    return student, assignment


def _link_problem(path, fix="submit the notebook file itself"):
    return f"{path} is a symbolic link; submissions are never followed through links: {fix}"


def _where(path):
    return os.path.normpath(os.path.abspath(path))


def _walk(root, notebooks, folders):
    """Add the notebooks under the folder root to notebooks, and to folders its folders that are
    symbolic links (refused: the walk never descends into one, so nothing under a link is read)
    or cannot be listed."""
    def unlistable(error):
        folders.append(Found(Path(error.filename), *identify(error.filename), "unreadable",
                             f"the folder {error.filename} cannot be listed ({error.strerror}): its "
                             f"notebooks were not graded"))

    for folder, dirs, files in os.walk(root, onerror=unlistable, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        for path in (Path(folder, d) for d in dirs):
            if os.path.islink(path):
                folders.append(Found(path, *identify(path), "refused",
                                     _link_problem(path, "submit the notebooks themselves")))
        for path in (Path(folder, f) for f in sorted(files) if f.endswith(".ipynb")):
            refused = os.path.islink(path)
            notebooks.append(Found(path, *identify(path), "refused" if refused else "ok",
                                   _link_problem(path) if refused else ""))


def collect(paths, assignment=None):
    """Every notebook under paths, as Found entries sorted by path.

    A file given is taken as given; a folder is searched recursively, without Jupyter's
    .ipynb_checkpoints. assignment: the assignment of every notebook found (the instructor's
    word), instead of what identify reads from each path. Symbolic links are refused, a given
    path that is one included (pass the real path). Files that map to one (student,
    assignment), links included, become one "duplicate" entry naming them all, so that every
    (student, assignment) has one row and one feedback file. Files whose path names no
    assignment are left apart: read_submission decides theirs from their metadata.
    """
    notebooks, folders = [], []
    for root in map(Path, paths):
        if os.path.islink(root):
            notebooks.append(Found(root, *identify(root), "refused", _link_problem(root, "give its real path")))
        elif root.is_dir():
            _walk(root, notebooks, folders)
        elif root.suffix == ".ipynb" or root.exists():
            notebooks.append(Found(root, *identify(root)))  # read_submission reports what is wrong with it
    if assignment is not None:
        for entry in notebooks:
            entry.assignment = assignment
    groups = {}
    for entry in sorted(notebooks, key=lambda e: str(e.path)):
        key = (entry.student, entry.assignment) if entry.assignment is not None else _where(entry.path)
        group = groups.setdefault(key, [])
        # a file reached twice (a folder and a file in it both given) is one submission
        if all(_where(e.path) != _where(entry.path) for e in group):
            group.append(entry)
    found = list({_where(e.path): e for e in folders}.values())
    for group in groups.values():
        first = group[0]
        if len(group) > 1:
            first = Found(first.path, first.student, first.assignment, "duplicate",
                          f"{len(group)} notebooks map to {first.student}/{first.assignment}: "
                          f"{', '.join(str(e.path) for e in group)}; keep one and grade again")
        found.append(first)
    return sorted(found, key=lambda e: str(e.path))


def _load(path):
    """The notebook at path as a dict; OSError if it cannot be opened (a symbolic link cannot),
    ValueError saying why it is not an nbformat v4 notebook."""
    # O_NOFOLLOW: a link put in place after collect looked is refused all the same.
    # O_NONBLOCK: opening a FIFO would otherwise wait forever for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(fd, encoding="utf-8") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"it is {info.st_size >> 20} MB, more than a notebook's "
                             f"{MAX_NOTEBOOK_BYTES >> 20} MB; clear its outputs")
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


def declared_assignment(nb):
    """The assignment the notebook says it is (metadata["cnns_course"]["assignment"]), or None
    when it says nothing or names no assignment of this course (a value the course never wrote)."""
    metadata = nb.get("metadata")
    course = metadata.get("cnns_course") if isinstance(metadata, dict) else None
    declared = course.get("assignment") if isinstance(course, dict) else None
    return declared if isinstance(declared, str) and declared in POINTS else None


def _usability(submission, declared):
    """(status, problem) of a readable notebook: why it cannot be graded, or ("ok", "")."""
    assignment = submission.assignment
    if assignment not in POINTS:
        return "unknown_assignment", (
            f"cannot tell which assignment this is: its path names none (got {assignment!r}) and the notebook's "
            f"metadata does not say; name the file <assignment>.ipynb, use nbgrader's layout or pass --assignment; "
            f"known: {', '.join(POINTS)}")
    if declared is not None and declared != assignment:
        return "wrong_assignment", (f"this is the {declared} notebook, submitted as {assignment}: "
                                    f"submit your {assignment} notebook")
    if not submission.cells:
        return "no_metadata", NO_SOLUTION_CELLS
    return "ok", ""


def read_submission(path, *, assignment=None, student=None):
    """The Submission at path; never raises for a bad notebook.

    assignment/student: override what the path says (identify). A notebook whose path and
    override name no assignment of the course is graded as the one its metadata names."""
    path = Path(path)
    found_student, found_assignment = identify(path)
    student, assignment = student or found_student, assignment or found_assignment
    try:
        nb = _load(path)
    except OSError as error:
        if os.path.islink(path):
            return Submission(path, student, assignment, status="refused", problem=_link_problem(path))
        return Submission(path, student, assignment, status="unreadable",
                          problem=f"{path} cannot be opened: {error.strerror}")
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return Submission(path, student, assignment, status="unreadable",
                          problem=f"the notebook cannot be read ({type(error).__name__}: {str(error)[:200]}); "
                                  f"was the file edited outside Jupyter?")
    declared = declared_assignment(nb)
    if assignment not in POINTS and declared:
        assignment = declared
    submission = Submission(path, student, assignment, solution_cells(nb))
    submission.status, submission.problem = _usability(submission, declared)
    return submission
