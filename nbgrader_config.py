"""nbgrader configuration of "CNNs from the ground up" (run nbgrader from the repository root).

Source notebooks live in exercises/<assignment>/ (built by scripts/build_exercises.py).
Autograding replaces nbgrader's Execute step by the sandboxed grader (autograder/
nbgrader_autograde.py): no kernel runs student code next to the tests, so the scores stored
in gradebook.db cannot be forged from a submission. A submission that cannot be graded
(unreadable, another assignment's notebook, no solution cells) is graded 0 with one note
saying why, and deleted test cells are put back and graded. `nbgrader export` adds each row's
status and problem. Feedback hides the hidden tests, in the cells' sources and in tracebacks
(autograder/nbgrader_feedback.py).
"""
c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "cnns-from-the-ground-up"
c.CourseDirectory.source_directory = "exercises"
# Only notebooks are graded; fixtures.npz and data files are released with them.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# The kernel only runs when an instructor validates a source notebook: the hidden tests then
# run the grader's full catalogue in-process; the im2col speed checks time a slow baseline.
c.Execute.timeout = 300

# nbgrader fails on a notebook it cannot parse or of another assignment, and then shows the
# student as if nothing was submitted: such a submission is read into a stand-in instead.
c.Autograde.exporter_class = "autograder.nbgrader_autograde.SubmissionExporter"
# nbgrader's own sanitizing steps, with OverwriteCells replaced by RestoreCells: its
# add_missing_cells puts deleted test cells back (so their points are graded, not left at
# "needs manual grading") without failing when the cell before one is gone too.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.nbgrader_autograde.RestoreCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True

c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_autograde.SandboxedGrade",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Limits (seconds per call of a student's function, memory, ...) are the grader's own
# (autograder.sandbox.Limits), the same as `python -m autograder grade`; to change the per-call
# time for both roads alike, set c.SandboxedGrade.timeout here and pass --timeout there.

c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.nbgrader_feedback.TrimGradedTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# grades.csv with a status and problem column: an unreadable submission is not a missing one.
c.ExportApp.plugin_class = "autograder.nbgrader_autograde.CsvExportWithStatus"
