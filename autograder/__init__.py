"""The course's standalone grader: sandboxed, pytest-based, diagnosing every failure.

`grade_notebook(path)` grades one submission; `python -m autograder grade PATH...` grades a
class. Points live in autograder.points.POINTS; instructors' in-notebook checks use
autograder.incell.check.
"""
from .batch import grade_notebook

__all__ = ["grade_notebook"]
