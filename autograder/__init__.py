"""The course's standalone grader: sandboxed, pytest-based, diagnosing every failure.

`grade_notebook(path)` grades one submission; `python -m autograder grade PATH...` grades a
class. What is graded, and for how many points, comes from the Task records in tasks/;
instructors' in-notebook checks use autograder.incell.check.
"""


def __getattr__(name):
    # imported on first use: the task records import autograder's modules, so importing the
    # package must not import them back
    if name == "grade_notebook":
        from .batch import grade_notebook
        return grade_notebook
    raise AttributeError(name)


__all__ = ["grade_notebook"]
