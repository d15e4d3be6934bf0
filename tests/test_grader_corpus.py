"""Does the autograder grade right? Checked on a corpus of submissions (tests/corpus/).

The corpus itself is checked first, without the grader: the correct submissions agree with
solutions/ (an independent second implementation of every graded function), every mutant
really is wrong, the stubs raise, the notebook builder and the bundled examples are right.
Then the grader (marked `sandbox`): full marks for correct work, 0 for stubs, each mutant
loses points on its own function only and is named by its catalogue id (the results' field,
never read from the message), some keep the share of points their mistake leaves, and each
faulty submission costs only what it should while the batch goes on.
"""
import copy
import inspect
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import solutions
from autograder import outcome
from autograder.baselines import conv_backward_per_value, conv_forward_per_value
from autograder.batch import grade_paths
from autograder.cases import build_cases
from autograder.diagnose import GENERIC_IDS
from autograder.grading import rebuild
from autograder.notebook import collect
from autograder.points import POINTS
from autograder.sandbox import Limits
from tasks import load
from corpus.build import ASSIGNMENTS, build_notebook, callers, correct_cells, stub_cells
from corpus.faulty import ASSIGNMENT as FAULTY_ASSIGNMENT
from corpus.faulty import FAULTY, _cell_source
from corpus.make_examples import EXAMPLES, make_examples
from corpus.mutants import all_mutants, mutant_cells
from corpus.run import exec_cells

REPO = Path(__file__).resolve().parents[1]
MUTANTS = all_mutants()
# graded by what they achieve (autograder/outcome.py), not by comparison with solutions/
OUTCOME_GRADED = {("ch08_fine_tuning", "fine_tune")}
FUNCTIONS = [(a, f) for a in ASSIGNMENTS for f in POINTS[a] if (a, f) not in OUTCOME_GRADED]

# The mistake catalogue: the grader's generic ids and every id a task record names. Every id has a mutant.
CATALOGUE = set(GENERIC_IDS) | {mistake for a in ASSIGNMENTS for task in load(a).graded for mistake in task.mistakes}


def assert_same(got, expected):
    """Same structure, types, shapes and dtypes; values within float tolerance."""
    if isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected), f"{got!r} vs {expected!r}"
        for g, e in zip(got, expected):
            assert_same(g, e)
    elif isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), f"got {type(got).__name__}, expected an array"
        assert (got.shape, got.dtype) == (expected.shape, expected.dtype)
        tol = 1e-4 if expected.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    else:
        assert type(got) is type(expected) and got == expected, f"{got!r} vs {expected!r}"


def calls(function, seed=7):
    """Argument tuples that compare two implementations of `function`: the arguments of its
    task's hidden grid (keywords bound by position), so they cover what the task record says
    students get wrong, and a new function needs no table of its own here."""
    if function == "fine_tune":  # the task's own inputs: the pretrained network and the target split
        return [outcome.task_inputs()]
    assignment = next(a for a in ASSIGNMENTS if function in POINTS[a])
    signature = inspect.signature(getattr(solutions, function))
    return [tuple(rebuild(a) for a in signature.bind(*case.args, **case.kwargs).args)
            for case in build_cases(assignment, seed, {function}) if case.kind == "value"]


# ---------------------------------------------------------------- the corpus, without the grader

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_submission_has_one_cell_per_graded_function(assignment):
    assert list(correct_cells(assignment)) == list(POINTS[assignment])


@pytest.mark.parametrize("assignment,function", FUNCTIONS)
def test_correct_submission_agrees_with_solutions(assignment, function):
    student = exec_cells(correct_cells(assignment))[function]
    for args in calls(function):
        assert_same(student(*copy.deepcopy(args)), getattr(solutions, function)(*copy.deepcopy(args)))


def test_correct_fine_tune_clears_the_threshold_outside_the_grader():
    """The corpus' own numpy fine-tuning, run here, reaches the held-out accuracy the task asks."""
    fine_tune = exec_cells(correct_cells("ch08_fine_tuning"))["fine_tune"]
    with threadpool_limits(1):  # one BLAS thread, as in the sandbox
        params = fine_tune(*outcome.task_inputs())
    accuracy, message = outcome.evaluate(params)
    assert accuracy is not None, message
    assert accuracy >= outcome.THRESHOLD + 0.03, message


def test_correct_fine_tune_leaves_its_inputs_alone_and_returns_new_arrays():
    params, x_train, y_train = outcome.task_inputs()
    before = {k: v.copy() for k, v in params.items()}
    with threadpool_limits(1):
        returned = exec_cells(correct_cells("ch08_fine_tuning"))["fine_tune"](params, x_train, y_train)
    assert all(np.array_equal(params[k], before[k]) for k in before)
    assert {k: v.shape for k, v in returned.items()} == outcome.PARAM_SHAPES
    assert not any(np.shares_memory(returned[k], params[k]) for k in params)


def _best_of_3(fn, *args):
    # one BLAS thread: on a loaded 2-core machine OpenBLAS threads wait on each other for ms
    with threadpool_limits(1):
        return _best_of(3, fn, *args)


def _best_of(repeat, fn, *args):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def test_correct_conv_forward_im2col_is_10x_faster_than_per_value_baseline(rng):
    x, w, b = rng.standard_normal((8, 16, 16, 16)), rng.standard_normal((16, 16, 3, 3)), rng.standard_normal(16)
    fast = exec_cells(correct_cells("ch07_im2col"))["conv_forward_im2col"]
    ratio = _best_of_3(conv_forward_per_value, x, w, b, 1, 1) / _best_of_3(fast, x, w, b, 1, 1)
    assert ratio >= 10, f"only {ratio:.1f}x faster"


def test_correct_conv_backward_im2col_is_10x_faster_than_per_value_baseline(rng):
    x, w, b = rng.standard_normal((8, 16, 16, 16)), rng.standard_normal((16, 16, 3, 3)), rng.standard_normal(16)
    dout = rng.standard_normal((8, 16, 16, 16))
    fast = exec_cells(correct_cells("ch07_im2col"))["conv_backward_im2col"]
    ratio = _best_of_3(conv_backward_per_value, dout, x, w, b, 1, 1) / _best_of_3(fast, dout, x, w, b, 1, 1)
    assert ratio >= 10, f"only {ratio:.1f}x faster"


def test_every_catalogue_id_has_a_mutant():
    assert set(CATALOGUE) - {cid for _, cid, _ in MUTANTS.values()} == set()


def test_mutant_names_are_unique_across_assignments():
    names = [name for _, name in MUTANTS]
    assert len(names) == len(set(names))


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang


def _behaves_differently(function, student, reference):
    """Why the mutant is observably wrong on the corpus' calls, or None if it is not."""
    for args in calls(function):
        given = copy.deepcopy(args)
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(2)
        try:
            got = student(*given)
        except _Hang:
            return "does not finish"
        except Exception as error:  # noqa: BLE001  (any exception is a difference)
            return f"raises {type(error).__name__}"
        finally:
            signal.alarm(0)
        for before, after in zip(args, given):
            if isinstance(before, np.ndarray) and not np.array_equal(before, after):
                return "modifies its input"
        try:
            assert_same(got, reference(*copy.deepcopy(args)))
        except AssertionError:
            return "returns something else"
    return None


@pytest.mark.parametrize("assignment,name", sorted(MUTANTS))
def test_mutant_is_observably_wrong_outside_the_grader(assignment, name):
    function, catalogue_id, _ = MUTANTS[assignment, name]
    namespace = exec_cells(mutant_cells(assignment, name))
    if catalogue_id == "missing_function":
        assert function not in namespace
    elif catalogue_id == "too_slow":
        x, w, b = np.ones((2, 4, 12, 12)), np.ones((4, 4, 3, 3)), np.ones(4)
        slow = namespace[function]
        fast = exec_cells(correct_cells(assignment))[function]
        args = (x, w, b, 1, 1) if function == "conv_forward_im2col" else (np.ones((2, 4, 12, 12)), x, w, b, 1, 1)
        assert _best_of_3(slow, *args) > 5 * _best_of_3(fast, *args)
    elif catalogue_id == "no_value_error":
        with pytest.raises(ValueError):
            solutions.conv_output_size(3, 5)
        assert namespace[function](3, 5) == -1, "the mutant returns what it should refuse"
    elif (assignment, function) in OUTCOME_GRADED:
        with threadpool_limits(1):
            accuracy, message = outcome.evaluate(namespace[function](*calls(function)[0]))
        assert accuracy is None or accuracy < outcome.THRESHOLD, message
    else:
        assert _behaves_differently(function, namespace[function], getattr(solutions, function))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stubs_keep_signatures_and_raise_not_implemented(assignment):
    namespace = exec_cells(stub_cells(assignment))
    for function in POINTS[assignment]:
        with pytest.raises(NotImplementedError):
            namespace[function](*calls(function)[0])


def test_reads_course_code_cheat_works_when_not_sandboxed():
    """The cheating cell is a real threat: run here, with the course tree visible, it succeeds."""
    namespace = exec_cells({"conv_output_size": _cell_source("reads_course_code")})
    assert namespace["conv_output_size"](10, 3, 2, 1) == solutions.conv_output_size(10, 3, 2, 1)


def test_built_notebook_is_valid_nbformat_with_nbgrader_solution_cells(tmp_path):
    path = build_notebook(correct_cells("ch02_convolution"), "ch02_convolution", tmp_path / "nb.ipynb")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    solution = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert [c.metadata.nbgrader.grade_id for c in solution] == list(POINTS["ch02_convolution"])
    assert all(c.metadata.nbgrader == {"solution": True, "grade": False, "locked": False,
                                        "grade_id": c.metadata.nbgrader.grade_id, "schema_version": 3}
               for c in solution)
    assert nb.cells[1].source == "import numpy as np\n"


def _template(path):
    """A small source notebook: markdown, setup, two solution cells (one helper), hidden tests."""
    def code(source, nbgrader=None):
        cell = nbformat.v4.new_code_cell(source)
        if nbgrader:
            cell.metadata["nbgrader"] = dict(nbgrader, schema_version=3)
        return cell
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Chapter 3"),
        code("import numpy as np"),
        code('def same_padding(k, dilation=1):\n    """Doc."""\n    ### BEGIN SOLUTION\n'
             '    from solutions import same_padding as ref\n    return ref(k, dilation)\n    ### END SOLUTION',
             {"solution": True, "grade": False, "locked": False, "grade_id": "same_padding"}),
        code("assert same_padding(3) == (1, 1)\n### BEGIN HIDDEN TESTS\nassert same_padding(4) == (1, 2)\n"
             "### END HIDDEN TESTS", {"solution": False, "grade": True, "locked": True, "points": 5,
                                      "grade_id": "test_same_padding"}),
        code('def helper():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION',
             {"solution": True, "grade": False, "locked": False, "grade_id": "helper"}),
    ])
    nbformat.write(nb, path)
    return path


def test_template_gets_the_given_solution_cells_and_keeps_the_rest(tmp_path):
    template = _template(tmp_path / "source.ipynb")
    cells = {"same_padding": correct_cells("ch03_padding_stride")["same_padding"]}
    nb = nbformat.read(build_notebook(cells, "ch03_padding_stride", tmp_path / "out.ipynb", template), as_version=4)
    original = nbformat.read(template, as_version=4)
    assert nb.cells[2].source == cells["same_padding"]
    assert [c.metadata for c in nb.cells] == [c.metadata for c in original.cells]
    assert [c.source for c in nb.cells[:2]] == [c.source for c in original.cells[:2]]


def test_template_is_released_hidden_tests_and_other_solutions_stripped(tmp_path):
    nb = nbformat.read(build_notebook({}, "ch03_padding_stride", tmp_path / "out.ipynb",
                                      _template(tmp_path / "source.ipynb")), as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "HIDDEN" not in text and "BEGIN SOLUTION" not in text and "solutions" not in text
    assert nb.cells[4].source == "def helper():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    assert nb.cells[3].source == "assert same_padding(3) == (1, 1)\n"


def test_template_drops_a_cell_given_as_none(tmp_path):
    nb = nbformat.read(build_notebook({"same_padding": None}, "ch03_padding_stride", tmp_path / "out.ipynb",
                                      _template(tmp_path / "source.ipynb")), as_version=4)
    assert "same_padding" not in [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_template_without_the_named_solution_cell_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="corr1d"):
        build_notebook({"corr1d": "pass\n"}, "ch03_padding_stride", tmp_path / "out.ipynb",
                       _template(tmp_path / "source.ipynb"))


def test_bundled_examples_are_up_to_date(tmp_path):
    fresh = make_examples(out=tmp_path / "submitted")
    committed = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*.ipynb"))
    assert committed == sorted(p.relative_to(tmp_path / "submitted") for p in fresh), \
        "run python scripts/regenerate.py"
    for relative in committed:
        assert json.loads((EXAMPLES / relative).read_text()) == json.loads((tmp_path / "submitted" / relative).read_text()), \
            f"{relative} is stale: run python scripts/regenerate.py"


# ---------------------------------------------------------------- the grader on the corpus

def _grade_batch(root, *extra):
    """Grade every notebook under root with the CLI (--jobs 2); return (process, results)."""
    out = root.parent / f"{root.name}-out"
    out.mkdir()
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", str(root), "--out", str(out / "grades.csv"),
                              "--json", str(out / "results.json"), "--jobs", "2", *extra],
                             capture_output=True, text=True, cwd=out, timeout=1800)
    results = json.loads((out / "results.json").read_text()) if process.returncode == 0 else None
    return process, results


def _by_submission(results):
    """{(student, assignment): submission dict with by_function {f: (points, max, [failed messages])}
    and mistakes {f: [catalogue ids of its failed tests]}}."""
    table = {}
    for submission in results["submissions"]:
        functions, mistakes = {}, {}
        for test in submission["tests"]:
            points, max_points, messages = functions.get(test["function"], (0.0, 0.0, []))
            functions[test["function"]] = (points + test["points"], max_points + test["max_points"],
                                           messages + ([test["message"]] if not test["passed"] else []))
            mistakes.setdefault(test["function"], []).extend(test.get("mistakes", []))
        submission["by_function"], submission["mistakes"] = functions, mistakes
        table[submission["student"], submission["assignment"]] = submission
    return table


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """correct, stub and every mutant, in nbgrader's layout, graded in one batch (grade_paths,
    2 at a time, 5 s per call): each SubmissionResult as the grading process sent it back."""
    root = tmp_path_factory.mktemp("corpus") / "submitted"
    for assignment in ASSIGNMENTS:
        build_notebook(correct_cells(assignment), assignment, root / "correct" / assignment / f"{assignment}.ipynb")
        build_notebook(stub_cells(assignment), assignment, root / "stub" / assignment / f"{assignment}.ipynb")
    for assignment, name in MUTANTS:
        build_notebook(mutant_cells(assignment, name), assignment, root / name / assignment / f"{assignment}.ipynb")
    start = time.perf_counter()
    results = list(grade_paths(collect([root]), jobs=2, limits=Limits(call_seconds=5.0)))
    print(f"graded {len(results)} notebooks in {time.perf_counter() - start:.1f} s")
    return _by_submission({"submissions": [r.to_dict() for r in results]})


def _lost(submission):
    return {f: (p, m, msgs) for f, (p, m, msgs) in submission["by_function"].items() if p < m - 1e-9}


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_submission_scores_full_marks(graded, assignment):
    submission = graded["correct", assignment]
    assert _lost(submission) == {}
    assert submission["score"] == pytest.approx(sum(POINTS[assignment].values()))


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_submission_scores_zero(graded, assignment):
    submission = graded["stub", assignment]
    assert submission["score"] == 0
    assert submission["max_score"] == pytest.approx(sum(POINTS[assignment].values()))


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", sorted(MUTANTS))
def test_mutant_loses_points_on_its_own_function_only(graded, assignment, name):
    """Its function loses points; the others keep full marks, except those that call it."""
    function = MUTANTS[assignment, name][0]
    lost = set(_lost(graded[name, assignment]))
    assert function in lost
    assert lost - {function} <= callers(assignment)[function], lost


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", sorted(MUTANTS))
def test_mutant_is_named_by_its_catalogue_id(graded, assignment, name):
    function, catalogue_id, _ = MUTANTS[assignment, name]
    submission = graded[name, assignment]
    assert catalogue_id in submission["mistakes"].get(function, []), submission["by_function"][function][2][:3]


# What some mutants must keep of their function's points, and words every message of theirs
# holds: partial credit follows what the mistake costs, and the hint is the function's own.
PROMISES = {
    # dx and dw right, db a mean: each case keeps the two thirds of dx and dw
    ("ch06_backprop", "conv_backward_db_mean"): (2 / 3, "db: [db_mean]"),
    # the same in five value cases; the speed case credits no speed for a wrong result
    ("ch07_im2col", "conv_backward_im2col_db_mean"): (5 * 2 / 3 / 6, "db: [db_mean]"),
    ("ch06_backprop", "transpose_output_one_short"): (0.0, "(H-1)*stride - 2*pad + HH"),
    ("ch04_pooling", "max_pool_forgets_last_window"): (0.0, "(H - pool) // stride + 1"),
}


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", sorted(PROMISES))
def test_mutant_keeps_the_share_its_mistake_leaves_and_gets_its_functions_hint(graded, assignment, name):
    function = MUTANTS[assignment, name][0]
    share, words = PROMISES[assignment, name]
    points, max_points, messages = graded[name, assignment]["by_function"][function]
    assert points == pytest.approx(share * max_points)
    assert messages and all(words in m for m in messages), messages[:2]


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_gradient_that_puts_x_back_arithmetically_loses_only_the_restore_share(graded):
    """x[i] += h ... x[i] -= 2h ... x[i] += h: right gradients, x off in the last bits."""
    from tasks.ch06_backprop import RESTORE_SHARE
    submission = graded["numgrad_x_not_restored", "ch06_backprop"]
    failed = [t for t in submission["tests"] if t["function"] == "numerical_gradient" and not t["passed"]]
    assert failed
    for test in failed:
        assert test["mistakes"] == ["x_not_restored"] and "save x[i] before perturbing it" in test["message"]
        assert test["points"] == pytest.approx((1 - RESTORE_SHARE) * test["max_points"])


@pytest.fixture(scope="module")
def faulty_batch(tmp_path_factory):
    """Every faulty submission plus a correct one, graded in one CLI batch: (process, results)."""
    root = tmp_path_factory.mktemp("faulty") / "submitted"
    for name, faulty in FAULTY.items():
        faulty.write(root / name / FAULTY_ASSIGNMENT / f"{FAULTY_ASSIGNMENT}.ipynb")
    build_notebook(correct_cells(FAULTY_ASSIGNMENT), FAULTY_ASSIGNMENT,
                   root / "correct" / FAULTY_ASSIGNMENT / f"{FAULTY_ASSIGNMENT}.ipynb")
    start = time.perf_counter()
    # the default per-call timeout: a 1 GB allocation may take seconds on a loaded machine
    process, results = _grade_batch(root)
    print(f"graded {len(FAULTY) + 1} faulty/correct notebooks in {time.perf_counter() - start:.1f} s")
    return process, (_by_submission(results) if results else None)


@pytest.mark.sandbox
@pytest.mark.slow
def test_faulty_batch_exits_zero(faulty_batch):
    process, _ = faulty_batch
    assert process.returncode == 0, process.stderr[-2000:]


@pytest.mark.sandbox
@pytest.mark.slow
def test_correct_submission_in_a_faulty_batch_keeps_full_marks(faulty_batch):
    submission = faulty_batch[1]["correct", FAULTY_ASSIGNMENT]
    assert _lost(submission) == {}
    assert submission["score"] == pytest.approx(sum(POINTS[FAULTY_ASSIGNMENT].values()))


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTY))
def test_faulty_submission_loses_only_what_it_should(faulty_batch, name):
    submission, faulty = faulty_batch[1][name, FAULTY_ASSIGNMENT], FAULTY[name]
    if faulty.lost is None:
        assert submission["score"] == 0
    else:
        lost = _lost(submission)
        assert set(lost) == set(faulty.lost), {f: msgs[:1] for f, (_, _, msgs) in lost.items()}
        if faulty.earns_nothing:
            assert all(points == 0 for points, _, _ in lost.values())


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTY))
def test_faulty_submission_gets_a_clear_message(faulty_batch, name):
    submission, faulty = faulty_batch[1][name, FAULTY_ASSIGNMENT], FAULTY[name]
    if faulty.lost is None:
        assert submission["status"] != "ok" or any(
            msgs for _, _, msgs in submission["by_function"].values())
        assert submission["problem"] or all(msgs for _, _, msgs in submission["by_function"].values())
    for function, words in faulty.messages.items():
        alternatives = words if isinstance(words, tuple) else (words,)
        # a submission that was not graded says why once, in its problem, with no test rows
        messages = (submission["by_function"].get(function, (0, 0, []))[2] if submission["status"] == "ok"
                    else [submission["problem"]])
        assert any(w.lower() in m.lower() for w in alternatives for m in messages), messages[:2]


@pytest.mark.sandbox
@pytest.mark.slow
def test_twenty_megabytes_of_printing_is_truncated_and_costs_nothing(tmp_path):
    from autograder import grade_notebook
    path = FAULTY["prints_20mb"].write(tmp_path / f"{FAULTY_ASSIGNMENT}.ipynb")
    result = grade_notebook(path, assignment=FAULTY_ASSIGNMENT, student="loud")
    assert result.score == pytest.approx(result.max_score) and result.max_score > 0
    assert 0 < len(result.output) < 2**20
