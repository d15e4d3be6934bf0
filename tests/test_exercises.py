"""The exercise notebooks: built from their spec, fixtures fresh, cells shaped as nbgrader and
the grader expect, visible checks that pass on the reference and explain what is wrong."""
import ast
import json
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import build_exercises  # noqa: E402
import make_fixtures  # noqa: E402
from tasks import ASSIGNMENTS, Helper, load  # noqa: E402

from autograder.points import POINTS  # noqa: E402
from corpus.mutants import mutants  # noqa: E402

HIDDEN = re.compile(r"^### BEGIN HIDDEN TESTS\n.*?^### END HIDDEN TESTS\n?", re.MULTILINE | re.DOTALL)
SOLUTION = re.compile(r"^ *### BEGIN SOLUTION\n(.*?)^ *### END SOLUTION", re.MULTILINE | re.DOTALL)


def notebook(assignment):
    return json.loads(build_exercises.path_of(assignment).read_text())


def source(cell):
    return "".join(cell["source"])


def helper_ids(assignment):
    return {cell.grade_id for cell in load(assignment).cells if isinstance(cell, Helper)}


def nbgrader_cells(assignment, kind):
    """{grade_id: cell} of the graded functions' solution cells (kind "solution") or of the
    test cells (kind "grade"); ungraded helper solution cells are left out."""
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in notebook(assignment)["cells"]
            if c["metadata"].get("nbgrader", {}).get(kind)
            and c["metadata"]["nbgrader"]["grade_id"] not in helper_ids(assignment)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_notebook_is_what_the_spec_builds(assignment):
    """Is exercises/<id>/<id>.ipynb up to date? (python scripts/build_exercises.py rebuilds it)"""
    assert build_exercises.path_of(assignment).read_text() == build_exercises.render(build_exercises.build(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_fixtures_and_data_are_what_the_scripts_compute(assignment):
    """Are fixtures.npz and data files up to date with solutions/? (python scripts/make_fixtures.py)"""
    for path, build in make_fixtures.files(assignment).items():
        assert make_fixtures.differs(path, build) is None, path.name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_solution_cell_per_graded_function_in_contract_order(assignment):
    assert list(nbgrader_cells(assignment, "solution")) == list(POINTS[assignment])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cell_points_are_the_graders_points(assignment):
    tests = nbgrader_cells(assignment, "grade")
    assert {grade_id: cell["metadata"]["nbgrader"]["points"] for grade_id, cell in tests.items()} == {
        f"test_{name}": float(points) for name, points in POINTS[assignment].items()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_regions_delegate_to_solutions(assignment):
    """A solution region imports its function from solutions/: no second copy of reference code."""
    specs = {graded.name: graded for graded in load(assignment).graded}
    for name, cell in nbgrader_cells(assignment, "solution").items():
        regions = SOLUTION.findall(source(cell))
        assert len(regions) == 1, name
        if specs[name].solution:   # composed from solutions/ (an outcome-graded task)
            assert "from solutions" in regions[0] and len(regions[0].strip().splitlines()) <= 5, name
        else:
            assert f"from solutions import {name} as _reference" in regions[0], name
            assert len(regions[0].strip().splitlines()) == 2, f"{name}: the region holds more than the delegation"


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if helper_ids(a)])
def test_helper_cells_regions_delegate_to_solutions(assignment):
    """Ungraded solution cells (e.g. chapter 8's network) also hold no copy of reference code."""
    for cell in notebook(assignment)["cells"]:
        if cell["id"] in helper_ids(assignment):
            regions = SOLUTION.findall(source(cell))
            assert regions and all(r.strip().startswith("from solutions import") and
                                   len(r.strip().splitlines()) == 2 for r in regions)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_cells_define_their_function_with_a_docstring_and_nothing_else(assignment):
    for name, cell in nbgrader_cells(assignment, "solution").items():
        tree = ast.parse(source(cell))
        assert [type(node) for node in tree.body] == [ast.FunctionDef], name
        assert tree.body[0].name == name
        assert ast.get_docstring(tree.body[0]), f"{name} has no docstring"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_run_the_graders_check_and_end_in_a_capped_number(assignment):
    for grade_id, cell in nbgrader_cells(assignment, "grade").items():
        name = grade_id.removeprefix("test_")
        hidden = HIDDEN.findall(source(cell))
        assert len(hidden) == 1, grade_id
        assert f'autograder.incell.check("{assignment}", "{name}", {name})' in hidden[0]
        assert "redirect_stderr(sys.stdout)" in hidden[0], "warnings on stderr would score 0 in nbgrader"
        last = ast.parse(hidden[0]).body[-1]
        assert isinstance(last, ast.Expr) and ast.unparse(last.value).startswith("min(max(float(_points)")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_only_graded_cells_hold_hidden_tests_or_solutions(assignment):
    for cell in notebook(assignment)["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if "BEGIN HIDDEN TESTS" in source(cell):
            assert meta.get("grade") and not meta.get("solution")
        if "BEGIN SOLUTION" in source(cell):
            assert meta.get("solution")


STUDENT_MODULES = {"numpy", "scipy", "matplotlib"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_imports_only_numpy_scipy_matplotlib_and_the_standard_library(assignment):
    """Does the released notebook run on a student's machine that has only numpy, scipy and
    matplotlib? (Hidden tests and solution regions are removed from the release.)"""
    imported = set()
    for cell in notebook(assignment)["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = SOLUTION.sub("", HIDDEN.sub("", source(cell)))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    shipped = {path.stem for path in (ROOT / "exercises" / assignment).glob("*.py")}
    foreign = imported - STUDENT_MODULES - shipped - set(sys.stdlib_module_names)
    assert not foreign, f"{assignment}'s release imports {sorted(foreign)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_notebook_ships_the_graders_comparison_module_which_needs_only_numpy(assignment):
    """One comparison for the visible checks and the grader: exercises/<id>/compare.py is
    autograder/compare.py, and a student's machine can import it (numpy and the standard library)."""
    shipped = ROOT / "exercises" / assignment / "compare.py"
    assert shipped.read_bytes() == (ROOT / "autograder" / "compare.py").read_bytes(), \
        "stale: run python scripts/regenerate.py"
    imported = set()
    for node in ast.walk(ast.parse(shipped.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import would not work next to the notebook"
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"numpy"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_names_its_chapter(assignment):
    intro = source(notebook(assignment)["cells"][0])
    exercise = load(assignment)
    assert f"chapter {int(assignment[2:4])} of the book, *{exercise.title}*" in intro
    assert (ROOT / exercise.chapter).exists(), f"{exercise.chapter} is missing"


def test_with_a_published_book_the_notebook_links_the_chapters_page(monkeypatch):
    monkeypatch.setattr(build_exercises, "book_url", lambda: "https://example.org/cnns")
    intro = build_exercises.intro_text(load("ch04_pooling"))
    assert "(https://example.org/cnns/book/04_pooling.html)" in intro


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_visible_checks(assignment):
    with np.load(ROOT / "exercises" / assignment / "fixtures.npz") as stored:
        cases = json.loads(str(stored["__cases__"]))
    for graded in load(assignment).graded:
        assert graded.visible or sum(c["function"] == graded.name for c in cases) >= 1, graded.name


# --- the visible checks themselves, run as the setup cell defines them ----------------------------


def setup_namespace(assignment, monkeypatch):
    """The namespace of the setup cell, run in the assignment's folder as Jupyter would."""
    monkeypatch.chdir(ROOT / "exercises" / assignment)
    monkeypatch.syspath_prepend(str(ROOT / "exercises" / assignment))   # as Jupyter puts the notebook's folder first
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    namespace = {}
    exec(compile(build_exercises.SETUP, "setup", "exec"), namespace)
    return namespace


def solution_function(assignment, name, namespace):
    exec(compile(source(nbgrader_cells(assignment, "solution")[name]), name, "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_checks_pass_on_the_source_notebook(assignment, monkeypatch, capsys):
    """Every test cell's visible part passes when the functions are the reference."""
    namespace = setup_namespace(assignment, monkeypatch)
    for name, cell in nbgrader_cells(assignment, "solution").items():
        exec(compile(source(cell), name, "exec"), namespace)
    for grade_id, cell in nbgrader_cells(assignment, "grade").items():
        exec(compile(HIDDEN.sub("", source(cell)), grade_id, "exec"), namespace)
        assert "visible checks passed" in capsys.readouterr().out, grade_id


def visible_failure(fn, namespace):
    with pytest.raises(AssertionError) as failure:
        namespace["check_against_fixtures"](fn)
    return str(failure.value)


def test_visible_check_says_an_unimplemented_function_is_not_implemented(monkeypatch):
    namespace = setup_namespace("ch02_convolution", monkeypatch)

    def corr2d(x, k):
        raise NotImplementedError()

    assert "corr2d is not implemented yet" in visible_failure(corr2d, namespace)


def test_visible_check_shows_where_a_wrong_result_differs(monkeypatch):
    namespace = setup_namespace("ch02_convolution", monkeypatch)
    reference = solution_function("ch02_convolution", "corr2d", namespace)

    def corr2d(x, k):
        return reference(x, k[::-1, ::-1])

    message = visible_failure(corr2d, namespace)
    assert "corr2d on a 4x4 image and a 2x2 kernel" in message
    assert re.search(r"wrong in \d+ of 9 elements; the first is at index \(0, 0\)", message)


def test_visible_check_reports_a_wrong_shape(monkeypatch):
    namespace = setup_namespace("ch02_convolution", monkeypatch)
    reference = solution_function("ch02_convolution", "corr2d", namespace)

    def corr2d(x, k):
        return reference(np.pad(x, 1), k)

    assert "has shape (5, 5), expected (3, 3)" in visible_failure(corr2d, namespace)


def test_visible_check_reports_a_changed_dtype(monkeypatch):
    namespace = setup_namespace("ch02_convolution", monkeypatch)
    reference = solution_function("ch02_convolution", "corr2d", namespace)

    def corr2d(x, k):
        return reference(x.astype(np.float64), k.astype(np.float64))

    assert "dtype float64, expected float32" in visible_failure(corr2d, namespace)


def test_visible_check_reports_a_mutated_input(monkeypatch):
    namespace = setup_namespace("ch03_padding_stride", monkeypatch)
    reference = solution_function("ch03_padding_stride", "zero_pad", namespace)

    def zero_pad(x, pad):
        out = reference(x, pad)
        x *= 0
        return out

    assert "modified its input x in place" in visible_failure(zero_pad, namespace)


def test_visible_check_reports_a_missing_return(monkeypatch):
    namespace = setup_namespace("ch04_pooling", monkeypatch)

    def global_max_pool(x):
        x.max(axis=(2, 3))

    assert "is None: did you forget `return`?" in visible_failure(global_max_pool, namespace)


def test_visible_check_compares_tuples_element_by_element(monkeypatch):
    namespace = setup_namespace("ch03_padding_stride", monkeypatch)

    def same_padding(k, dilation=1):
        total = dilation * (k - 1)
        return total - total // 2, total // 2

    assert "is (2, 1), expected (1, 2)" in visible_failure(same_padding, namespace)


def test_visible_check_only_prints_when_nbgrader_autogrades(monkeypatch, capsys):
    """Under nbgrader's kernel the hidden tests score the cell: a visible failure must not raise."""
    namespace = setup_namespace("ch02_convolution", monkeypatch)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    def corr2d(x, k):
        raise NotImplementedError()

    namespace["check_against_fixtures"](corr2d)
    assert "visible check failed: corr2d is not implemented yet" in capsys.readouterr().out


def test_numerical_gradient_visible_check_catches_a_forward_difference(monkeypatch):
    namespace = setup_namespace("ch06_backprop", monkeypatch)
    _, _, forward_difference = mutants("ch06_backprop")["numgrad_forward_difference"]
    exec(forward_difference, namespace)          # defines the student's numerical_gradient
    check = load("ch06_backprop").graded[0].visible
    with pytest.raises(AssertionError, match=r"max error \d\.\d+e-0[1-6]"):
        exec(compile(check, "check", "exec"), namespace)


# --- the source notebooks in a real kernel, as an instructor validates them --------------------


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_scores_full_points_in_a_kernel(assignment, monkeypatch):
    """Run top to bottom in a kernel, every test cell's hidden part ends in its points, as a
    number nbgrader reads as the cell's score, and nothing reaches stderr (which nbgrader scores 0)."""
    from nbclient import NotebookClient
    from nbgrader import utils

    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The speed checks of ch07 are defined under single-threaded BLAS, as the sandbox runs them
    # (autograder.incell.check does not limit threads itself: reported to the grader's owner).
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    nb = nbformat.read(str(build_exercises.path_of(assignment)), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "exercises" / assignment)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            points = float(cell.metadata.nbgrader.points)
            assert utils.determine_grade(cell, None) == (points, points), cell.metadata.nbgrader.grade_id
            assert not [o for o in cell.outputs if o.get("name") == "stderr"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_value_error_a_task_promises_is_graded(assignment):
    """A task that says some arguments are a ValueError has hidden cases of such arguments, and
    only such tasks do: the notebook's promises and the grade cannot drift apart."""
    from autograder.cases import build_cases
    invalid = {c.function for c in build_cases(assignment, 0) if c.kind == "invalid"}
    promised = {g.name for g in load(assignment).graded if "ValueError" in g.task}
    assert invalid == promised


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_raises_value_error_on_every_invalid_case(assignment):
    import solutions
    from autograder.cases import build_cases
    for case in (c for c in build_cases(assignment, 0) if c.kind == "invalid"):
        with pytest.raises(ValueError):
            getattr(solutions, case.function)(*case.args, **case.kwargs)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_signatures_and_docstrings_come_from_the_reference_not_from_a_copy(assignment):
    """Only a task without a reference function (fine_tune) states its own signature and docstring."""
    import solutions
    for graded in load(assignment).graded:
        if hasattr(solutions, graded.name):
            assert not graded.own_signature and not graded.own_doc, graded.name
        else:
            assert graded.own_signature.startswith(f"{graded.name}(") and graded.own_doc, graded.name
