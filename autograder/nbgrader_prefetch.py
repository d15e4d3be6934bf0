"""Grade ahead of nbgrader's loop: one grading pool for a whole `nbgrader autograde` run.

nbgrader autogrades one notebook after the other, and SandboxedGrade used to start a grading
process, wait for it, and only then let nbgrader go on: one core busy, and the set-up of a
grading process paid on nbgrader's clock each time. At its first notebook SandboxedGrade now
starts a Prefetch: one pool (autograder.batch.grade_paths, `jobs` grading processes at a
time) over every submitted notebook this run will autograde, straight from submitted/, which
goes on grading while nbgrader sanitizes, saves and writes. Each submission is still graded
alone, in its own grading process with its own sandbox: the isolation is the same, only the
waiting is shared. Progress goes to nbgrader's log ("12 of 240 submissions graded").

The pool is driven from nbgrader's own thread, each time a result is asked for: a second
thread would make nbgrader's process threaded, and a threaded process must start its grading
processes through a forkserver, which costs seconds per process under nbgrader (measured:
4-5 s from start to work, against a fork's milliseconds). The grading processes it started
go on while nbgrader works; grade_paths bounds each submission by its budget, so asking for
a result never waits longer than the grading it waits for.

A result is used only for the notebook it was computed from: the sanitized notebook nbgrader
hands over must have the same student, assignment and solution cells as the submitted file
(so the same seed and the same grade); anything else (a restored cell, a notebook the
prefetch did not see) is graded on the spot as before.
"""
import atexit
import glob
import os
from pathlib import Path

from .batch import grade_paths
from .notebook import Found, identify, read_submission


class Prefetch:
    """Grades `paths` `jobs` at a time; result(path, cells) gives one of them when it is done."""

    def __init__(self, paths, *, jobs, log=None, **settings):
        self.cells, found = {}, []
        for path in paths:
            submission = read_submission(path)
            if submission.status == "ok":
                self.cells[str(path)] = submission.cells
                found.append(Found(Path(path), *identify(path)))
        self.total, self.log, self.results, self.graded = len(found), log, {}, 0
        self.pending = grade_paths(found, jobs=jobs, **settings)  # starts at the first result asked for
        atexit.register(self.pending.close)  # kills the grading processes of results nobody asked for

    def result(self, path, cells):
        """The SubmissionResult of the submitted file at path if its solution cells are `cells`
        (grading on until it is done), else None."""
        if self.cells.get(str(path)) != cells:
            return None
        while str(path) not in self.results:
            try:
                result = next(self.pending)
            except StopIteration:
                return None
            self.results[result.path] = result
            self.graded += 1
            if self.log:
                self.log.info("Sandboxed grader: %d of %d submissions graded (%s/%s)", self.graded, self.total,
                              result.student, result.assignment)
        return self.results.pop(str(path))


def submitted_notebooks(coursedir):
    """The submitted notebooks an nbgrader run over coursedir's student and assignment ids
    (globs, "*" by default) will autograde."""
    folder = coursedir.format_path(coursedir.submitted_directory, coursedir.student_id, coursedir.assignment_id)
    return sorted(Path(p) for p in glob.glob(os.path.join(folder, "*.ipynb")) if os.path.isfile(p))
