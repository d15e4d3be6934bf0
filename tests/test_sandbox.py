"""The sandboxed worker: student code runs isolated, and nothing it does takes the grader down."""
import io
import json
import os
import struct
import threading
import time

import numpy as np
import pytest

from autograder import protocol
from pathlib import Path

from autograder.sandbox import (SYSTEM_DIRS, Limits, Sandbox, SandboxUnavailable, _interpreter_dirs, bwrap_problem,
                                course_paths, require_sandbox)

pytestmark = pytest.mark.sandbox


def run(source, function="f", args=(), seconds=3.0, **limits):
    """Outcome of calling `function` defined by one cell, and the sandbox (closed)."""
    with Sandbox([(function, source)], limits=Limits(call_seconds=seconds, **limits)) as sandbox:
        return sandbox.call(function, args), sandbox


def test_uses_bubblewrap_when_this_machine_has_it():
    """Does the hardened bubblewrap sandbox work here? (CI installs bwrap; without it nothing grades.)"""
    assert bwrap_problem() is None
    assert require_sandbox() == "bwrap"


def test_without_bubblewrap_the_sandbox_refuses_unless_unsafe_is_accepted(monkeypatch):
    monkeypatch.setattr("autograder.sandbox.bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap.*--unsafe-no-sandbox"):
        require_sandbox()
    assert require_sandbox(unsafe=True) == "none"


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


LISTDIR = "def f(path):\n    import os\n    try:\n        return sorted(os.listdir(path))\n    except FileNotFoundError:\n        return None\n"


def on_the_way_to_the_interpreter(path):
    """The entries of path a worker may see: those leading down to the interpreter or numpy
    (a virtualenv inside the repository, as on CI), nothing else."""
    return sorted({n.relative_to(path).parts[0] for n in _interpreter_dirs() if n.is_relative_to(path) and n != path})


def test_student_cannot_list_the_course_tree():
    """Is every directory holding the course code (e.g. /work/main) hidden from the worker?"""
    with Sandbox([("f", LISTDIR)], isolation="bwrap") as sandbox:
        for path in course_paths():
            seen = sandbox.call("f", (str(path),))
            assert seen.ok and seen.value in (None, [], on_the_way_to_the_interpreter(path)), (path, seen.value)


READ = "def f(path):\n    try:\n        with open(path) as fh:\n            return fh.read()\n    except OSError:\n        return ''\n"
COURSE_FILES = ("solutions/__init__.py", "solutions/convolution.py", "tasks/ch02_convolution.py",
                "exercises/ch02_convolution/ch02_convolution.ipynb")


def test_worker_can_write_only_its_scratch_and_tmp():
    """Can student code create files outside its scratch directory and /tmp? (It could leave
    nothing behind anyway, but a writable / would let it fake "reaching" course paths.)"""
    source = ("def f(path):\n    try:\n        open(path, 'w').close()\n        return True\n"
              "    except OSError:\n        return False\n")
    with Sandbox([("f", source)], isolation="bwrap") as sandbox:
        assert sandbox.call("f", ("/gradebook.db",)).value is False
        assert sandbox.call("f", ("/usr/forged",)).value is False
        assert sandbox.call("f", ("/tmp/scratch-file",)).value is True
        assert sandbox.call("f", ("written-in-scratch",)).value is True


def test_student_cannot_read_the_course_code():
    """Can the worker open the reference solutions, the grader or a source notebook?"""
    files = [path / name for path in course_paths() for name in COURSE_FILES if (path / name).exists()]
    assert files, "the test found no course file to try"
    with Sandbox([("f", READ)], isolation="bwrap") as sandbox:
        for file in files:
            assert sandbox.call("f", (str(file),)).value == "", file


def test_worker_sees_only_the_system_the_interpreter_and_its_scratch():
    """Does a copy of the course elsewhere on the machine stay invisible? Under bubblewrap the
    worker's / holds the system directories and the way to the interpreter, nothing else."""
    allowed = {Path(d).name for d in SYSTEM_DIRS} | {"dev", "proc", "tmp", "etc", "sandbox"} | {
        n.parts[1] for n in _interpreter_dirs()}
    with Sandbox([("f", LISTDIR)], isolation="bwrap") as sandbox:
        root = sandbox.call("f", ("/",))
        assert root.ok and set(root.value) <= allowed, set(root.value) - allowed
        home = sandbox.call("f", (str(Path.home()),))
        assert home.ok and home.value in (None, on_the_way_to_the_interpreter(Path.home()))


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


def test_a_list_grown_to_the_memory_limit_is_a_memory_error_and_the_worker_lives_on():
    """The failed call's frames hold the full list while the worker describes the error: it
    must not die of a second MemoryError (it did: "exited with status 1")."""
    source = "def f(n):\n    a = []\n    while n:\n        a.append(len(a))\n    return 3\n"
    with Sandbox([("f", source)], limits=Limits(call_seconds=30, memory_bytes=512 << 20)) as sandbox:
        outcome = sandbox.call("f", (1,))
        assert outcome.error and outcome.error["type"] == "MemoryError", outcome
        assert sandbox.call("f", (0,)).value == 3 and sandbox.starts == 1


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


def test_an_infinite_loop_is_reported_as_loop_or_memory():
    outcome, _ = run("def f():\n    while True:\n        pass\n", seconds=1.0)
    assert outcome.ended == "timeout"
    assert "an infinite loop, or touching a lot of memory?" in outcome.detail


def test_a_timeout_while_filling_memory_says_how_much_memory_was_held():
    """400 MB written over and over: the call is stopped holding it, and the message says so."""
    source = "def f():\n    a = np.ones(50_000_000)\n    while True:\n        a += 1\n"
    outcome, _ = run(source, seconds=4.0)
    assert outcome.ended == "timeout" and "memory" in outcome.detail
    held = int(outcome.detail.split("while holding ")[1].split(" MiB")[0])
    assert 350 <= held <= 1024, outcome.detail


# ---------------------------------------------------------------- dicts of arrays, both ways

PARAMS = {"conv1.w": np.arange(18.0).reshape(2, 1, 3, 3), "fc.b": np.float32([1, 2]),
          "nested": [np.int64(3), (np.zeros((2, 0)), {"deep": np.ones(2, dtype=np.int8)})]}


def _assert_same_tree(got, expected):
    assert type(got) is type(expected), (got, expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            _assert_same_tree(got[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_same_tree(g, e)
    else:
        assert (got.dtype, np.shape(got)) == (expected.dtype, np.shape(expected))
        np.testing.assert_array_equal(got, expected)


def test_a_dict_of_arrays_with_nested_lists_and_tuples_goes_to_the_worker_and_back():
    outcome, _ = run("def f(params):\n    return params\n", args=(PARAMS,))
    assert outcome.ok, outcome
    _assert_same_tree(outcome.value, PARAMS)


def test_arrays_inside_a_dict_argument_are_writable_in_the_worker():
    """A student may update the parameters they are given in place (p -= lr * grad)."""
    source = "def f(params):\n    params['conv1.w'] -= 1\n    params['nested'][1][1]['deep'] += 1\n    return params\n"
    outcome, _ = run(source, args=(PARAMS,))
    assert outcome.ok, outcome.error
    np.testing.assert_array_equal(outcome.value["conv1.w"], PARAMS["conv1.w"] - 1)
    np.testing.assert_array_equal(outcome.value["nested"][1][1]["deep"], [2, 2])


def test_a_dict_with_a_key_that_is_not_a_string_comes_back_as_a_description():
    outcome, _ = run("def f():\n    return {'a': np.ones(2), 7: np.ones(2)}\n")
    assert isinstance(outcome.value, protocol.Opaque) and "key 7 (int)" in repr(outcome.value)


def test_an_object_array_inside_a_dict_comes_back_as_a_description_not_unpickled():
    outcome, _ = run("def f():\n    return {'w': np.array([{'x': 1}], dtype=object)}\n")
    assert isinstance(outcome.value["w"], protocol.Opaque) and "dtype object" in repr(outcome.value["w"])


def _through_pipe(write_to):
    """What protocol.read_frame makes of the bytes write_to(fd) writes into a real pipe (written
    from a thread: a frame may be larger than the pipe's buffer)."""
    read, write = os.pipe()
    writer = threading.Thread(target=lambda: (write_to(write), os.close(write)))
    writer.start()
    try:
        return protocol.read_frame(read, time.monotonic() + 10)
    finally:
        os.close(read)  # a writer still blocked on a full pipe then fails and ends
        writer.join(10)


def _frame(message, arrays=()):
    return _through_pipe(lambda fd: protocol.write_frame(fd, message, arrays))


def _raw_frame(header, payloads=b""):
    data = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return _through_pipe(lambda fd: _write_all(fd, struct.pack("!I", len(data)) + data + payloads))


def _write_all(fd, data):
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError:  # the reader gave up and closed its end
        pass


def test_encoded_dict_decodes_to_the_same_values():
    arrays = []
    tree = protocol.encode(PARAMS, arrays)
    message, received = _frame({"value": tree}, arrays)
    _assert_same_tree(protocol.decode(message["value"], received), PARAMS)


@pytest.mark.parametrize("tree,arrays,words", [
    ({"$array": 3}, 1, "does not name"),
    ({"$array": -1}, 1, "does not name"),
    ({"$array": True}, 1, "does not name"),
    ({"$scalar": 0}, 1, "shape (2,)"),
    ({"$dict": [[1, 2]]}, 0, "not a string"),
    ({"$dict": [["a", 1], ["a", 2]]}, 0, "appears twice"),
    ({"$dict": {"a": 1}}, 0, "pairs"),
    ({"$tuple": 5}, 0, "unexpected"),
    ({"$what": 1}, 0, "unexpected"),
], ids=["index_out_of_range", "negative_index", "bool_index", "scalar_not_0d", "non_string_key",
        "duplicate_key", "dict_not_pairs", "tuple_not_list", "unknown_marker"])
def test_decode_rejects_a_malformed_value_with_a_protocol_error(tree, arrays, words):
    with pytest.raises(protocol.ProtocolError, match=words.replace("(", r"\(").replace(")", r"\)")):
        protocol.decode(tree, [np.zeros(2)] * arrays)


def test_decode_rejects_values_nested_deeper_than_allowed():
    tree = 1
    for _ in range(protocol.MAX_DEPTH + 5):
        tree = [tree]
    with pytest.raises(protocol.ProtocolError, match="nested"):
        protocol.decode(tree, [])


def test_a_header_nested_too_deep_for_json_is_a_protocol_error():
    with pytest.raises(protocol.ProtocolError, match="not valid"):
        _raw_frame(b'{"message": ' + b"[" * 200_000 + b"]" * 200_000 + b', "sizes": []}')


def test_a_pickled_object_array_from_the_worker_is_refused_not_unpickled():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"payload": 1}], dtype=object), allow_pickle=True)
    payload = buffer.getvalue()
    with pytest.raises(protocol.ProtocolError, match="not a valid .npy"):
        _raw_frame({"message": {"ok": True, "value": {"$array": 0}}, "sizes": [len(payload)]}, payload)


def test_an_array_announcing_more_data_than_it_carries_is_refused_before_allocation():
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    payload = buffer.getvalue() + b"\0" * 64
    with pytest.raises(protocol.ProtocolError, match="announces 8796093022208 bytes"):
        _raw_frame({"message": {"ok": True, "value": {"$array": 0}}, "sizes": [len(payload)]}, payload)


FILL = ("def f(folder):\n    import os\n    written = 0\n    try:\n        for k in range(20):\n"
        "            with open(os.path.join(folder, f'fill{k}'), 'wb') as fh:\n"
        "                for _ in range(10):\n                    fh.write(b'x' * (1 << 20))\n"
        "                    written += 1 << 20\n    except OSError:\n        pass\n    return written\n")


@pytest.mark.parametrize("folder,most", [("/tmp", 32 << 20), (".", 32 << 20), ("/dev/shm", 0), ("/dev", 0)])
def test_every_writable_folder_is_a_small_tmpfs(folder, most):
    """Many files of at most file_bytes each: the folder must fill up, not the machine's RAM."""
    with Sandbox([("f", FILL)], limits=Limits(call_seconds=10, scratch_bytes=32 << 20)) as sandbox:
        written = sandbox.call("f", (folder,))
    assert written.ok and written.value <= most, written


def test_etc_holds_only_what_the_loader_needs():
    """The host's /etc (passwords, keys, configuration) is not bound: only the loader's cache
    and the time zone are."""
    with Sandbox([("f", LISTDIR)]) as sandbox:
        seen = sandbox.call("f", ("/etc",))
    assert seen.ok and set(seen.value) <= {"ld.so.cache", "localtime"}, seen.value
