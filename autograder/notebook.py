"""Find submitted notebooks and read them: their solution cells, student and assignment.

Who and what a file is graded as comes from its path alone (identify): the notebook's content,
metadata included, is the student's to edit. collect finds the notebooks to grade and refuses
what would let one file be graded as another's: symbolic links (never followed) and two files
that map to the same student and assignment (both reported, neither graded, rather than one
silently replacing the other's grade and feedback).

A submission that cannot be read (missing file, corrupt JSON, not a notebook) gives a
Submission with a status and a reason instead of an exception, so a batch goes on.
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


@dataclass
class Submission:
    """path, student, assignment; cells: [(grade_id, source)] in notebook order.

    status is "ok", "unreadable" (problem says why), "refused" (a symbolic link) or
    "unknown_assignment".
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
    assignment id in the file name, and the student the rest of the file name (or the parent
    directory when the name is only the assignment id). Never the notebook's metadata: a student
    could then choose which assignment, and so which tests, a file is graded against.
    """
    path = Path(path)
    parts = path.parts
    if len(parts) >= 4 and parts[-4] in ("submitted", "autograded") or (
            len(parts) >= 3 and parts[-2] == path.stem and parts[-2] in POINTS):
        return parts[-3], parts[-2]
    stem = path.stem
    assignment = next((a for a in POINTS if a in stem), None)
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


def collect(paths):
    """Every notebook under paths, as Found entries sorted by path.

    A file given is taken as given; a folder is searched recursively, without Jupyter's
    .ipynb_checkpoints. Symbolic links are refused, a given path that is one included (pass
    the real path). Files that identify maps to one (student, assignment), links included,
    become one "duplicate" entry naming them all, so that every (student, assignment) has one
    row and one feedback file. Files of an unknown assignment are left apart: they are not
    graded anyway, and each says so.
    """
    notebooks, folders = [], []
    for root in map(Path, paths):
        if os.path.islink(root):
            notebooks.append(Found(root, *identify(root), "refused", _link_problem(root, "give its real path")))
        elif root.is_dir():
            _walk(root, notebooks, folders)
        elif root.suffix == ".ipynb" or root.exists():
            notebooks.append(Found(root, *identify(root)))  # read_submission reports what is wrong with it
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


def read_submission(path, *, assignment=None, student=None):
    """The Submission at path; never raises for a bad notebook.

    assignment/student: override what the path says (identify)."""
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
    submission = Submission(path, student, assignment, solution_cells(nb))
    if assignment not in POINTS:
        submission.status = "unknown_assignment"
        submission.problem = (f"cannot tell which assignment this is (got {assignment!r}); name the file "
                              f"<assignment>.ipynb or use nbgrader's layout; known: {', '.join(POINTS)}")
    return submission
