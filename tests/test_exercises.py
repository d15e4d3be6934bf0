"""The exercise notebooks: built from their spec, fixtures fresh, cells shaped as nbgrader and
the grader expect, visible checks that pass on the reference and explain what is wrong."""
import ast
import inspect
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
    """Is exercises/<id>/<id>.ipynb up to date? (python scripts/regenerate.py rebuilds it)"""
    assert build_exercises.path_of(assignment).read_text() == build_exercises.render(build_exercises.build(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_fixtures_and_data_are_what_the_scripts_compute(assignment):
    """Are fixtures.npz and data files up to date with solutions/? (python scripts/regenerate.py)"""
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
    """Every test cell's visible part passes when the functions are the reference, and then says
    what the hidden tests of that function cover: the sentence built from its hidden grid."""
    namespace = setup_namespace(assignment, monkeypatch)
    for name, cell in nbgrader_cells(assignment, "solution").items():
        exec(compile(source(cell), name, "exec"), namespace)
    for grade_id, cell in nbgrader_cells(assignment, "grade").items():
        exec(compile(HIDDEN.sub("", source(cell)), grade_id, "exec"), namespace)
        name = grade_id.removeprefix("test_")
        task = next(t for t in load(assignment).graded if t.name == name)
        count = (f"all {len(task.examples)} visible checks" if len(task.examples) > 1 else
                 "its visible check" if task.examples else r"(all \d+ visible checks|its visible check)")
        covered = make_fixtures.hidden_coverage(assignment, task)
        assert re.search(rf"^{name}: {count} passed\. {re.escape(covered)}$", capsys.readouterr().out, re.M), grade_id


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


# A task text's words that promise a situation, and the situation a hidden case must exercise.
PROMISES = {r"\bties\b|\btied\b|\btie\b": "ties", r"overlap": "overlap", r"float dtype|float32": "float32",
            r"\bdilation\b": "dilation", r"left over|leftover|dropped": "leftover", r"\bNCHW\b": "NCHW"}
# Where the words are no promise of that situation, or the plain case already is it.
NOT_PROMISED = {
    ("max_unpool", "overlap"): "windows must NOT overlap: its invalid case grades that",
    ("update_running_stats", "NCHW"): "NCHW only defines n; the function gets statistics, not images",
    ("conv_transpose_forward", "overlap"): "kernel copies overlap whenever stride < kernel: checked below",
    ("col2im", "overlap"): "windows overlap whenever stride < kernel: checked below",
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_situation_a_task_text_promises_has_a_hidden_case(assignment):
    """Ties, overlapping windows, float32, dilation, leftover rows, NCHW: when the text says the
    function handles it, some hidden case exercises it."""
    from autograder.cases import build_cases
    cases = build_cases(assignment, 0)
    for task in load(assignment).graded:
        exercised = {s for c in cases if c.function == task.name for s in c.situations}
        for words, situation in PROMISES.items():
            if re.search(words, task.task, re.I) and (task.name, situation) not in NOT_PROMISED:
                assert situation in exercised, f"{task.name}'s text promises {situation}; its cases: {exercised}"


@pytest.mark.parametrize("function", ["conv_transpose_forward", "col2im"])
def test_the_scatter_functions_have_cases_where_windows_overlap(function):
    """Their texts say overlapping contributions add up: stride < kernel in some case."""
    from autograder.cases import build_cases
    assignment = next(a for a in ASSIGNMENTS if function in POINTS[a])
    cases = [c for c in build_cases(assignment, 0, {function}) if c.kind == "value"]
    kernels = [c.args[1].shape[2:] if function == "conv_transpose_forward" else c.args[2:4] for c in cases]
    assert any(c.kwargs["stride"] < min(k) for c, k in zip(cases, kernels))


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


# --- what the visible examples cover (issue 12) --------------------------------------------------


def visible_args(task):
    """[(example, its arguments)] of a task's visible examples, built as the fixtures build them
    (the shapes do not depend on the generator's seed)."""
    return [(example, tuple(example.args(np.random.default_rng(0)))) for example in task.examples]


def _planes(task, args):
    """(number of axes, last two sizes) of every argument with two trailing axes: arrays of two
    or more dimensions ((H, W) of an NCHW array, (N, D) of a matrix) and shapes (in_shape, x_shape)."""
    planes = []
    for name, value in zip(task.parameters, args):
        if isinstance(value, np.ndarray) and value.ndim >= 2:
            planes.append((value.ndim, tuple(value.shape[-2:])))
        elif name.endswith("shape") and len(value) >= 2:
            planes.append((len(value), tuple(value[-2:])))
    return planes


# Graded functions with no two axes to make unequal, and why.
NOT_SQUARE_WHY = {
    "conv_param_count": "its inputs are two channel counts and one kernel size k: the kernel is k x k by its "
                        "signature, and the count does not depend on the image",
    "conv_output_size": "it sizes one axis at a time: n, k, stride, pad and dilation are ints",
    "same_padding": "it pads one axis: k and dilation are ints",
    "corr1d": "its signal and kernel are 1-D",
    "receptive_field": "its input is a list of (kernel, stride) pairs of one axis",
    "update_running_stats": "its inputs are per-feature vectors (D,) and a count n",
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_a_non_square_visible_example(assignment):
    """A code that swaps H and W (or N and D) passes square examples: every function shows one
    input whose two trailing axes differ, in the arguments with the most axes (H != W of an NCHW
    input, not merely of a kernel). Exceptions are named with the reason."""
    for task in load(assignment).graded:
        if task.name == "numerical_gradient":    # custom visible check, on x of shape (2, 3)
            assert "standard_normal((2, 3))" in task.visible
            continue
        if task.name == "fine_tune":              # graded by outcome, on the task's fixed 8x8 digits
            assert task.visible and not task.examples
            continue
        planes = [plane for example, args in visible_args(task) if not example.invalid
                  for plane in _planes(task, args)]
        if task.name in NOT_SQUARE_WHY:
            assert not planes, f"{task.name} has 2-D inputs after all: give it a non-square example"
            continue
        assert planes, f"{task.name}: no visible example with a 2-D input; if none can have one, say why"
        most = max(ndim for ndim, _ in planes)
        assert any(h != w for ndim, (h, w) in planes if ndim == most), \
            f"{task.name}: every visible {most}-D input is square in its last two axes"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_value_error_a_task_promises_has_a_visible_invalid_example(assignment):
    """The ValueErrors a task's text promises are those its hidden invalid calls test
    (test_every_value_error_a_task_promises_is_graded); each of them also has a visible example,
    with the same reason, so a student sees the argument check fail before submitting."""
    for task in load(assignment).graded:
        visible = sorted(example.invalid for example in task.examples if example.invalid)
        hidden = sorted(why for why, _, _ in (task.invalid(np.random.default_rng(0)) if task.invalid else []))
        assert visible == hidden, f"{task.name}: visible invalid examples {visible}, hidden {hidden}"
        assert bool(visible) == ("ValueError" in task.task), task.name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_raises_value_error_on_every_visible_invalid_example(assignment):
    import solutions
    for task in load(assignment).graded:
        for example, args in visible_args(task):
            if example.invalid:
                with pytest.raises(ValueError):
                    getattr(solutions, task.name)(*args)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_invalid_examples_are_in_the_fixtures_as_calls_that_must_raise(assignment):
    with np.load(ROOT / "exercises" / assignment / "fixtures.npz") as stored:
        cases = json.loads(str(stored["__cases__"]))
    stored = {(c["function"], c["raises_why"]) for c in cases if c.get("raises") == "ValueError"}
    assert stored == {(task.name, example.invalid) for task in load(assignment).graded
                      for example in task.examples if example.invalid}


def test_a_visible_check_fails_a_function_that_returns_on_invalid_arguments(monkeypatch):
    namespace = setup_namespace("ch02_convolution", monkeypatch)
    reference = solution_function("ch02_convolution", "corr2d", namespace)

    def corr2d(x, k):
        if k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]:
            return np.zeros((0, 0))
        return reference(x, k)

    assert ("corr2d on a 3x3 image and a 4x2 kernel returned instead of raising ValueError: these arguments "
            "are invalid (the kernel is larger than the image)") in visible_failure(corr2d, namespace)


def window_axes(task, args):
    """[(n, k, stride, pad)] per spatial axis of one call of a function with a window and a stride:
    the axis's size, the window's extent on it (dilated), the stride and the padding."""
    import solutions
    bound = inspect.signature(getattr(solutions, task.name)).bind(*args)
    bound.apply_defaults()
    a = bound.arguments
    if "in_shape" in a:
        sizes = a["in_shape"][1:]
    elif "x_shape" in a:
        sizes = a["x_shape"][2:]
    elif "x" in a:
        sizes = a["x"].shape[2:]
    else:
        sizes = (a["n"],)
    if "pool" in a:
        windows = (a["pool"], a["pool"])
    elif "HH" in a:
        windows = (a["HH"], a["WW"])
    elif "w" in a:
        windows = a["w"].shape[2:]
    else:
        windows = (a.get("dilation", 1) * (a["k"] - 1) + 1,) * len(sizes)
    return [(n, k, a["stride"], a.get("pad", 0)) for n, k in zip(sizes, windows)]


# Upsampling layers: their common wrong output size is n * stride, the right one below.
UPSAMPLING = {"conv_transpose_forward"}
# Windowed functions where the wrong formula cannot fail, and why.
NO_WINDOW_EXAMPLE_WHY = {
    "max_unpool": "its windows must tile (stride == pool), and then H // stride == (H - pool) // stride + 1 "
                  "for every H",
}


def test_max_unpool_needs_no_window_size_example_because_the_two_formulas_agree_when_stride_is_pool():
    assert all(n // p == (n - p) // p + 1 for p in range(1, 8) for n in range(p, 60))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_windowed_functions_have_a_visible_example_where_h_floor_stride_is_the_wrong_size(assignment):
    """Every function with a window and a stride (pooling, conv layers, im2col, output sizes) has
    a visible example at stride > 1 where the common wrong output size H // stride differs from
    (H + 2*pad - k) // stride + 1 on some axis (for an upsampling layer: H * stride against
    (H - 1) * stride - 2*pad + k), so that code assuming windows tile the input fails visibly."""
    for task in load(assignment).graded:
        if "stride" not in task.parameters:
            continue
        if task.name in NO_WINDOW_EXAMPLE_WHY:
            continue
        distinguishing = []
        for example, args in visible_args(task):
            if example.invalid:
                continue
            for n, k, stride, pad in window_axes(task, args):
                if task.name in UPSAMPLING:
                    wrong, right = n * stride, (n - 1) * stride - 2 * pad + k
                else:
                    wrong, right = n // stride, (n + 2 * pad - k) // stride + 1
                if stride > 1 and wrong != right:
                    distinguishing.append(example.description)
        assert distinguishing, f"{task.name}: no visible example where the output-size shortcut fails"


# --- what the pass message says about the hidden tests --------------------------------------------


def stored_coverage(assignment):
    with np.load(ROOT / "exercises" / assignment / "fixtures.npz") as stored:
        return json.loads(str(stored["__hidden__"]))


def test_every_situation_of_a_hidden_grid_has_words_in_the_pass_message():
    from autograder.cases import build_cases
    situations = {s for assignment in ASSIGNMENTS for case in build_cases(assignment, 0)
                  if case.kind == "value" for s in case.situations}
    assert situations <= set(make_fixtures.SITUATIONS), sorted(situations - set(make_fixtures.SITUATIONS))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_pass_message_says_what_the_hidden_grid_of_that_function_covers(assignment):
    """The fixtures store, per function, a sentence built from its hidden grid: how many cases,
    the situations they exercise (float32 only where a case is float32), the argument checks
    with their reasons (only where there are some) and the speed test; the notebook prints it."""
    from autograder.cases import build_cases
    coverage = stored_coverage(assignment)
    cases = build_cases(assignment, 0)
    assert set(coverage) == {task.name for task in load(assignment).graded}
    for task in load(assignment).graded:
        sentence = coverage[task.name]
        mine = {kind: [c for c in cases if c.function == task.name and c.kind == kind]
                for kind in ("value", "invalid", "speed", "outcome")}
        if mine["outcome"]:
            assert sentence.startswith(f"The hidden test calls {task.name}("), sentence
            continue
        situations = {s for case in mine["value"] for s in case.situations}
        assert f"{len(mine['value'])} more case" in sentence, sentence
        for situation in situations:
            assert make_fixtures.SITUATIONS[situation] in sentence, (task.name, situation)
        assert ("float32" in sentence) == ("float32" in situations), task.name
        assert ("argument check" in sentence) == bool(mine["invalid"]), task.name
        if mine["invalid"]:
            count = len(mine["invalid"])
            assert f"{count} argument check{'s' * (count > 1)} (" in sentence, sentence
            assert all(case.check.why in sentence for case in mine["invalid"]), sentence
        assert ("speed test" in sentence) == bool(mine["speed"]), task.name
        for case in mine["speed"]:
            assert f"at least {case.check.ratio:g}x" in sentence and "x (8, 16, 16, 16), w (16, 16, 3, 3)" in sentence


def test_the_pass_message_of_max_pool_backward(monkeypatch, capsys):
    namespace = setup_namespace("ch04_pooling", monkeypatch)
    namespace["check_against_fixtures"](solution_function("ch04_pooling", "max_pool_backward", namespace))
    assert capsys.readouterr().out == (
        "max_pool_backward: all 4 visible checks passed. The hidden tests run 6 more cases (tied maxima, "
        "overlapping windows, leftover rows or columns, float32).\n")


def test_the_pass_message_names_argument_checks_and_the_speed_test():
    assert stored_coverage("ch04_pooling")["max_unpool"] == (
        "The hidden tests run 4 more cases (tied maxima, leftover rows or columns, float32) and 1 argument "
        "check (stride != pool).")
    assert stored_coverage("ch07_im2col")["conv_forward_im2col"] == (
        "The hidden tests run 5 more cases (stride > 1, padding, float32) and a speed test (at least 10x as "
        "fast as the grader's loop conv_forward_per_value, best of 3, on x (8, 16, 16, 16), "
        "w (16, 16, 3, 3), stride 1, pad 1).")
    assert "argument" not in stored_coverage("ch04_pooling")["max_pool_forward"]
    assert "float32" not in stored_coverage("ch01_motivation")["dense_param_count"]


# --- the speed check of the im2col conv functions -------------------------------------------------

SPEED_FUNCTIONS = ("conv_forward_im2col", "conv_backward_im2col")


def speed_check_namespace(name, monkeypatch, student=None):
    """The test cell of `name` run up to its speed check (defined, not called), after the
    fixture checks of `student` (default: the reference)."""
    namespace = setup_namespace("ch07_im2col", monkeypatch)
    for function in ("im2col", "col2im", name):
        solution_function("ch07_im2col", function, namespace)
    if student is not None:
        namespace[name] = student
    check = next(t for t in load("ch07_im2col").graded if t.name == name).visible
    body, call = check.rstrip().rsplit("\n", 1)
    assert call == f"_check_speed_{name}()"
    exec(compile(body, name, "exec"), namespace)
    return namespace


def test_the_speed_checks_loop_does_the_work_of_the_graders_forward_baseline():
    """The loop the notebook times is the grader's forward baseline (autograder/baselines.py) at
    stride 1: same result, one numpy operation per output value."""
    from autograder.baselines import conv_forward_per_value
    from tasks.ch07_im2col import FORWARD_LOOP
    namespace = {"np": np}
    exec(FORWARD_LOOP, namespace)
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    np.testing.assert_allclose(namespace["_loop_conv_forward"](x, w, b, pad=1),
                               conv_forward_per_value(x, w, b, stride=1, pad=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_release_ships_a_loop_that_computes_a_conv_layers_gradients(assignment):
    """The backward speed check estimates its baseline from the forward loop: a backward loop in
    a public release would be most of chapter 6's conv_backward_naive."""
    for cell in notebook(assignment)["cells"]:
        text = source(cell)
        assert not re.search(r"def _loop_conv_backward|grad_w\[f\] \+=", text), f"{assignment}: {text[:80]}"


@pytest.mark.parametrize("name", SPEED_FUNCTIONS)
def test_the_speed_check_runs_the_fixture_checks_first_and_states_the_rule(name, monkeypatch, capsys):
    """On the reference: the fixture checks' message, then one sentence with the ratio and the
    rule. (On a machine as busy as a test run it may say it is below the rule; it must not fail.)"""
    from tasks.ch07_im2col import SPEED_RATIO, SPEED_W, SPEED_X
    task = next(t for t in load("ch07_im2col").graded if t.name == name)
    assert task.visible.index(f"check_against_fixtures({name})") < task.visible.index(f"_speed_ratio_{name}()")
    assert task.examples, "the fixture checks need visible examples"
    namespace = speed_check_namespace(name, monkeypatch)
    namespace[f"_check_speed_{name}"]()
    printed = capsys.readouterr().out
    assert re.search(rf"^{name}: all {len(task.examples)} visible checks passed\. ", printed, re.M)
    loop = "loop" if name == "conv_forward_im2col" else r"backward loop \(estimated as twice the forward loop above\)"
    about = "" if name == "conv_forward_im2col" else "about "
    assert re.search(rf"^{name} is {about}\d+\.\dx faster than the {loop} here \(the grader requires {SPEED_RATIO:g}x on "
                     rf"x {re.escape(str(SPEED_X))}, w {re.escape(str(SPEED_W))}\)(\.|: below it here)", printed,
                     re.M), printed


def test_a_wrong_result_fails_the_speed_cells_fixture_checks_before_any_timing(monkeypatch):
    namespace = setup_namespace("ch07_im2col", monkeypatch)
    reference = solution_function("ch07_im2col", "conv_forward_im2col", namespace)

    def conv_forward_im2col(x, w, b, stride=1, pad=0):
        return reference(x, w[:, :, ::-1, ::-1], b, stride, pad)

    namespace["conv_forward_im2col"] = conv_forward_im2col
    check = load("ch07_im2col").graded[2].visible
    with pytest.raises(AssertionError, match="conv_forward_im2col on x .* is wrong in"):
        exec(compile(check, "check", "exec"), namespace)


def test_the_speed_check_fails_a_per_value_loop_clearly_below_the_rule(monkeypatch):
    """The grader's own baseline as the student's function: right values, about 1x, every time."""
    from autograder.baselines import conv_forward_per_value

    def conv_forward_im2col(x, w, b, stride=1, pad=0):
        return conv_forward_per_value(x, w, b, stride, pad)

    namespace = speed_check_namespace("conv_forward_im2col", monkeypatch, conv_forward_im2col)
    with pytest.raises(AssertionError, match=r"is \d+\.\dx faster than the loop here \(the grader requires 10x "
                                             r"on .*\): clearly below it \(this check fails below 5x, half the "
                                             r"rule, at the best of 5 rounds of 3 timings\)"):
        namespace["_check_speed_conv_forward_im2col"]()


@pytest.mark.parametrize("ratios, fails", [
    ([12.0], False),                            # above the rule: timed once
    ([3.0, 6.0, 11.0], False),                  # a busy machine: timed again until above the rule
    ([7.0, 6.0, 7.5, 6.5, 7.0], False),         # below the rule, not clearly: reported, not failed
    ([3.0, 4.0, 2.0, 4.5, 3.0], True),          # clearly below every time: failed
])
def test_the_speed_check_fails_only_when_clearly_below_the_rule_every_time(ratios, fails, monkeypatch, capsys):
    namespace = speed_check_namespace("conv_backward_im2col", monkeypatch)
    capsys.readouterr()
    timings = iter(ratios)
    namespace["_speed_ratio_conv_backward_im2col"] = lambda: next(timings)
    best = max(ratios)
    if fails:
        with pytest.raises(AssertionError, match=rf"is about {best:.1f}x faster .*: clearly below it"):
            namespace["_check_speed_conv_backward_im2col"]()
    else:
        namespace["_check_speed_conv_backward_im2col"]()
        printed = capsys.readouterr().out
        assert (f"conv_backward_im2col is about {best:.1f}x faster than the backward loop (estimated as twice "
                f"the forward loop above) here") in printed
        assert ("but timings vary on a busy machine, so this check fails only below 5x" in printed) == (best < 10)
    assert next(timings, None) is None, "timed again only while below the rule"


def test_the_speed_check_leaves_timing_to_the_grader_when_nbgrader_autogrades(monkeypatch, capsys):
    namespace = speed_check_namespace("conv_forward_im2col", monkeypatch)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    capsys.readouterr()
    namespace["_speed_ratio_conv_forward_im2col"] = lambda: pytest.fail("timed under nbgrader")
    namespace["_check_speed_conv_forward_im2col"]()
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name", SPEED_FUNCTIONS)
def test_the_speed_checks_advice_is_the_graders(name):
    task = next(t for t in load("ch07_im2col").graded if t.name == name)
    words = " ".join(re.findall(r"'([^']*)'", task.visible.split("advice = ", 1)[1].split("\n    try:")[0]))
    assert words.replace("  ", " ") == task.mistakes["too_slow"]
