"""autograder.seccomp: the worker's filter, as bytes and in force."""
import struct

import pytest

from autograder import seccomp
from autograder.sandbox import Limits, Sandbox


@pytest.mark.parametrize("machine", sorted(seccomp.ARCHITECTURES))
def test_the_program_checks_the_architecture_then_denies_each_listed_call(machine):
    code = seccomp.program(machine)
    ops = [struct.unpack("=HBBI", code[i:i + 8]) for i in range(0, len(code), 8)]
    arch, calls = seccomp.ARCHITECTURES[machine]
    assert ops[1][0] == 0x15 and ops[1][3] == arch and ops[2][3] == 0x80000000  # wrong arch: kill
    assert ops[-2][3] == 0x7FFF0000 and ops[-1][3] == 0x00050000 | seccomp.EPERM  # allow, then deny
    denied = {k for code_, jt, jf, k in ops[4:-2] if code_ == 0x15}
    assert denied == set(calls.values())
    for index, (code_, jt, jf, k) in enumerate(ops[4:-2], start=4):
        assert index + 1 + jt == len(ops) - 1, "every check jumps to the deny instruction"


def test_an_unknown_architecture_has_no_filter():
    assert seccomp.program("pdp11") is None and seccomp.filter_fd("pdp11") is None


TRY = '''def f():
    import ctypes, os, threading
    libc = ctypes.CDLL(None, use_errno=True)

    def unshare():
        if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
            raise OSError(ctypes.get_errno(), "unshare")

    out = {}
    for name, attempt in [("fork", os.fork), ("thread", lambda: threading.Thread(target=int).start()),
                          ("unshare", unshare)]:
        try:
            attempt()
            out[name] = "succeeded"
        except (OSError, RuntimeError) as error:
            out[name] = type(error).__name__
    return out
'''


@pytest.mark.sandbox
def test_in_the_sandbox_no_process_thread_or_namespace_can_be_made():
    with Sandbox([("f", TRY)], limits=Limits(call_seconds=5)) as sandbox:
        outcome = sandbox.call("f", ())
    assert outcome.ok and "succeeded" not in outcome.value.values(), outcome.value
