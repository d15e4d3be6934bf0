"""nbgrader configuration of "CNNs from the ground up" (run nbgrader from the repository root).

Source notebooks live in exercises/<assignment>/ (built by scripts/build_exercises.py).
Autograding replaces nbgrader's Execute step by the sandboxed grader (autograder/
nbgrader_autograde.py): no kernel runs student code next to the tests, so the scores stored
in gradebook.db cannot be forged from a submission. Feedback hides the hidden tests, in the
cells' sources and in tracebacks (autograder/nbgrader_feedback.py).
"""
c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "cnns-from-the-ground-up"
c.CourseDirectory.source_directory = "exercises"
# Only notebooks are graded; fixtures.npz and data files are released with them.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# The kernel only runs when an instructor validates a source notebook: the hidden tests then
# run the grader's full catalogue in-process; the im2col speed checks time a slow baseline.
c.Execute.timeout = 300

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
