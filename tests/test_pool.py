"""autograder.pool: a grading process that hangs or dies costs only its own submission, and
stopping the supervisor stops every process it started."""
import multiprocessing
import os
import signal
import time

from autograder import pool

FORK = multiprocessing.get_context("fork")


def _answer(value):
    return str(value).encode()


def _hang(seconds):
    time.sleep(seconds)
    return b"late"


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _fail():
    raise RuntimeError("the grader broke")


def _pid_file(path):
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(3600)


def _run(tasks, workers=2):
    start = time.monotonic()
    finished = {f.task.key: f for f in pool.supervise(tasks, workers=workers, ctx=FORK)}
    return finished, time.monotonic() - start


def test_each_task_gets_its_own_result_whatever_the_others_do():
    finished, took = _run([pool.Task("ok", _answer, {"value": 7}, 30), pool.Task("hang", _hang, {"seconds": 60}, 1),
                           pool.Task("dies", _die, {}, 30), pool.Task("fails", _fail, {}, 30),
                           pool.Task("ok2", _answer, {"value": 8}, 30)])
    assert finished["ok"].data == b"7" and finished["ok2"].data == b"8"
    assert finished["hang"].status == "timeout" and "1 s budget" in finished["hang"].detail
    assert finished["dies"].status == "died" and "SIGKILL" in finished["dies"].detail
    assert finished["fails"].status == "died" and "RuntimeError: the grader broke" in finished["fails"].detail
    assert took < 15


def test_a_hung_task_is_killed_at_its_budget():
    finished, took = _run([pool.Task("hang", _hang, {"seconds": 60}, 1.5)], workers=1)
    assert finished["hang"].status == "timeout" and took < 6


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0] != "Z"


def test_closing_the_supervisor_kills_every_process_it_started(tmp_path):
    """Ctrl-C or SIGTERM in the CLI closes the generator: nothing it started may survive."""
    files = [tmp_path / f"pid{i}" for i in range(2)]
    tasks = [pool.Task(i, _pid_file, {"path": str(f)}, 60) for i, f in enumerate(files)]
    running = pool.supervise(tasks, workers=2, ctx=FORK)
    deadline = time.monotonic() + 20

    def started():
        return all(f.exists() and f.read_text() for f in files)

    # the generator starts its processes on the first next(); a thread would be overkill: a
    # short task budget would end it, so interrupt it from a timer signal instead
    signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        next(running)
    except KeyboardInterrupt:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        running.close()
    while not started() and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = [int(f.read_text()) for f in files]
    time.sleep(0.5)
    assert not [p for p in pids if _alive(p)]
