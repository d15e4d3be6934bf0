"""The grader's answers to a student's call of an earlier graded function, under limits.

Why a channel at all: convolve2d may call the student's corr2d. If corr2d is wrong, convolve2d
would fail too and the student would pay twice for one mistake. So while convolve2d is graded,
the worker replaces corr2d by a stand-in that asks the grader, which answers with the
reference's result. (Sending the reference code into the sandbox instead would hand it to the
student; running convolve2d against a fixed corr2d in the grader would run student code there.)

Why it cannot be an oracle: the channel is the student's process writing to the grader, so
anything in the worker can send any request. The grader therefore answers only what the
current call allows: graded functions that come before the function under test in the
assignment and that the submission itself defines (a cell that ran). Never the function
under test, never a later one, never anything else. Arguments and answers are bounded in
size (Limits.callback_bytes).

Why it cannot be an amplifier: the reference runs in a separate helper process, forked from
the grading process, with the same memory and CPU limits as the student's worker, and each
answer must arrive before the student's call's own deadline; otherwise the helper is killed
and the student's call times out. The grading process itself never computes on request.
"""
import os
import resource
import signal

import numpy as np

from . import protocol
from .sandbox import _status_bytes, die_with_parent


def allowed_callbacks(functions, function, sandbox):
    """The names the grader answers while `function` is called: graded functions listed before
    it (functions: the assignment's, in contract order) that the submission defines."""
    if function not in functions:
        return frozenset()
    return frozenset(f for f in functions[:functions.index(function)] if sandbox.defined(f))


def _refusal(kind, message):
    return {"ok": False, "type": kind, "message": message[:500]}, []


class Callbacks:
    """Answers a worker's callback requests for the names in `allowed`, computed by `reference`
    (name -> function) in a limited helper process. Close it (or use it as a context manager)."""

    def __init__(self, allowed, reference, limits):
        self.allowed, self.reference, self.limits = frozenset(allowed), reference, limits
        self.helper = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def answer(self, request, deadline):
        """(message, arrays) for the worker: the reference result or an error it raises.
        Raises protocol.Timeout when the helper does not answer before the deadline."""
        name, arrays = request.get("callback"), request.get("_arrays", [])
        if name not in self.allowed:
            names = ", ".join(sorted(self.allowed)) or "no function"
            return _refusal("PermissionError", f"the grader answers only {names} during this call, not {name!r:.60}")
        if sum(a.nbytes for a in arrays) > self.limits.callback_bytes:
            return _refusal("MemoryError", f"the arguments of {name} are larger than the "
                                           f"{self.limits.callback_bytes >> 20} MiB a grader-computed call accepts")
        message = {"function": name, "args": request.get("args", []), "kwargs": request.get("kwargs", {})}
        try:
            return self._ask(message, arrays, deadline)
        except protocol.Timeout:
            self.close()
            raise
        except protocol.ProtocolError:
            self.close()  # the helper died (memory or CPU limit): the next call starts a new one
            return _refusal("MemoryError", f"the grader's computation of {name} for your arguments exceeded "
                                           "the memory or CPU-time limit")

    def _ask(self, message, arrays, deadline):
        if self.helper is None:
            self.helper = _Helper(self.reference, self.limits)
        protocol.write_frame(self.helper.requests, message, arrays, deadline)
        return protocol.read_frame(self.helper.replies, deadline, max_bytes=self.limits.callback_bytes)

    def close(self):
        if self.helper is not None:
            self.helper.kill()
            self.helper = None


class _Helper:
    """A forked child of the grading process that computes reference results, one per request."""

    def __init__(self, reference, limits):
        request_r, self.requests = os.pipe()
        self.replies, reply_w = os.pipe()
        # The limit binds what the child allocates beyond what it inherits from the grader.
        address_space = _status_bytes(os.getpid(), "VmSize") + limits.memory_bytes
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover (runs in the child)
            code = 0
            try:
                os.close(self.requests)
                os.close(self.replies)
                die_with_parent()
                resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
                resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
                _serve(reference, request_r, reply_w, limits.callback_bytes)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(request_r)
        os.close(reply_w)
        os.set_blocking(self.requests, False)
        os.set_blocking(self.replies, False)

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.requests)
        os.close(self.replies)


def _serve(reference, fd_in, fd_out, max_bytes):
    """The helper's loop: decode a request, run the reference, send its result or its error."""
    while True:
        try:
            request, arrays = protocol.read_frame(fd_in)
        except protocol.Closed:
            return
        out = []
        try:
            args = protocol.decode(request["args"], arrays)
            kwargs = {str(k): protocol.decode(v, arrays) for k, v in dict(request["kwargs"]).items()}
            value = reference(str(request["function"]))(*args, **kwargs)
            reply = {"ok": True, "value": protocol.encode(value, out)}
            if sum(np.asarray(a).nbytes for a in out) > max_bytes:
                reply, out = _refusal("MemoryError", f"the result would be larger than the {max_bytes >> 20} MiB "
                                                     "a grader-computed call may return")
        except Exception as exc:  # the reference rejects the student's arguments: they see the error
            reply, out = _refusal(type(exc).__name__, str(exc))
        protocol.write_frame(fd_out, reply, out)
