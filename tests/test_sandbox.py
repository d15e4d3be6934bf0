"""The sandboxed worker: student code runs isolated, and nothing it does takes the grader down."""
import time

import numpy as np
import pytest

from autograder.sandbox import Limits, Sandbox, available_isolation, course_paths

pytestmark = pytest.mark.sandbox


def run(source, function="f", args=(), seconds=3.0, **limits):
    """Outcome of calling `function` defined by one cell, and the sandbox (closed)."""
    with Sandbox([(function, source)], limits=Limits(call_seconds=seconds, **limits)) as sandbox:
        return sandbox.call(function, args), sandbox


def test_uses_bubblewrap_when_this_machine_has_it():
    """Is the strongest isolation level used here? (bwrap is installed on this machine.)"""
    assert available_isolation() == "bwrap"


def test_returns_values_and_arrays_across_the_process_boundary():
    outcome, _ = run("def f(x):\n    return x * 2, 3\n", args=(np.arange(3.0),))
    assert outcome.ok
    np.testing.assert_allclose(outcome.value[0], [0.0, 2.0, 4.0])
    assert outcome.value[1] == 3


def test_student_cannot_import_solutions_or_autograder():
    outcome, _ = run("def f():\n    import solutions\n")
    assert outcome.error["type"] == "ImportError"
    outcome, _ = run("def f():\n    import autograder\n")
    assert outcome.error["type"] == "ImportError"


def test_student_cannot_read_the_course_tree():
    """Is every directory holding the course code (e.g. /work/main) hidden from the worker?"""
    for path in course_paths():
        outcome, _ = run(f"def f():\n    import os\n    return os.listdir({str(path)!r})\n")
        assert outcome.ok and outcome.value == [], path


def test_infinite_loop_times_out_and_the_next_call_works():
    with Sandbox([("f", "def f(n):\n    while n:\n        pass\n    return 1\n")],
                 limits=Limits(call_seconds=1.0)) as sandbox:
        start = time.monotonic()
        hung = sandbox.call("f", (1,))
        assert hung.ended == "timeout" and time.monotonic() - start < 5
        assert sandbox.call("f", (0,)).value == 1


def test_memory_bomb_fails_with_memory_error():
    outcome, _ = run("def f():\n    return np.ones((1 << 31,))\n", memory_bytes=1 << 30)
    assert outcome.error["type"] == "MemoryError"


def test_os_exit_ends_only_that_call():
    with Sandbox([("f", "def f(k):\n    if k:\n        import os; os._exit(3)\n    return 7\n")]) as sandbox:
        died = sandbox.call("f", (1,))
        assert died.ended == "exited" and "status 3" in died.detail
        assert sandbox.call("f", (0,)).value == 7


def test_sys_exit_is_reported_as_an_exception():
    outcome, _ = run("def f():\n    import sys; sys.exit(2)\n")
    assert outcome.error["type"] == "SystemExit"


def test_huge_printing_is_truncated_and_does_not_corrupt_results():
    outcome, sandbox = run("def f():\n    print('x' * 10_000_000)\n    return 5\n", output_bytes=1000)
    assert outcome.value == 5
    assert 0 < len(sandbox.output()) <= 1100


def test_patched_numpy_only_affects_the_students_own_results():
    source = "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\ndef f():\n    return 1\n"
    outcome, _ = run(source)
    assert outcome.value == 1
    assert not np.allclose(np.zeros(2), np.ones(2))  # the grader's numpy is untouched


def test_garbage_on_the_protocol_pipe_is_a_failed_call():
    source = "def f():\n    import os\n    for fd in range(3, 12):\n        try:\n            os.write(fd, b'\\xff' * 64)\n" \
             "        except OSError:\n            pass\n    return 1\n"
    outcome, _ = run(source)
    assert not outcome.ok and outcome.ended in ("garbage", "exited", "timeout")


def test_forked_child_cannot_answer_for_the_worker():
    with Sandbox([("f", "def f():\n    import os\n    return os.fork()\n"), ("g", "def g():\n    return 2\n")]) as sandbox:
        sandbox.call("f", ())
        assert sandbox.call("g", ()).value == 2


def test_syntax_error_in_one_cell_leaves_the_others_running():
    with Sandbox([("f", "def f(:\n"), ("g", "def g():\n    return 4\n")]) as sandbox:
        assert sandbox.call("g", ()).value == 4
        assert sandbox.call("f", ()).missing
        assert sandbox.cell_errors["f"]["type"] == "SyntaxError"
