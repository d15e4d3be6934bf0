"""Grade notebooks: each submission in a fresh, supervised grading process, many in parallel.

grade_submission runs inside that process: read the notebook, start the sandboxed worker with
the solution cells, run the pytest suite over the cases, collect the results. grade_paths and
grade_notebook hand submissions to autograder.pool, which enforces each one's wall-clock
budget from outside and survives any of them dying.
"""
import dataclasses
import functools
import importlib
import json
import os
import time

from . import pool
from .cases import build_cases
from .grading import CaseRunner
from .notebook import Found, identify, read_submission
from .points import POINTS
from .results import SubmissionResult
from .sandbox import Limits, Sandbox
from .secret import key_id, load_key, submission_seed

class ClusterError(Exception):
    """The Dask cluster cannot grade (--scheduler): no Dask, no scheduler, a worker that refuses."""


DEFAULT_TIMEOUT = Limits.call_seconds  # seconds per call of a student's function, on every road
# Seconds a grading process gets beyond its cases' budget: starting Python, reading the
# notebook, starting the worker, writing the results.
STARTUP_SECONDS = 60.0


def time_budget(cases, timeout):
    """Seconds a submission's cases may take in all: 15 calls' worth of `timeout` (at least 120 s),
    plus the own limit of every case that has one (fine_tune's 120 s), so a slow but legal
    outcome-graded call never finds the budget spent."""
    return max(120.0, 15 * timeout) + sum(c.seconds for c in cases if c.seconds)


@functools.cache
def submission_seconds(assignment, timeout):
    """The wall-clock budget of one submission's grading process, enforced from outside; for a
    notebook whose path names no assignment (its metadata will), the largest of any assignment."""
    if assignment not in POINTS:
        return max(submission_seconds(a, timeout) for a in POINTS)
    return time_budget(build_cases(assignment, 0), timeout) + STARTUP_SECONDS


def grade_submission(path, *, assignment=None, student=None, seed=None, key=None, limits=None,
                     isolation="bwrap", hidden=()):
    """Grade one notebook in this process (student code runs in the sandbox). See grade_notebook."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    from .suite.plugin import run_suite

    started = time.monotonic()
    limits = limits or Limits(call_seconds=DEFAULT_TIMEOUT)
    submission = read_submission(path, assignment=assignment, student=student)
    result = SubmissionResult(submission.student, submission.assignment, str(path), status=submission.status,
                              problem=submission.problem, isolation=isolation)
    if submission.status != "ok":
        # one status and one reason, no test rows: the same message copied into every test of
        # the assignment (issue 12) buried it; the assignment's max_score still counts
        return result
    if seed is not None:
        result.seed = int(seed)
    else:
        key = load_key() if key is None else key
        result.seed = submission_seed(key, submission.student, submission.assignment, submission.cells)
        result.key_id = key_id(key)
    cases = build_cases(submission.assignment, result.seed)
    budget = time_budget(cases, limits.call_seconds)
    limits = dataclasses.replace(limits, cpu_seconds=int(budget) + 30)
    try:
        with Sandbox(submission.cells, limits=limits, isolation=isolation, hidden=hidden) as sandbox:
            runner = CaseRunner(sandbox, assignment=submission.assignment, call_seconds=limits.call_seconds,
                                budget_seconds=budget, limits=limits)
            try:
                _, result.tests = run_suite(cases, runner)
            finally:
                runner.close()
            result.output = sandbox.output()
    except Exception as exc:  # the worker could not even start: a grader fault, not the student's
        result.status, result.problem = "grader_error", f"{type(exc).__name__}: {exc}"
        result.tests = []
    if len(result.tests) != len(cases) and result.status == "ok":
        result.status, result.problem = "grader_error", f"ran {len(result.tests)} of {len(cases)} tests"
    if any(t.grader_error for t in result.tests) and result.status == "ok":
        result.status, result.problem = "grader_error", "the grader failed on some tests (see their messages)"
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _graded_json(path, **kwargs):
    """grade_submission's result as JSON bytes: what a grading process sends back."""
    return json.dumps(grade_submission(path, **kwargs).to_dict()).encode()


# Modules an assignment's grading imports, loaded once before the grading processes start
# rather than by each of them: the fine_tune check loads scikit-learn's digits (1.5 s of imports).
PRELOAD = {"ch08_fine_tuning": ["sklearn.datasets"]}


def _preloaded(assignments):
    """The modules the grading processes of these assignments will need (pytest among them)."""
    return ["autograder.suite.plugin"] + sorted({m for a in assignments for m in PRELOAD.get(a, [])})


def _preload(assignments):
    """Import here what the grading processes will need, so that each forked one starts with
    it; returns the names, for a forkserver to preload instead."""
    modules = _preloaded(assignments)
    for module in modules:
        importlib.import_module(module)
    return modules


def _finished_tasks(tasks, jobs, scheduler, isolation):
    """pool.Finished of every task: from local grading processes, `jobs` at a time, or from
    the Dask cluster at `scheduler` (autograder.dask_backend, imported only then)."""
    if scheduler is None:
        return pool.supervise(tasks, workers=max(1, jobs), ctx=pool.context(_preload({t.key.assignment for t in tasks})))
    from . import dask_backend
    return dask_backend.supervise(tasks, scheduler=scheduler, isolation=isolation,
                                  preload=_preloaded({t.key.assignment for t in tasks}))


def _unfinished(found, finished):
    """The row of a submission whose grading process did not send a result: it keeps the
    student and assignment, says what happened, and scores nothing."""
    status = "timeout" if finished.status == "timeout" else "grader_error"
    return SubmissionResult(found.student, found.assignment, str(found.path), status=status, problem=finished.detail)


def grade_paths(found, *, jobs=1, seed=None, key=None, limits=None, isolation="bwrap", hidden=(), progress=None,
                scheduler=None):
    """Grade notebook.Found submissions, `jobs` at a time; yields SubmissionResults in completion order.

    seed: the inputs' seed for every submission (default: derived from `key`, the instructor's
    secret, and the submission); limits: sandbox.Limits (its submission_seconds, if set, is
    every submission's budget); progress: called once per finished submission; scheduler: the
    address of a Dask scheduler whose workers grade instead of local processes (`jobs` unused).
    """
    limits = limits or Limits(call_seconds=DEFAULT_TIMEOUT)
    key = load_key() if key is None and seed is None else key
    tasks = []
    for item in found:
        if item.status != "ok":
            if progress:
                progress()
            yield SubmissionResult(item.student, item.assignment, str(item.path), status=item.status,
                                   problem=item.problem, isolation=isolation)
            continue
        seconds = limits.submission_seconds or submission_seconds(item.assignment, limits.call_seconds)
        tasks.append(pool.Task(item, _graded_json, dict(path=str(item.path), student=item.student,
                                                         assignment=item.assignment, seed=seed, key=key,
                                                         limits=limits, isolation=isolation, hidden=tuple(hidden)),
                               seconds))
    for finished in _finished_tasks(tasks, jobs, scheduler, isolation):
        if finished.data is not None:
            result = SubmissionResult.from_dict(json.loads(finished.data))
            result.path = str(finished.task.key.path)  # a Dask worker graded a copy
        else:
            result = _unfinished(finished.task.key, finished)
        if progress:
            progress()
        yield result


def grade_notebook(path, *, assignment=None, student=None, seed=None, key=None, limits=None, isolation="bwrap",
                   hidden=()):
    """Grade one notebook in a fresh, supervised grading process; returns a SubmissionResult.

    assignment/student: override what the path says; seed: the inputs' seed (default: derived
    from `key` and the submission); limits: sandbox.Limits; isolation: "bwrap" or "none";
    hidden: more directories the student's code must not see (e.g. an nbgrader course).
    """
    found_student, found_assignment = identify(path)
    item = Found(path, student or found_student, assignment or found_assignment)
    return next(grade_paths([item], seed=seed, key=key, limits=limits, isolation=isolation, hidden=hidden))
