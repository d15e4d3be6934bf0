"""Build the nbgrader source notebooks exercises/<id>/<id>.ipynb from the Task records in tasks/.

A step of `python scripts/regenerate.py`, which writes the notebooks that are stale.

Each graded function becomes three cells: its task (markdown), its solution cell (grade_id =
the function's name; the solution region delegates to solutions/) and its test cell
(grade_id = test_<name>, points from autograder.points.POINTS): visible checks against the
fixtures (run by compare.py, shipped next to the notebook), then hidden tests that run the
grader's full catalogue in the kernel.
"""
import ast
import json
import textwrap
from pathlib import Path

from autograder.points import POINTS
from tasks import Code, Helper, Markdown, Task, load

ROOT = Path(__file__).resolve().parent.parent

SCHEMA_VERSION = 3

SETUP = '''\
# Setup: run this cell first. The visible checks under each function compare your code with
# fixtures.npz (the reference solution's results on small inputs) using compare.py, the same
# comparison the grader uses. Both files come with this notebook: keep them next to it.
import matplotlib.pyplot as plt
import numpy as np

from compare import check_against_fixtures, report
'''

HIDDEN = '''\
### BEGIN HIDDEN TESTS
# The grader's full checks for {name}, run in this kernel (instructors' source notebook only:
# students' scores come from the sandboxed grader). nbgrader gives 0 to a cell that writes to
# stderr, so harmless warnings from correct code go to stdout; the numeric last expression is
# this cell's partial credit, capped at its points.
import contextlib, sys
import autograder.incell
with contextlib.redirect_stderr(sys.stdout):
    _points = autograder.incell.check("{assignment}", "{name}", {name})
min(max(float(_points), 0.0), {points!r})
### END HIDDEN TESTS
'''


def _source(text):
    lines = text.splitlines(keepends=True)
    if lines:
        lines[-1] = lines[-1].rstrip("\n")
    return lines


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    nbgrader = {"grade": grade, "grade_id": grade_id, "locked": locked,
                "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if points is not None:
        nbgrader["points"] = points
    meta = {"nbgrader": nbgrader}
    if locked:
        meta.update(deletable=False, editable=False)
    return meta


def markdown_cell(cell_id, text):
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": _source(text.strip())}


def code_cell(cell_id, source, metadata=None):
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": metadata or {},
            "outputs": [], "source": _source(source.strip("\n"))}


def solution_source(graded):
    """def line, docstring, and the solution region (by default: delegate to solutions/)."""
    body = graded.solution or (
        f"from solutions import {graded.name} as _reference\n"
        f"return _reference({', '.join(graded.parameters)})")
    doc = textwrap.indent(graded.doc.strip(), "    ").lstrip()
    return (f"def {graded.signature}:\n"
            f'    """{doc}\n    """\n'
            f"    ### BEGIN SOLUTION\n"
            f"{textwrap.indent(body.strip(), '    ')}\n"
            f"    ### END SOLUTION\n")


def test_source(exercise, graded, points):
    visible = graded.visible.strip() if graded.visible else (
        f"# Visible checks: your {graded.name} against the reference solution's results.\n"
        f"check_against_fixtures({graded.name})")
    return visible + "\n" + HIDDEN.format(name=graded.name, assignment=exercise.assignment,
                                          points=float(points))


def book_url():
    """Where the built book is published: html.baseurl of _config.yml, or None while it is not."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return ((config.get("html") or {}).get("baseurl") or "").rstrip("/") or None


def chapter_reference(exercise):
    """How the notebook points at its chapter. A release is used outside the repository, so a
    relative link would break: link the published page when the book has a URL, else name it."""
    number, title = int(exercise.assignment[2:4]), exercise.title
    url = book_url()
    if url:
        page = exercise.chapter.removesuffix(".md") + ".html"
        return f"Read [chapter {number} of the book, *{title}*]({url}/{page}) first."
    return (f"Read chapter {number} of the book, *{title}*, first: the page this notebook is offered on "
            f"(`{exercise.chapter}` in the course's repository).")


def intro_text(exercise):
    number = int(exercise.assignment[2:4])
    return (f"# Exercises for chapter {number}: {exercise.title}\n\n"
            f"{exercise.intro.strip()}\n\n"
            f"{chapter_reference(exercise)} Then, for each function below: "
            f"replace `raise NotImplementedError()` with your code, run the cell, and run the check "
            f"cell under it. The checks you see compare your function with the reference "
            f"solution on small inputs; when you submit, hidden tests check many more cases.\n\n"
            f"How your notebook is graded: only the function cells run, each on its own, after "
            f"`import numpy as np`. Put any other import inside your function's cell; you may call "
            f"functions from earlier cells of this notebook. While a function is graded, its calls "
            f"of an earlier graded function of yours get the reference solution's result, so one "
            f"mistake costs points once; a function your notebook does not define (a deleted or "
            f"renamed cell) stays undefined, as in Jupyter. Use numpy only (scipy and other "
            f"libraries are not available to the grader), do not change the function names or "
            f"signatures, and keep the inputs unmodified.")


def build(assignment):
    """The notebook (a dict in nbformat 4.5) of one assignment."""
    exercise = load(assignment)
    points = POINTS[assignment]
    graded_names = [g.name for g in exercise.graded]
    if list(points) != graded_names:
        raise ValueError(f"{assignment}: the spec grades {graded_names}, autograder.points has {list(points)}")
    cells = [markdown_cell("intro", intro_text(exercise)),
             code_cell("setup", SETUP, _meta("setup", locked=True))]
    counter = 0
    for cell in exercise.cells:
        counter += 1
        if isinstance(cell, Markdown):
            cells.append(markdown_cell(f"text-{counter:02d}", cell.text))
        elif isinstance(cell, Code):
            cells.append(code_cell(f"demo-{counter:02d}", cell.source))
        elif isinstance(cell, Helper):
            cells.append(code_cell(cell.grade_id, cell.source, _meta(cell.grade_id, solution=True)))
        elif isinstance(cell, Task):
            cells.append(markdown_cell(f"task-{cell.name}", f"## `{cell.signature}`\n\n{cell.task.strip()}"))
            cells.append(code_cell(cell.name, solution_source(cell), _meta(cell.name, solution=True)))
            test_id = f"test_{cell.name}"
            cells.append(code_cell(test_id, test_source(exercise, cell, points[cell.name]),
                                   _meta(test_id, grade=True, locked=True, points=float(points[cell.name]))))
        else:
            raise TypeError(f"{assignment}: unknown cell {cell!r}")
    for cell in cells:
        if cell["cell_type"] == "code":
            ast.parse("\n".join(line for line in "".join(cell["source"]).splitlines()))
    return {"cells": cells,
            "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                        "name": "python3"},
                         "language_info": {"name": "python"},
                         # which assignment this notebook is, whatever its file is called
                         "cnns_course": {"assignment": assignment}},
            "nbformat": 4, "nbformat_minor": 5}


def render(notebook):
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def path_of(assignment):
    return ROOT / "exercises" / assignment / f"{assignment}.ipynb"
