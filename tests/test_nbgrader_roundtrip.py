"""The whole nbgrader round trip on the real command line, in a temporary course directory:
generate_assignment for all eight assignments, releases run by a student without the course
packages, autograde (scores from the sandboxed grader), the standalone grader's totals,
feedback without hidden tests, export with each row's status; submissions that try to forge
their grade; and submissions nbgrader alone would drop or leave ungraded: unreadable, another
assignment's notebook, deleted test cells."""
import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbgrader.api import Gradebook

from autograder.points import POINTS
from corpus.build import build_notebook, correct_cells
from corpus.hostile import oracle_cells

pytestmark = [pytest.mark.slow, pytest.mark.nbgrader]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
from tasks import ASSIGNMENTS
HIDDEN_TEXT = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "autograder.incell.check(", "_points =",
               "The grader's full checks for")
BROKEN = ("ch04_pooling", "max_pool_backward")
DELETED = ("ch04_pooling", "max_unpool")  # submissions whose test cell of it was deleted
WRONG_MAX_UNPOOL = "def max_unpool(y, x, pool=2, stride=2):\n    return np.zeros_like(x)\n"
MIXUP = "this is the ch05_normalization notebook, submitted as ch04_pooling: submit your ch04_pooling notebook"


def run(root, *args, timeout=1200):
    """Run a command in the course directory with the venv's tools first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NBGRADER_EXECUTION")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([str(a) for a in args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)


def nbgrader(root, *args):
    return run(root, BIN / "nbgrader", *args)


def release_path(root, assignment):
    return root / "release" / assignment / f"{assignment}.ipynb"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory with the repo's exercises and config, every release generated."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "exercises", root / "exercises")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    done = nbgrader(root, "generate_assignment", "*", "--force")
    assert done.returncode == 0, done.stderr[-3000:]
    return root


# --- releases --------------------------------------------------------------------------------


def cells_of(path):
    return nbformat.read(str(path), as_version=4).cells


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_release_stub_ends_in_raise_not_implemented(course, assignment):
    solutions = [c for c in cells_of(release_path(course, assignment)) if c.metadata.get("nbgrader", {}).get("solution")]
    graded = [c for c in solutions if c.metadata.nbgrader.grade_id in POINTS[assignment]]
    assert [c.metadata.nbgrader.grade_id for c in graded] == list(POINTS[assignment])
    for cell in graded:
        assert cell.source.rstrip().endswith("raise NotImplementedError()"), cell.metadata.nbgrader.grade_id


def test_helper_cell_stubs_raise_only_when_called(course):
    """Chapter 8's network cell: its four stubs become functions that raise; the cell itself runs."""
    network = next(c for c in cells_of(release_path(course, "ch08_fine_tuning"))
                   if c.metadata.get("nbgrader", {}).get("grade_id") == "network")
    assert network.source.count("raise NotImplementedError()") == 4
    namespace = {"np": np}
    exec(compile(network.source, "network", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["conv_forward"](None, None, None)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_code_or_hidden_test_leaks_into_a_release(course, assignment):
    text = "\n".join(c.source for c in cells_of(release_path(course, assignment)))
    for leak in ("BEGIN SOLUTION", "END SOLUTION", "from solutions", "_reference", "solutions.",
                 *HIDDEN_TEXT, "autograder"):
        assert leak not in text, f"{leak!r} is in the release of {assignment}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_ships_the_fixtures_of_its_visible_checks(course, assignment):
    shipped = course / "release" / assignment / "fixtures.npz"
    assert shipped.read_bytes() == (ROOT / "exercises" / assignment / "fixtures.npz").read_bytes()


@pytest.fixture(scope="module")
def isolated_kernel(tmp_path_factory):
    """A kernelspec whose Python runs with -S and an explicit sys.path: site-packages without
    its .pth files, so the editable install of solutions/autograder is not importable."""
    home = tmp_path_factory.mktemp("jupyter")
    paths = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    boot = f"import sys; sys.path[1:1] = {paths!r}; from ipykernel import kernelapp; kernelapp.launch_new_instance()"
    spec = home / "kernels" / "course-isolated"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-S", "-c", boot, "-f", "{connection_file}"],
        "display_name": "student without the course packages", "language": "python",
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}}))
    return home


def execute_isolated(path, jupyter_home, monkeypatch):
    """Execute the notebook at path in the isolated kernel, from its folder; return its cells."""
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_home))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import importlib.util\nprint('importable:', [m for m in ('solutions', 'autograder') "
        "if importlib.util.find_spec(m)])"))
    NotebookClient(nb, kernel_name="course-isolated", timeout=300, allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb.cells


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_runs_top_to_bottom_failing_only_at_visible_checks(course, assignment, isolated_kernel, monkeypatch):
    """A student's first run: every cell runs; only the checks of the unimplemented functions fail."""
    cells = execute_isolated(release_path(course, assignment), isolated_kernel, monkeypatch)
    assert "importable: []" in "".join(o.get("text", "") for o in cells[-1].outputs)
    for cell in cells[:-1]:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            assert [e.ename for e in errors] == ["AssertionError"], meta["grade_id"]
            assert "is not implemented yet" in errors[0].evalue
        else:
            assert not errors, f"{cell.source[:80]!r} failed: {errors[0].ename}: {errors[0].evalue}" if errors else ""


# --- submissions ------------------------------------------------------------------------------

WARNING_WRAPPER = '''
_quiet_corr2d = corr2d


def corr2d(x, k):
    """Correct, but noisy: a warning and a line on stderr, as real student code often has."""
    import sys
    import warnings
    warnings.warn("corr2d: this loop is slow", RuntimeWarning)
    print("debugging corr2d", file=sys.stderr)
    return _quiet_corr2d(x, k)
'''

FORGER = '''
import sys
import types

import numpy.testing

# Make every comparison succeed in this process, and replace the grader's own modules.
np.allclose = np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None
fake = types.ModuleType("autograder")
fake.incell = types.SimpleNamespace(check=lambda *args, **kwargs: 1000.0)
sys.modules["autograder"] = fake
sys.modules["autograder.incell"] = fake.incell
for name in ("compare", "grading", "points", "diagnose"):
    sys.modules[f"autograder.{name}"] = types.SimpleNamespace(POINTS={}, allclose=lambda *a, **k: True)


def {name}(*args, **kwargs):
    return np.zeros((2, 2))
'''

SNOOPER = '''
def {name}(*args, **kwargs):
    """Correct only if the course's files can be reached: read the source, write gradebook.db."""
    import os
    reached = []
    for path in ("../../../exercises/{assignment}/{assignment}.ipynb", "{root}/exercises/{assignment}/{assignment}.ipynb",
                 "{root}/release/{assignment}/{assignment}.ipynb"):
        try:
            with open(path) as source:
                reached.append(len(source.read()))
        except OSError:
            pass
    for path in ("../../../gradebook.db", "{root}/gradebook.db"):
        try:
            with open(path, "ab") as db:
                db.write(b"forged-by-a-submission")
            reached.append(path)
        except OSError:
            pass
    if not reached:
        raise PermissionError("nothing of the course is reachable from here")
    {body}
'''


def snooper_cells(root):
    """ch02: corr2d and convolve2d that are correct only when they reach the course's files."""
    bodies = {"corr2d": "return np.einsum('ijab,ab->ij', np.lib.stride_tricks.sliding_window_view(args[0], "
                        "args[1].shape), args[1])",
              "convolve2d": "return np.einsum('ijab,ab->ij', np.lib.stride_tricks.sliding_window_view(args[0], "
                            "args[1].shape), args[1][::-1, ::-1])"}
    return {name: SNOOPER.format(name=name, assignment="ch02_convolution", root=root, body=body)
            for name, body in bodies.items()}


def submit(root, student, assignment, cells=None, text=None):
    """Put a submission in submitted/<student>/<assignment>/: cells into the release, or raw text."""
    path = root / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_text(text)
    elif cells is None:
        shutil.copy(release_path(root, assignment), path)
    else:
        build_notebook(cells, assignment, path, template=release_path(root, assignment))
    return path


def delete_cells(path, *grade_ids):
    """Delete the cells with these nbgrader grade_ids from the notebook at path, as a student can."""
    nb = json.loads(path.read_text())
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") not in grade_ids]
    path.write_text(json.dumps(nb))


def submit_deletions(root):
    """ch04 submissions without the test cell of DELETED's function: with that function right,
    wrong, or deleted too (nbgrader 0.9.6's own restore fails on that one)."""
    assignment, function = DELETED
    cells = correct_cells(assignment)
    delete_cells(submit(root, "deleter", assignment, cells), f"test_{function}")
    delete_cells(submit(root, "deleter_wrong", assignment, {**cells, function: WRONG_MAX_UNPOOL}), f"test_{function}")
    delete_cells(submit(root, "pair_deleter", assignment, cells), function, f"test_{function}")


def submit_mixup(root):
    """The correct ch05 notebook, handed in as ch04."""
    path = root / "submitted" / "mixup" / "ch04_pooling" / "ch04_pooling.ipynb"
    build_notebook(correct_cells("ch05_normalization"), "ch05_normalization", path,
                   template=release_path(root, "ch05_normalization"))


@pytest.fixture(scope="module")
def graded(course):
    """Every submission in place, then one `nbgrader autograde` over all of them."""
    for assignment in ASSIGNMENTS:
        submit(course, "correct", assignment, correct_cells(assignment))
        submit(course, "untouched", assignment)
    assignment, function = BROKEN
    submit(course, "broken", assignment, {**correct_cells(assignment),
                                          function: f"def {function}(dout, x, pool=2, stride=2):\n    return np.zeros_like(dout)\n"})
    cells = correct_cells("ch02_convolution")
    submit(course, "warner", "ch02_convolution", {**cells, "corr2d": cells["corr2d"] + WARNING_WRAPPER})
    submit(course, "forger", "ch02_convolution",
           {name: textwrap.dedent(FORGER).replace("{name}", name) for name in POINTS["ch02_convolution"]})
    submit(course, "snooper", "ch02_convolution", snooper_cells(course))
    submit(course, "oracle", "ch07_im2col", oracle_cells("ch07_im2col"))
    submit(course, "corrupt", "ch01_motivation", text='{"cells": [ this is not json')
    submit_deletions(course)
    submit_mixup(course)
    done = nbgrader(course, "autograde", "*")
    return course, done


def scores(root):
    """{(student, assignment): (score, {grade_id: auto_score})} as nbgrader's gradebook holds them."""
    table = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                grades = {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades}
                if grades and all(v is not None for v in grades.values()):
                    table[submission.student.id, assignment.name] = (submission.score, grades)
    return table


def test_autograde_grades_every_submission_an_unreadable_one_included(graded):
    """nbgrader alone exits 1 for an unreadable notebook and drops it from autograded/, so that
    the student looks as if nothing was submitted."""
    root, done = graded
    assert done.returncode == 0, done.stderr[-3000:]
    assert "corrupt/ch01_motivation is not graded (unreadable): the notebook cannot be read" in done.stderr
    expected = {(s, a) for a in ASSIGNMENTS for s in ("correct", "untouched")}
    expected |= {("broken", BROKEN[0]), ("oracle", "ch07_im2col"), ("corrupt", "ch01_motivation")} | {
        (s, "ch02_convolution") for s in ("warner", "forger", "snooper")} | {
        (s, "ch04_pooling") for s in ("deleter", "deleter_wrong", "pair_deleter", "mixup")}
    assert expected == set(scores(root))


def autograded_notebook(root, student, assignment):
    return json.loads((root / "autograded" / student / assignment / f"{assignment}.ipynb").read_text())


@pytest.mark.parametrize("student, assignment, status, reason", [
    ("corrupt", "ch01_motivation", "unreadable", "the notebook cannot be read (JSONDecodeError"),
    ("mixup", "ch04_pooling", "wrong_assignment", MIXUP),
])
def test_a_submission_that_cannot_be_graded_scores_0_with_one_note(graded, student, assignment, status, reason):
    root = graded[0]
    score, grades = scores(root)[student, assignment]
    assert score == 0 and grades == {f"test_{f}": 0 for f in POINTS[assignment]}
    nb = autograded_notebook(root, student, assignment)
    note = "".join(nb["cells"][0]["source"])
    assert note.startswith(f"**This notebook was not graded ({status}), so every test below scores 0.** `{reason}")
    test_cells = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert all(reason not in json.dumps(c["outputs"]) for c in test_cells)  # said once, in the note
    assert nb["metadata"]["cnns_course"]["grading"]["status"] == status


def test_a_deleted_test_cell_is_put_back_and_graded(graded):
    """Without it nbgrader leaves the cell's grade empty: 0 points, "needs manual grading"."""
    assignment, function = DELETED
    table = scores(graded[0])
    full = {f"test_{f}": pytest.approx(p) for f, p in POINTS[assignment].items()}
    assert table["deleter", assignment][1] == full
    assert table["deleter_wrong", assignment][1] == {**full, f"test_{function}": 0}
    restored = next(c for c in autograded_notebook(graded[0], "deleter", assignment)["cells"]
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == f"test_{function}")
    assert "was missing from the submission" in "".join(restored["source"])


def test_a_solution_cell_deleted_with_its_test_cell_costs_only_its_points(graded):
    assignment, function = DELETED
    _, grades = scores(graded[0])["pair_deleter", assignment]
    assert grades == {f"test_{f}": 0 if f == function else pytest.approx(p) for f, p in POINTS[assignment].items()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_submission_gets_full_marks(graded, assignment):
    score, grades = scores(graded[0])["correct", assignment]
    assert grades == {f"test_{f}": pytest.approx(p) for f, p in POINTS[assignment].items()}
    assert score == pytest.approx(sum(POINTS[assignment].values()))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero(graded, assignment):
    assert scores(graded[0])["untouched", assignment][0] == 0


def test_one_broken_function_loses_exactly_its_points(graded):
    assignment, function = BROKEN
    score, grades = scores(graded[0])["broken", assignment]
    assert grades[f"test_{function}"] < POINTS[assignment][function]
    assert {k: v for k, v in grades.items() if k != f"test_{function}"} == {
        f"test_{f}": pytest.approx(p) for f, p in POINTS[assignment].items() if f != function}


def test_correct_code_that_warns_and_writes_to_stderr_keeps_full_marks(graded):
    score, _ = scores(graded[0])["warner", "ch02_convolution"]
    assert score == pytest.approx(sum(POINTS["ch02_convolution"].values()))


def test_submission_that_patches_numpy_and_the_graders_modules_earns_nothing(graded):
    assert scores(graded[0])["forger", "ch02_convolution"][0] == 0


def test_a_submission_that_asks_the_grader_for_its_answers_earns_nothing(graded):
    """The oracle of the hostile corpus (issue 11, finding 1): under nbgrader too, the grader
    answers no callback for a function under test."""
    assert scores(graded[0])["oracle", "ch07_im2col"][0] == 0


def test_submission_cannot_read_the_source_notebook_or_write_the_gradebook(graded):
    root = graded[0]
    _, grades = scores(root)["snooper", "ch02_convolution"]
    assert grades["test_corr2d"] == 0 and grades["test_convolve2d"] == 0
    assert not (root / "gradebook.db").read_bytes().endswith(b"forged-by-a-submission")
    feedback = json.loads((root / "autograded" / "snooper" / "ch02_convolution" / "ch02_convolution.ipynb").read_text())
    test_cell = next(c for c in feedback["cells"] if c["id"] == "test_corr2d")
    assert "nothing of the course is reachable" in json.dumps(test_cell["outputs"])


def test_standalone_grader_gives_the_same_totals(graded):
    root = graded[0]
    out = root / "standalone"
    done = run(root, sys.executable, "-m", "autograder", "grade", root / "submitted", "--out", out / "grades.csv",
               "--jobs", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "grades.csv") as f:
        standalone = {(r["student"], r["assignment"]): float(r["score"]) for r in csv.DictReader(f)}
    nbgrader_scores = {pair: score for pair, (score, _) in scores(root).items()}
    assert standalone[("corrupt", "ch01_motivation")] == 0
    assert {pair: standalone[pair] for pair in nbgrader_scores} == pytest.approx(nbgrader_scores)


@pytest.fixture(scope="module")
def feedback(graded):
    root = graded[0]
    done = nbgrader(root, "generate_feedback", "*")
    return root, done


def test_generate_feedback_writes_one_page_per_graded_submission(feedback):
    root, done = feedback
    pages = {(p.parts[-3], p.parts[-2]) for p in (root / "feedback").glob("*/*/*.html")}
    assert set(scores(root)) <= pages, done.stderr[-2000:]


def page_text(page):
    """The text of a feedback page as a reader sees it: tags (syntax highlighting) and entities gone."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def hidden_text_in(folder):
    """{page: [hidden-test snippets it shows]} of every feedback page under folder."""
    found = {}
    for page in folder.glob("*/*/*.html"):
        shown = [snippet for snippet in HIDDEN_TEXT if snippet in page_text(page)]
        if shown:
            found[page.relative_to(folder)] = shown
    return found


def test_feedback_shows_no_hidden_test_text(feedback):
    root, _ = feedback
    assert list((root / "feedback").glob("*/*/*.html"))
    assert hidden_text_in(root / "feedback") == {}


def test_nbgraders_default_feedback_would_show_the_hidden_tests(feedback):
    """The check above can fail: nbgrader's own feedback pipeline (#917, #1363) shows them."""
    root, _ = feedback
    done = nbgrader(root, "generate_feedback", "ch02_convolution", "--force",
                    "--CourseDirectory.feedback_directory=default-feedback",
                    "--GenerateFeedback.preprocessors=['nbgrader.preprocessors.GetGrades']")
    assert done.returncode == 0, done.stderr[-2000:]
    assert hidden_text_in(root / "default-feedback")


def test_feedback_gives_the_diagnosis_of_a_failed_function(feedback):
    root, _ = feedback
    page = (root / "feedback" / "broken" / BROKEN[0] / f"{BROKEN[0]}.html").read_text()
    assert f"{BROKEN[1]}: 0 of" in page


def test_feedback_of_a_submission_not_graded_gives_the_reason_at_the_top(feedback):
    root, _ = feedback
    text = page_text(root / "feedback" / "mixup" / "ch04_pooling" / "ch04_pooling.html")
    assert f"This notebook was not graded (wrong_assignment), so every test below scores 0. {MIXUP}" in text
    assert text.count(MIXUP) == 1


@pytest.fixture(scope="module")
def exported(feedback):
    """{(student, assignment): row} of `nbgrader export`'s grades.csv."""
    root, _ = feedback
    done = nbgrader(root, "export")
    assert done.returncode == 0, done.stderr[-2000:]
    with open(root / "grades.csv", newline="") as f:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}


def test_export_writes_every_graded_score(feedback, exported):
    root, _ = feedback
    for pair, (score, _) in scores(root).items():
        assert float(exported[pair]["raw_score"]) == pytest.approx(score)


def test_export_tells_an_unreadable_submission_from_a_missing_one(exported):
    assert (exported["correct", "ch01_motivation"]["status"], exported["correct", "ch01_motivation"]["problem"]) == (
        "ok", "")
    corrupt = exported["corrupt", "ch01_motivation"]
    assert (corrupt["raw_score"], corrupt["max_score"], corrupt["status"]) == (
        "0.0", f"{float(sum(POINTS['ch01_motivation'].values()))}", "unreadable")
    assert corrupt["problem"].startswith("the notebook cannot be read (JSONDecodeError")
    assert (exported["mixup", "ch04_pooling"]["status"], exported["mixup", "ch04_pooling"]["problem"]) == (
        "wrong_assignment", MIXUP)
    assert exported["corrupt", "ch02_convolution"]["status"] == "missing"
