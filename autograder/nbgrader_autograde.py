"""nbgrader autograde and export for this course: scores come from the sandboxed grader, not the student's kernel.

nbgrader's own Execute runs the submission in one kernel with the test cells, so student code
can patch numpy or the tests' helpers and forge its score, read the source notebook or write
to gradebook.db. SandboxedGrade takes Execute's place in Autograde.autograde_preprocessors:
it never starts a kernel; it grades the (sanitized) notebook with the standalone grader, which
runs only the solution cells, in the isolated worker, with the course directory hidden from
them (the same grade as `python -m autograder grade`), and writes into each test cell
`test_<function>` the outcome nbgrader's SaveAutoGrades then records:

- every check passed: the diagnoses on stdout and the cell's points as an execute_result;
- some passed: the diagnoses on stdout and the partial score as an execute_result;
- none passed: an error output whose evalue lists the diagnoses (nbgrader scores it 0).

The sandbox's points for a function are scaled to the cell's points, so a gradebook created
with other points still gets a consistent fraction.

A submission that cannot be graded gets one note, not one per test: nbgrader itself fails on
a notebook it cannot parse and on another assignment's notebook (whose cells its gradebook
does not know), removes the student's autograded folder and exits 1, so that the gradebook
and `nbgrader export` show the student as if nothing was submitted. SubmissionExporter
(Autograde's exporter) reads each submission as the standalone grader does and puts an empty
stand-in in place of such a notebook; RestoreCells puts the assignment's test cells back into
it (and into any notebook that lost some); SandboxedGrade then writes the reason into a note
at the top of the notebook (so it shows in the formgrader and the feedback), scores every test
cell 0, and records status and reason in the notebook's metadata, which CsvExportWithStatus
adds to nbgrader's grades.csv.
"""
import csv
import json
import os
import tempfile
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_markdown_cell, new_notebook, new_output
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Float, Int, Unicode

from .notebook import read_submission
from .reports import csv_text, inline_code, one_line
from .results import SubmissionResult

TEST_PREFIX = "test_"
# What read_submission may find that nbgrader's sanitizing cannot get through. A notebook
# without solution cells ("no_metadata") is not among them: nbgrader reads it, and the
# instructor keeps the student's cells to look at.
STAND_IN_STATUSES = ("unreadable", "refused", "wrong_assignment")


def _course_metadata(nb):
    """nb.metadata["cnns_course"] as a dict (made one if the student left something else there)."""
    if not isinstance(nb.metadata.get("cnns_course"), dict):
        nb.metadata["cnns_course"] = {}
    return nb.metadata["cnns_course"]  # not the {} assigned: a NotebookNode stores a copy of it


class SubmissionExporter(NotebookExporter):
    """Autograde's reader of notebooks: a submission nbgrader could not sanitize becomes a stand-in.

    The stand-in is an empty notebook whose metadata (cnns_course.not_graded) holds the status
    and reason of notebook.read_submission, the standalone grader's own, so that both roads
    give the same message. A student who writes that metadata into a readable notebook only
    has it graded 0.
    """

    def from_file(self, file_stream, resources=None, **kw):
        info = resources["nbgrader"]
        submission = read_submission(file_stream.name, assignment=info["assignment"], student=info["student"])
        if submission.status not in STAND_IN_STATUSES:
            return super().from_file(file_stream, resources=resources, **kw)
        self.log.info("Standing in for %s/%s (%s)", info["student"], info["assignment"], submission.status)
        stand_in = new_notebook()
        _course_metadata(stand_in)["not_graded"] = {"status": submission.status, "problem": submission.problem}
        return self.from_notebook_node(stand_in, resources=resources, **kw)


class RestoreCells(OverwriteCells):
    """nbgrader's OverwriteCells, whose add_missing_cells also works when the cell before a
    deleted test cell is gone too.

    nbgrader 0.9.6 inserts a missing grade cell after the source cell that comes just before it
    in the source notebook, and fails (KeyError; the submission is then dropped from
    autograded/) when that cell is missing as well or is not a grade or solution cell: a solution
    cell deleted with its test cell, a notebook without nbgrader metadata, a stand-in. This puts
    a missing grade cell after the nearest earlier source cell the notebook still has, or first.
    """

    def add_missing_grade_cells(self, nb, resources):
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        grade_cells = {cell.name: cell for cell in source.grade_cells}
        solutions = {cell.name for cell in source.solution_cells}
        position = 0
        for source_cell in source.source_cells:
            present = _index(nb, source_cell.name)
            if present is not None:
                position = present + 1
            elif source_cell.name in grade_cells:
                self.log.warning("Missing grade cell %s encountered, adding to notebook", source_cell.name)
                cell = self.missing_cell_transform(source_cell, grade_cells[source_cell.name].max_score,
                                                   is_solution=source_cell.name in solutions)
                nb.cells.insert(position, _as_cell(nb, cell, source_cell.name))
                position += 1
        return nb, resources


def _index(nb, grade_id):
    """The index of the cell with this nbgrader grade_id in nb, or None."""
    return next((i for i, cell in enumerate(nb.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id), None)


def _as_cell(nb, cell, name):
    """A cell nbgrader restored, as the cells read from a file are: NotebookNodes all the way
    down (its metadata is a plain dict), with the id nbformat 4.5 requires (it has none): its
    grade_id, as in the source notebooks, unless another cell of nb already has that id."""
    cell = nbformat.from_dict(cell)
    if nb.get("nbformat_minor", 0) >= 5:
        taken = {c.get("id") for c in nb.cells}
        cell["id"] = name if name not in taken else next(f"{name}-{i}" for i in range(1, len(taken) + 2)
                                                         if f"{name}-{i}" not in taken)
    return cell


class SandboxedGrade(NbGraderPreprocessor):
    """Grade a notebook with autograder.grade_notebook and write each test cell's outcome."""

    timeout = Float(
        None, allow_none=True,
        help="Seconds each call of a student's function may take in the sandbox (None: the grader's default).",
    ).tag(config=True)
    key_file = Unicode(
        None, allow_none=True,
        help="The instructor's secret the hidden inputs derive from (None: $CNN_GRADER_KEY or "
             "~/.config/cnns-from-the-ground-up/grader.key, created if missing).",
    ).tag(config=True)
    unsafe_no_sandbox = Bool(
        False, help="Grade even without bubblewrap: student code then runs unconfined, with your rights.",
    ).tag(config=True)
    feedback_detail = Unicode(
        "diagnosis", help="What students see of a failed hidden case: 'diagnosis' (its inputs' shapes and what "
                          "is wrong) or 'values' (also the reference's values, which give the answer away).",
    ).tag(config=True)
    jobs = Int(
        0, help="Submissions graded at once, ahead of nbgrader's loop (0: one per core; each in its own "
                "grading process and sandbox, as always).",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = _stood_in(nb, info) or self.grade(nb, info)
        self.log.info("Sandboxed grader: %s/%s scored %s of %s (%s, isolation %s)", info["student"],
                      info["assignment"], result.score, result.max_score, result.status, result.isolation)
        if result.status == "grader_error":
            raise RuntimeError(f"the sandboxed grader failed on {info['student']}/{info['assignment']}: "
                               f"{result.problem}")
        if result.status != "ok":
            self.log.warning("%s/%s is not graded (%s): %s", info["student"], info["assignment"], result.status,
                             result.problem)
            nb.cells.insert(0, _note(nb, result))
        by_function = result.by_function(detail=self.feedback_detail == "values")
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
                cell.outputs = self.outcome(cell, by_function, result)
                cell.execution_count = None
        # always written, over whatever the student put there: CsvExportWithStatus reads it
        _course_metadata(nb)["grading"] = {"status": result.status, "problem": result.problem}
        return nb, resources

    def grade(self, nb, info):
        """The SubmissionResult of the standalone grader for nb, graded in the sandbox: the one
        graded ahead from submitted/ (nbgrader_prefetch) when nb has its solution cells, else
        graded now."""
        from .batch import DEFAULT_TIMEOUT, grade_notebook
        from .notebook import solution_cells
        from .sandbox import Limits, require_sandbox
        from .secret import load_key

        settings = dict(key=load_key(self.key_file), isolation=require_sandbox(self.unsafe_no_sandbox),
                        limits=Limits(call_seconds=self.timeout or DEFAULT_TIMEOUT), hidden=self.course_paths(info))
        coursedir = self.coursedir()
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"]),
                         f"{info['notebook']}.ipynb")
        ahead = self.prefetch(coursedir, settings).result(submitted, solution_cells(nb))
        if ahead is not None:
            return ahead
        with tempfile.TemporaryDirectory(prefix="nbgrader-sandboxed-") as scratch:
            # nbgrader's layout, so that the grader reads student and assignment from the path
            path = Path(scratch, "autograded", info["student"], info["assignment"], f"{info['notebook']}.ipynb")
            path.parent.mkdir(parents=True)
            nbformat.write(nb, str(path))
            return grade_notebook(path, **settings)

    def coursedir(self):
        """The CourseDirectory of the nbgrader run (the converter's, above the exporter that runs
        this preprocessor: it knows the run's assignment and student globs), else one from config."""
        node = self.parent
        while node is not None:
            if getattr(node, "coursedir", None) is not None:
                return node.coursedir
            node = getattr(node, "parent", None)
        return CourseDirectory(config=self.config)

    def prefetch(self, coursedir, settings):
        """The Prefetch of this nbgrader run, started at its first notebook."""
        from .nbgrader_prefetch import Prefetch, submitted_notebooks

        run = (coursedir.root, coursedir.student_id, coursedir.assignment_id, coursedir.notebook_id)
        if run not in _PREFETCHES:
            _PREFETCHES[run] = Prefetch(submitted_notebooks(coursedir), jobs=self.jobs or os.cpu_count() or 1,
                                        log=self.log, **settings)
        return _PREFETCHES[run]

    def course_paths(self, info):
        """Directories the student's code must not see: the course root (source notebooks,
        other submissions) and the folder of gradebook.db."""
        paths = {Path(self.config.CourseDirectory.get("root") or os.getcwd()).resolve()}
        db_url = info.get("db_url", "")
        if db_url.startswith("sqlite:///"):
            paths.add(Path(db_url[len("sqlite:///"):]).resolve().parent)
        return tuple(sorted(str(p) for p in paths))

    def outcome(self, cell, by_function, result):
        """The outputs of one test cell, from the sandbox's results for its function."""
        grade_id = cell.metadata.nbgrader["grade_id"]
        function = grade_id[len(TEST_PREFIX):] if grade_id.startswith(TEST_PREFIX) else grade_id
        cell_points = float(cell.metadata.nbgrader["points"])
        if function not in by_function:
            reason = (f"the notebook was not graded ({result.status}; the note at its top says why)"
                      if result.status != "ok" else "the grader has no tests for it")
            return [_error(f"{function} was not graded: {reason}")]
        earned, maximum, messages = by_function[function]
        score = round(cell_points * earned / maximum, 4) if maximum else 0.0
        if score <= 0:
            return [_error(f"{function}: 0 of {cell_points:g} points.\n" + "\n".join(messages))]
        lines = [f"{function}: {score:g} of {cell_points:g} points."] + list(messages)
        return [new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
                new_output("execute_result", data={"text/plain": repr(score)}, execution_count=None)]


# One Prefetch per nbgrader run (course root, student, assignment and notebook globs) in this
# process: nbgrader may make a new preprocessor per notebook, and the pool must outlive it.
_PREFETCHES = {}


def _stood_in(nb, info):
    """The result of a stand-in (SubmissionExporter), or None for any other notebook."""
    not_graded = _course_metadata(nb).get("not_graded")
    if not isinstance(not_graded, dict):
        return None
    return SubmissionResult(info["student"], info["assignment"], "", status=str(not_graded.get("status")),
                            problem=str(not_graded.get("problem", "")))


def _note(nb, result):
    """The markdown cell that says, once, why the notebook was not graded (the reason may quote
    the student's file: it is shown as code, never as Markdown or HTML)."""
    note = new_markdown_cell(f"**This notebook was not graded ({result.status}), so every test below scores 0.** "
                             f"{inline_code(result.problem)}")
    if nb.get("nbformat_minor", 0) < 5:  # cell ids came with nbformat 4.5
        del note["id"]
    return note


def _error(text):
    return new_output("error", ename="AutograderFailure", evalue=text, traceback=[f"AutograderFailure: {text}"])


class CsvExportWithStatus(CsvExportPlugin):
    """nbgrader's grades.csv, plus the status and problem of each row.

    status: what SandboxedGrade recorded in the autograded notebook ("ok", "unreadable",
    "wrong_assignment", "no_metadata", ...), "missing" when nothing was submitted, or
    "not_autograded" when a submission has no autograded notebook of the course's grader.
    problem: why, when the status is not "ok". Without them an unreadable submission and a
    missing one are the same row of zeros.
    """

    def export(self, gradebook):
        super().export(gradebook)
        path = self.to or "grades.csv"
        with open(path, newline="", encoding="utf-8") as f:
            header, *rows = list(csv.reader(f))
        column = {name: i for i, name in enumerate(header)}
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header + ["status", "problem"])
            for row in rows:
                status, problem = self.status(gradebook, row[column["assignment"]], row[column["student_id"]])
                writer.writerow(row + [csv_text(status), csv_text(one_line(problem))])

    def status(self, gradebook, assignment, student):
        """(status, problem) of one student's submission of one assignment."""
        try:
            gradebook.find_submission(assignment, student)
        except MissingEntry:
            return "missing", "nothing was submitted"
        coursedir = self.parent.coursedir
        folder = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        for notebook in gradebook.find_assignment(assignment).notebooks:
            path = folder / f"{notebook.name}.ipynb"
            try:
                grading = json.loads(path.read_text(encoding="utf-8"))["metadata"]["cnns_course"]["grading"]
            except (OSError, ValueError, KeyError, TypeError):
                return "not_autograded", f"{path} was not written by the course's nbgrader autograde"
            if grading.get("status") != "ok":
                return str(grading.get("status")), str(grading.get("problem", ""))
        return "ok", ""
