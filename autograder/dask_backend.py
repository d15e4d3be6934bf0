"""Grading on a Dask distributed cluster: `grade --scheduler tcp://HOST:PORT`.

Imported only with --scheduler (without it nothing here, nor Dask, is loaded). The client
sends each submission's notebook bytes and grading settings to the cluster; on a worker,
grade_remote writes the notebook to a private temporary folder and grades it exactly as the
local road does: in a fresh supervised grading process (autograder.pool) with its wall-clock
budget, student code in the bubblewrap sandbox. A worker without a working bubblewrap
refuses (SandboxUnavailable), and the whole batch stops with its reason, as a local batch
would. Results come back in completion order, so the command line journals each as it
arrives. A worker lost mid-batch costs no grade: the scheduler runs its submissions again on
another worker (Dask's own retry of a lost worker's tasks), and a task the cluster reports as
failed (several workers lost under it, a lost connection) is submitted once more before it
becomes a grader_error row, like a grading process that dies locally.

Workers are started with `DASK_DISTRIBUTED__WORKER__DAEMON=False` (README): Dask's nanny
starts daemonic worker processes by default, and a daemonic process may not start the
grading processes. Every worker machine needs the course installed at the same version,
bubblewrap, and no access to the instructor's files beyond what it is sent; a worker whose
course code differs from the client's (course_version) refuses too.
"""
import functools
import hashlib
import multiprocessing
import os
import tempfile
import uuid
from pathlib import Path

from . import pool
from .batch import ClusterError, _graded_json
from .notebook import MAX_NOTEBOOK_BYTES
from .sandbox import SandboxUnavailable, require_sandbox

CONNECT_SECONDS = 30  # how long the client tries to reach the scheduler
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DAEMON_HINT = ("a Dask worker here runs as a daemonic process, which cannot start grading processes: start the "
               "workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (see README)")


@functools.cache
def course_version():
    """A digest of the course's code (autograder, solutions, tasks) as installed here: a worker
    with other code would grade with other cases, references or points."""
    digest = hashlib.sha256()
    for package in (PACKAGE_ROOT / "autograder", PACKAGE_ROOT / "solutions", PACKAGE_ROOT / "tasks"):
        for path in sorted(package.rglob("*.py")):
            digest.update(f"{path.relative_to(PACKAGE_ROOT)}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def worker_problem(isolation, version=None):
    """None if this Dask worker can grade at this isolation with the course code of `version`
    (the client's course_version), else why not (one line)."""
    if version is not None and version != course_version():
        return (f"its course code differs from yours (version {course_version()}, yours {version}): install the "
                "same version of the course on every worker")
    if multiprocessing.current_process().daemon:
        return DAEMON_HINT
    if isolation == "bwrap":
        try:
            require_sandbox(False)
        except SandboxUnavailable as error:
            return str(error)
    return None


def grade_remote(notebook, name, kwargs, seconds, preload, version):
    """Runs on a Dask worker: grade the notebook bytes (its file name was `name`) in a fresh
    supervised grading process; returns (data, status, detail) of pool.Finished. Refuses
    (SandboxUnavailable) without the sandbox or with course code other than `version`."""
    problem = worker_problem(kwargs["isolation"], version)
    if problem:
        raise SandboxUnavailable(problem)
    with tempfile.TemporaryDirectory(prefix="cnn-dask-") as folder:
        path = Path(folder) / name
        path.write_bytes(notebook)
        task = pool.Task(name, _graded_json, dict(kwargs, path=str(path)), seconds)
        finished = next(pool.supervise([task], workers=1, ctx=pool.context(preload)))
    return finished.data, finished.status, finished.detail


def _notebook_bytes(path):
    """The notebook's bytes, at most one more than a notebook may have (the worker's
    read_submission then reports it as too big); None with the reason if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with open(fd, "rb") as f:
            return f.read(MAX_NOTEBOOK_BYTES + 1), None
    except OSError as error:
        return None, f"{path} cannot be opened: {error.strerror}"


def _client(scheduler):
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("--scheduler needs Dask: pip install '.[dask]' (or the pins of requirements-dask.txt)") \
            from None
    try:
        return Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None


def _check_workers(client, isolation):
    """ClusterError naming every worker that cannot grade (none at all is one too)."""
    problems = {worker: problem for worker, problem in client.run(worker_problem, isolation, course_version()).items()
                if problem}
    if problems:
        raise ClusterError("; ".join(f"worker {w}: {p}" for w, p in sorted(problems.items())))
    if not client.scheduler_info()["workers"]:
        raise ClusterError("the Dask cluster has no workers: start some with `dask worker`")


def supervise(tasks, *, scheduler, preload, isolation):
    """Grade pool.Tasks on the cluster; yield a pool.Finished for each, in completion order."""
    from distributed import as_completed

    client = _client(scheduler)
    futures = {}
    try:
        _check_workers(client, isolation)
        for task in tasks:
            data, problem = _notebook_bytes(task.kwargs["path"])
            if data is None:
                yield pool.Finished(task, status="died", detail=problem)
                continue
            future = client.submit(grade_remote, data, Path(task.kwargs["path"]).name, task.kwargs, task.seconds,
                                   preload, course_version(), key=f"grade-{uuid.uuid4().hex}", pure=False)
            futures[future] = task
        retried = set()
        finished = as_completed(futures)
        for future in finished:
            try:
                data, status, detail = future.result()
            except SandboxUnavailable as error:
                raise ClusterError(f"a worker refused to grade: {error}") from None
            except Exception as error:  # a submission that killed its workers (KilledWorker), a lost connection
                if future.key not in retried:  # once more: what the cluster lost must not cost a grade
                    retried.add(future.key)
                    future.retry()
                    finished.add(future)
                    continue
                data, status, detail = None, "died", f"the Dask cluster could not grade it: {type(error).__name__}: {error}"
            yield pool.Finished(futures.pop(future), data, status, detail)
    finally:
        client.cancel(list(futures))
        client.close()
