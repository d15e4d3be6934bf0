"""nbgrader autograde preprocessor: scores come from the sandboxed grader, not the student's kernel.

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
"""
import os
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Unicode

TEST_PREFIX = "test_"


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

    def preprocess(self, nb, resources):
        from .batch import DEFAULT_TIMEOUT, grade_notebook
        from .sandbox import Limits, require_sandbox
        from .secret import load_key

        info = resources["nbgrader"]
        isolation = require_sandbox(self.unsafe_no_sandbox)
        limits = Limits(call_seconds=self.timeout or DEFAULT_TIMEOUT)
        with tempfile.TemporaryDirectory(prefix="nbgrader-sandboxed-") as scratch:
            # nbgrader's layout, so that the grader reads student and assignment from the path
            path = Path(scratch, "autograded", info["student"], info["assignment"], f"{info['notebook']}.ipynb")
            path.parent.mkdir(parents=True)
            nbformat.write(nb, str(path))
            result = grade_notebook(path, key=load_key(self.key_file), limits=limits, isolation=isolation,
                                    hidden=self.course_paths(info))
        self.log.info("Sandboxed grader: %s/%s scored %s of %s (%s, isolation %s)", info["student"],
                      info["assignment"], result.score, result.max_score, result.status, result.isolation)
        if result.status == "grader_error":
            raise RuntimeError(f"the sandboxed grader failed on {info['student']}/{info['assignment']}: "
                               f"{result.problem}")
        by_function = result.by_function()
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
                cell.outputs = self.outcome(cell, by_function, result)
                cell.execution_count = None
        return nb, resources

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
            reason = result.status if result.status != "ok" else "the grader has no tests for it"
            return [_error(f"{function} was not graded: {reason}")]
        earned, maximum, messages = by_function[function]
        score = round(cell_points * earned / maximum, 4) if maximum else 0.0
        if score <= 0:
            return [_error(f"{function}: 0 of {cell_points:g} points.\n" + "\n".join(messages))]
        lines = [f"{function}: {score:g} of {cell_points:g} points."] + list(messages)
        return [new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
                new_output("execute_result", data={"text/plain": repr(score)}, execution_count=None)]


def _error(text):
    return new_output("error", ename="AutograderFailure", evalue=text, traceback=[f"AutograderFailure: {text}"])
