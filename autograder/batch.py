"""Grade notebooks: each submission in a fresh grader process, many in parallel.

grade_submission runs inside that fresh process: read the notebook, start the sandboxed
worker with the solution cells, run the pytest suite over the cases, collect the results.
grade_notebook / grade_paths hand submissions to a ProcessPoolExecutor whose processes
serve one submission each (a student's submission cannot leave state behind for the next).
"""
import importlib
import multiprocessing
import os
import threading
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .cases import build_cases
from .grading import CaseRunner
from .notebook import identify, read_submission
from .results import SubmissionResult, TestResult
from .sandbox import Limits, Sandbox, available_isolation

DEFAULT_TIMEOUT = 10.0
NO_SOLUTION_CELLS = ("[missing_function] no solution cells with nbgrader metadata were found in the notebook, so "
                     "none of its functions could be graded: every graded cell needs its nbgrader metadata "
                     "(solution: true, grade_id: the function's name). Was the notebook saved by an editor that "
                     "drops cell metadata? Paste your code into the cells of a fresh copy of the released notebook.")


def default_seed(student, assignment):
    """A seed fixed per (student, assignment): regrading gives the same inputs and grade."""
    return zlib.crc32(f"{student}/{assignment}".encode())


def _all_failed(assignment, seed, message):
    return [TestResult(c.function, c.name, 0.0, c.points, False, message) for c in build_cases(assignment, seed)]


def time_budget(cases, timeout):
    """Seconds a submission's cases may take in all: 15 calls' worth of `timeout` (at least 120 s),
    plus the own limit of every case that has one (fine_tune's 120 s), so a slow but legal
    outcome-graded call never finds the budget spent."""
    return max(120.0, 15 * timeout) + sum(c.seconds for c in cases if c.seconds)


def grade_submission(path, *, assignment=None, student=None, seed=None, timeout=None, hidden=()):
    """Grade one notebook in this process (student code runs in the sandbox). See grade_notebook."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    from .suite.plugin import run_suite

    started = time.monotonic()
    submission = read_submission(path, assignment=assignment, student=student)
    result = SubmissionResult(submission.student, submission.assignment, str(path), status=submission.status,
                              problem=submission.problem)
    if submission.status == "unknown_assignment":
        return result
    result.seed = default_seed(submission.student, submission.assignment) if seed is None else int(seed)
    if submission.status != "ok":
        result.tests = _all_failed(submission.assignment, result.seed, f"[unreadable] {submission.problem}")
        return result
    if not submission.cells:
        result.problem = NO_SOLUTION_CELLS[len("[missing_function] "):]
        result.tests = _all_failed(submission.assignment, result.seed, NO_SOLUTION_CELLS)
        result.seconds = round(time.monotonic() - started, 3)
        return result
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    cases = build_cases(submission.assignment, result.seed)
    budget = time_budget(cases, timeout)
    limits = Limits(call_seconds=timeout, cpu_seconds=int(budget) + 30)
    try:
        with Sandbox(submission.cells, limits=limits, hidden=hidden) as sandbox:
            result.isolation = sandbox.isolation
            runner = CaseRunner(sandbox, assignment=submission.assignment, call_seconds=timeout,
                                budget_seconds=budget, limits=limits)
            run_suite(cases, runner)
            result.output = sandbox.output()
    except Exception as exc:  # the worker could not even start: a grader fault, not the student's
        result.status, result.problem = "grader_error", f"{type(exc).__name__}: {exc}"
        runner = None
    result.tests = runner.results if runner else _all_failed(submission.assignment, result.seed,
                                                             f"[grader_error] {result.problem}")
    if len(result.tests) != len(cases) and result.status == "ok":
        result.status, result.problem = "grader_error", f"ran {len(result.tests)} of {len(cases)} tests"
    if any("[grader_error]" in t.message for t in result.tests):
        result.status, result.problem = "grader_error", "the grader failed on some tests (see their messages)"
    result.seconds = round(time.monotonic() - started, 3)
    return result


# Modules an assignment's grading imports, loaded once by the forkserver rather than by every
# submission's process: the fine_tune check loads scikit-learn's digits (1.5 s of imports).
PRELOAD = {"ch08_fine_tuning": ["sklearn.datasets"]}


def _pool(jobs, assignments=()):
    """Processes that grade one submission each, forked from a server that preloaded the grader
    and what `assignments` need (only when this process starts its forkserver: it is shared)."""
    context = multiprocessing.get_context("forkserver")
    extra = sorted({m for a in assignments for m in PRELOAD.get(a, [])})
    context.set_forkserver_preload(["autograder.batch", "autograder.suite.plugin", "pytest", *extra])
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, max_tasks_per_child=1)


def grade_notebook(path, *, assignment=None, student=None, seed=None, timeout=None, hidden=()):
    """Grade one notebook in a fresh grader process; returns a SubmissionResult.

    assignment/student: override what the path and metadata say; seed: the inputs' seed
    (default: fixed per student and assignment); timeout: seconds per call of the student's code;
    hidden: more directories the student's code must not see (e.g. an nbgrader course).
    """
    kwargs = dict(assignment=assignment, student=student, seed=seed, timeout=timeout, hidden=tuple(hidden))
    if threading.active_count() > 1:     # forking a threaded process can deadlock the child
        with _pool(1, {assignment or identify(path)[1]}) as pool:
            return pool.submit(grade_submission, str(path), **kwargs).result()
    # A forked child, not a forkserver's: a forkserver child first re-runs the caller's main
    # script, which under `nbgrader autograde` means importing nbgrader again (2-4 s per
    # notebook). One child still serves one submission; what it needs is imported once, here.
    for module in PRELOAD.get(assignment or identify(path)[1], []):
        importlib.import_module(module)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(grade_submission, str(path), **kwargs).result()


def find_notebooks(paths):
    """Every .ipynb under paths (files as given), sorted, without Jupyter's checkpoints."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.suffix == ".ipynb" or path.exists():
            found.append(path)
    return found


def grade_paths(notebooks, *, jobs=1, seed=None, timeout=None, hidden=(), progress=None):
    """Grade many notebooks, `jobs` at a time; yields SubmissionResults in completion order.

    progress: a callable called once per finished submission (e.g. a tqdm bar's update).
    A submission whose grading process dies is reported with status "grader_error".
    """
    available_isolation()  # probe once here rather than in every process
    with _pool(max(1, jobs), {identify(p)[1] for p in notebooks}) as pool:
        futures = {pool.submit(grade_submission, str(p), seed=seed, timeout=timeout, hidden=tuple(hidden)): p
                   for p in notebooks}
        for future in as_completed(futures):
            path = futures[future]
            try:
                result = future.result()
            except Exception as exc:
                result = SubmissionResult(path.stem, None, str(path), status="grader_error",
                                          problem=f"grading process failed: {type(exc).__name__}: {exc}")
            if progress:
                progress()
            yield result

