"""autograder.callbacks: the grader answers a student's call of an earlier graded function only
when the current call allows it, within the student's own limits, and never blocks on it."""
import time

import numpy as np
import pytest

from autograder.callbacks import Callbacks, allowed_callbacks
from autograder.sandbox import Limits, Sandbox

pytestmark = pytest.mark.sandbox

REFERENCE = {
    "f": lambda x: x + 100,
    "big": lambda n: np.ones(int(n)),
    "slow": lambda: time.sleep(60),
    "hog": lambda: np.ones(1 << 28) + 1,  # 2 GiB of float64, twice the memory limit
}


def _call(cells, function, args, allowed, seconds=3.0, **limits):
    limits = Limits(call_seconds=seconds, **limits)
    with Sandbox(cells, limits=limits) as sandbox, Callbacks(allowed, REFERENCE.__getitem__, limits) as callbacks:
        start = time.monotonic()
        outcome = sandbox.call(function, args, callbacks=callbacks)
        return outcome, time.monotonic() - start


# g calls f: while g is graded, f is the grader's stand-in (when allowed)
F_AND_G = [("f", "def f(x):\n    return x - 1\n"), ("g", "def g(x):\n    return f(x) * 2\n")]


def test_an_allowed_earlier_function_answers_with_the_reference():
    outcome, _ = _call(F_AND_G, "g", (np.arange(3.0),), {"f"})
    np.testing.assert_array_equal(outcome.value, (np.arange(3.0) + 100) * 2)


def test_without_permission_the_students_own_function_runs():
    outcome, _ = _call(F_AND_G, "g", (np.arange(3.0),), set())
    np.testing.assert_array_equal(outcome.value, (np.arange(3.0) - 1) * 2)


# A forged request: the stand-in of an allowed name, renamed to ask for something else.
FORGER = [("f", "def f(x):\n    return x\n"),
          ("g", "def g(name):\n    f.name = name\n    return f(1.0)\n")]


@pytest.mark.parametrize("name", ["g", "solve_everything", "__import__"])
def test_a_request_for_a_name_not_allowed_is_refused(name):
    outcome, _ = _call(FORGER, "g", (name,), {"f"})
    assert outcome.error["type"] == "PermissionError", outcome
    assert "answers only f" in outcome.error["message"]


def test_a_reference_that_exceeds_the_memory_limit_fails_the_call_not_the_grader():
    cells = [("hog", "def hog():\n    pass\n"), ("g", "def g():\n    return hog()\n")]
    outcome, _ = _call(cells, "g", (), {"hog"}, seconds=20.0, memory_bytes=1 << 30)
    assert outcome.error["type"] == "MemoryError", outcome


def test_a_slow_reference_counts_against_the_students_call_and_is_stopped():
    cells = [("slow", "def slow():\n    pass\n"), ("g", "def g():\n    return slow()\n")]
    outcome, took = _call(cells, "g", (), {"slow"}, seconds=1.5)
    assert outcome.ended == "timeout" and took < 6, (outcome, took)


def test_an_answer_larger_than_allowed_is_refused():
    cells = [("big", "def big(n):\n    pass\n"), ("g", "def g():\n    return big(3e6)\n")]  # 24 MB
    outcome, _ = _call(cells, "g", (), {"big"}, callback_bytes=1 << 20)
    assert outcome.error["type"] == "MemoryError" and "1 MiB" in outcome.error["message"], outcome


def test_arguments_larger_than_allowed_are_refused_before_any_computation():
    cells = [("f", "def f(x):\n    pass\n"), ("g", "def g():\n    return f(np.ones(300_000))\n")]  # 2.4 MB
    outcome, _ = _call(cells, "g", (), {"f"}, callback_bytes=1 << 20)
    assert outcome.error["type"] == "MemoryError" and "arguments of f" in outcome.error["message"], outcome


def test_a_worker_that_never_reads_its_answer_cannot_block_the_grader():
    """The jam: ask for a large answer, then never read it. The grader's write has a deadline."""
    source = ("def g():\n    import time\n    f.name = 'big'\n"
              "    import protocol\n    protocol.write_frame(f.fd_out, {'callback': 'big', 'args': [5e7], 'kwargs': {}})\n"
              "    time.sleep(3600)\n")
    cells = [("big", "def big(n):\n    pass\n"), ("f", "def f():\n    pass\n"), ("g", source)]
    outcome, took = _call(cells, "g", (), {"big", "f"}, seconds=2.0, callback_bytes=1 << 30)
    assert outcome.ended == "timeout" and took < 8, (outcome, took)


class _Defines:
    def __init__(self, *names):
        self.names = names

    def defined(self, name):
        return name in self.names


def test_allowed_are_the_earlier_functions_the_submission_defines():
    functions = ["a", "b", "c", "d"]
    assert allowed_callbacks(functions, "c", _Defines("a", "c", "d")) == {"a"}
    assert allowed_callbacks(functions, "a", _Defines("a", "b")) == set()
    assert allowed_callbacks(functions, "zzz", _Defines("a")) == set()
