"""Turn cell sources into nbgrader-style submission notebooks.

The corpus keeps each assignment's student code as a plain .py file in correct/, one cell per
graded function, each opened by a `# %% grade_id=<function>` line. build_notebook() writes
such cells as the solution cells of an nbgrader notebook, either from scratch or into a real
release notebook used as template.
"""
import ast
import copy
import json
import re
from pathlib import Path

from tasks import ASSIGNMENTS

CORPUS = Path(__file__).resolve().parent
CELL_MARKER = re.compile(r"^# %% grade_id=(\w+)\s*$", re.MULTILINE)
SCHEMA_VERSION = 3
STUB_BODY = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"


def split_cells(text):
    """{grade_id: source} of a corpus .py file, in file order; text before the first marker
    (the module docstring) belongs to no cell."""
    parts = CELL_MARKER.split(text)
    cells = {}
    for grade_id, source in zip(parts[1::2], parts[2::2]):
        if grade_id in cells:
            raise ValueError(f"grade_id {grade_id!r} appears twice")
        cells[grade_id] = source.strip("\n") + "\n"
    return cells


def correct_cells(assignment):
    """{function: source} of the correct submission of one assignment."""
    return split_cells((CORPUS / "correct" / f"{assignment}.py").read_text())


def stub_cells(assignment):
    """The release stubs: each function's signature and docstring (as written, however many
    lines), then NotImplementedError."""
    stubs = {}
    for name, source in correct_cells(assignment).items():
        fn = next(node for node in ast.parse(source).body
                  if isinstance(node, ast.FunctionDef) and node.name == name)
        lines = source.splitlines(keepends=True)
        first = fn.body[0]
        has_doc = ast.get_docstring(fn) is not None
        end = first.end_lineno if has_doc else first.lineno - 1
        stubs[name] = "".join(lines[fn.lineno - 1:end]) + STUB_BODY
    return stubs


def _lines(source):
    return source.splitlines(keepends=True)


def _markdown(cell_id, text):
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": _lines(text)}


def _code(cell_id, source, nbgrader=None):
    metadata = {"nbgrader": nbgrader} if nbgrader else {}
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": metadata,
            "outputs": [], "source": _lines(source)}


def _solution_cell(grade_id, source):
    return _code(grade_id, source, {"grade": False, "grade_id": grade_id, "locked": False,
                                    "schema_version": SCHEMA_VERSION, "solution": True})


def _test_cell(grade_id):
    # a visible check only: the points live in autograder.points, not in the notebook
    return _code(f"test_{grade_id}", f"assert callable({grade_id})\n",
                 {"grade": True, "grade_id": f"test_{grade_id}", "locked": True, "points": 0,
                  "schema_version": SCHEMA_VERSION, "solution": False})


def _from_scratch(cells, assignment):
    nb_cells = [_markdown("intro", f"# {assignment}\n\nFill in every function below."),
                _code("setup", "import numpy as np\n")]
    for grade_id, source in cells.items():
        if source is None:
            continue
        nb_cells += [_solution_cell(grade_id, source), _test_cell(grade_id)]
    return {"cells": nb_cells,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"},
                         "nbgrader": {"assignment": assignment}},
            "nbformat": 4, "nbformat_minor": 5}


_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*\n?", re.MULTILINE | re.DOTALL)
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.MULTILINE | re.DOTALL)


def _release_source(cell):
    """What nbgrader's release leaves of a cell: solution regions stubbed, hidden tests gone.

    A release notebook has neither, so for a real release template this changes nothing."""
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    if cell["cell_type"] == "markdown":
        return _REGION.sub("YOUR ANSWER HERE\n", source)
    source = _REGION.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()\n", source)
    return _HIDDEN.sub("", source)


def _into_template(cells, template):
    nb = copy.deepcopy(json.loads(Path(template).read_text()))
    in_template = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                   for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    unknown = set(cells) - in_template
    if unknown:
        raise ValueError(f"{template} has no solution cell for {sorted(unknown)}")
    kept = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("solution") and grade_id in cells:
            if cells[grade_id] is None:
                continue
            cell["source"] = _lines(cells[grade_id])
        else:
            cell["source"] = _lines(_release_source(cell))
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        kept.append(cell)
    nb["cells"] = kept
    return nb


def build_notebook(cells, assignment, path, template=None):
    """Write a submission notebook for `assignment` at `path` and return the path.

    cells: {grade_id: source}; a None source deletes that function's cell. Without a template
    the notebook is a markdown cell, a setup cell `import numpy as np`, then per function its
    solution cell and a test cell. With `template` (a release, or a source notebook whose
    solution regions and hidden tests are then stripped as nbgrader's release does) the
    sources of the named solution cells are replaced and everything else is kept.
    """
    nb = _into_template(cells, template) if template else _from_scratch(cells, assignment)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def callers(assignment):
    """{function: the other graded functions whose correct cells call it, directly or not}.

    A mistake in a function also costs the functions built on it (a wrong col2im makes the
    student's conv_backward_im2col wrong too), so a mutant may cost exactly these as well."""
    cells = correct_cells(assignment)
    calls = {name: {node.id for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.Name) and node.id in cells and node.id != name}
             for name, source in cells.items()}
    result = {}
    for name in cells:
        found, frontier = set(), {name}
        while frontier:
            frontier = {caller for caller, used in calls.items() if used & frontier} - found
            found |= frontier
        result[name] = found
    return result
