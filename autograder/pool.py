"""Grading processes under supervision: one per submission, each with a wall-clock budget.

A submission is graded in a process of its own (so it cannot leave state behind for the
next), started in a session of its own (so its whole tree can be killed). The supervisor
waits on every process with a deadline: a process that runs past its budget is killed with
its tree and reported as "timeout"; one that dies (an OOM kill, a crash) costs only its own
submission and is reported as "died". Nothing here blocks without a deadline, and stopping
the supervisor (Ctrl-C, SIGTERM, an exception) kills every process it started.

ProcessPoolExecutor is not used: it cannot kill one task, and a pool process killed from
outside breaks the whole pool.
"""
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait


@dataclass
class Task:
    """target(**kwargs) -> bytes runs in a fresh process; seconds: its wall-clock budget."""
    key: object
    target: object
    kwargs: dict
    seconds: float


@dataclass
class Finished:
    """What became of a task: data (the target's bytes) or status "timeout"/"died" with detail."""
    task: Task
    data: bytes | None = None
    status: str = "ok"
    detail: str = ""


@dataclass
class _Running:
    task: Task
    process: object
    conn: object
    deadline: float


def context(preload=()):
    """A fork context when this process has one thread (cheap: the grader is already imported),
    else a forkserver that preloaded the grader and `preload` (forking a threaded process can
    deadlock the child)."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["autograder.batch", *preload])
    return ctx


FAILED = b"\0failed: "


def _child(conn, target, kwargs):
    os.setsid()  # its own process group: the supervisor kills the tree with one killpg
    # Everything inherited (the grader, pytest, nbgrader's whole heap under nbgrader autograde)
    # lives until the process ends: the collector need never walk it (each pytest session
    # ends with a full gc.collect, 0.1-1 s in a big parent's heap), and pages stay shared.
    gc.freeze()
    try:
        data = target(**kwargs)
    except Exception as exc:  # a fault of the grader: say which, in the submission's row
        data = FAILED + f"{type(exc).__name__}: {exc}".encode()[:2000]
    conn.send_bytes(data)
    conn.close()


def _kill(running):
    try:
        os.killpg(running.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    running.process.kill()
    running.process.join(5)
    running.conn.close()


def _collect(running):
    """The finished process's data, or None if it died without sending any."""
    try:
        if running.conn.poll(0):
            return running.conn.recv_bytes()
    except (EOFError, OSError):
        pass
    return None


def _death(process):
    code = process.exitcode
    if code is not None and code < 0:
        return f"the grading process was killed by {signal.Signals(-code).name} (out of memory?)"
    return f"the grading process ended with status {code} without a result"


def _finished(running, ready):
    """What became of a running task, or None while it still runs within its budget."""
    if running.conn in ready or running.process.sentinel in ready:
        data = _collect(running)
        if data is not None and data.startswith(FAILED):
            return Finished(running.task, status="died", detail=f"the grader failed: {data[len(FAILED):].decode()}")
        if data is not None:
            return Finished(running.task, data)
        if not running.process.is_alive():
            running.process.join()
            return Finished(running.task, status="died", detail=_death(running.process))
    if time.monotonic() >= running.deadline:
        return Finished(running.task, status="timeout",
                        detail=f"grading did not finish within its {running.task.seconds:g} s budget")
    return None


def supervise(tasks, *, workers=1, ctx=None):
    """Run tasks, `workers` at a time; yield a Finished for each, in completion order."""
    ctx = ctx or context()
    pending, running = deque(tasks), []
    try:
        while pending or running:
            while pending and len(running) < workers:
                task = pending.popleft()
                receive, send = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(send, task.target, task.kwargs), daemon=True)
                process.start()
                send.close()
                running.append(_Running(task, process, receive, time.monotonic() + task.seconds))
            left = max(0.0, min(r.deadline for r in running) - time.monotonic())
            ready = set(wait([r.conn for r in running] + [r.process.sentinel for r in running], timeout=left))
            for r in list(running):
                done = _finished(r, ready)
                if done is not None:
                    running.remove(r)
                    _kill(r)
                    yield done
    finally:
        for r in running:
            _kill(r)
