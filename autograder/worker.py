"""The sandboxed worker: runs a student's solution cells and calls their functions on request.

Started by sandbox.py as `python -I -S worker.py CONFIG` beside protocol.py and probes.py.
CONFIG is JSON: {"path": [sys.path entries], "blocked": ["solutions", "autograder"],
"output_limit": bytes, "output_fd": the file descriptor that collects what the code prints}.
It speaks protocol frames on its original stdin/stdout, which it moves to private file
descriptors first so that whatever the student prints cannot corrupt them.

Requests: {"op": "exec", "cell", "source"}, {"op": "call", "function", "args", "kwargs",
"proxies"}. Every reply has "ok"; failures carry "error". Nothing here is trusted by the
grader: the student's code shares this process and may rewrite any of it. What protects the
grade is outside: the grader times calls itself, checks every value it receives, and answers
a callback only for the names it allows during the current call.
Imports only the stdlib, numpy and its sibling modules.
"""
import builtins
import contextlib
import json
import linecache
import os
import resource
import sys
import traceback

CONFIG = json.loads(sys.argv[1])
sys.path[:] = CONFIG["path"]


class _BlockCourseCode:
    """Meta-path finder that refuses the course's own packages, wherever they are installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in CONFIG["blocked"]:
            raise ImportError(f"{name!r} is not available to submissions: write the code yourself")
        return None


sys.meta_path.insert(0, _BlockCourseCode())

import numpy as np  # noqa: E402  (after the import blocker and sys.path are in place)

import probes  # noqa: E402
import protocol  # noqa: E402


class CappedWriter:
    """A text stream that keeps the first `limit` bytes and counts the rest."""

    def __init__(self, fd, limit):
        self.fd, self.limit, self.kept, self.dropped = fd, limit, 0, 0

    def write(self, text):
        data = str(text).encode("utf-8", "replace")
        room = max(0, self.limit - self.kept)
        if room:
            try:
                os.write(self.fd, data[:room])
            except OSError:
                pass
        self.kept += min(room, len(data))
        self.dropped += max(0, len(data) - room)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def _take_protocol_fds():
    """Move the protocol to private fds; fd 0 reads /dev/null, fds 1 and 2 go to the output fd."""
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log = CONFIG["output_fd"]
    os.dup2(log, 1)
    os.dup2(log, 2)
    writer = CappedWriter(log, CONFIG["output_limit"])
    sys.stdout = sys.stderr = writer
    sys.stdin = open(os.devnull)
    return fd_in, fd_out


def _limit_processes():
    """No fork bombs, and no forked copy of this worker answering on the grader's pipe.

    RLIMIT_NPROC does not bind a process that is root in its namespace, so a forked child
    also ends at once.
    """
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    except (ValueError, OSError):
        pass
    os.register_at_fork(after_in_child=lambda: os._exit(70))


def _error(exc):
    """A student-facing description of exc: type, message, and the line in their cell."""
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<cell "):
            where = {"cell": frame.filename[6:-1], "line": frame.lineno, "text": (frame.line or "").strip()}
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith("<cell "):
        where = {"cell": exc.filename[6:-1], "line": exc.lineno, "text": (exc.text or "").strip()}
    try:
        message = str(exc)
    except BaseException:  # a student's exception class may break its own __str__
        message = "<unprintable message>"
    return {"type": type(exc).__name__, "message": message[:500], "where": where}


def _described(exc):
    """_error(exc), or, when describing it runs out of memory itself, only its type: the failed
    call's frames, still held by the traceback, keep everything it allocated (a loop that filled
    a list up to the memory limit), so the traceback is dropped first and the worker lives on."""
    try:
        return _error(exc)
    except MemoryError:
        exc.__traceback__ = None
        return {"type": type(exc).__name__, "message": "", "where": None}


class _GraderComputed:
    """Stands in for a graded function of an earlier cell while another function is graded.

    The grader computes its result (reference behaviour, answered over the protocol), so a
    mistake in corr2d costs points on corr2d only, not again on convolve2d that calls it.
    """

    def __init__(self, name, fd_in, fd_out):
        self.name, self.fd_in, self.fd_out = name, fd_in, fd_out

    def __call__(self, *args, **kwargs):
        out = []
        message = {"callback": self.name, "args": protocol.encode(tuple(args), out)["$tuple"],
                   "kwargs": {k: protocol.encode(v, out) for k, v in kwargs.items()}}
        protocol.write_frame(self.fd_out, message, out)
        reply, arrays = protocol.read_frame(self.fd_in)
        if not reply.get("ok"):
            kind = getattr(builtins, str(reply.get("type")), None)
            kind = kind if isinstance(kind, type) and issubclass(kind, Exception) else RuntimeError
            raise kind(str(reply.get("message")))
        return protocol.decode(reply["value"], arrays)


class Worker:
    def __init__(self, fd_in, fd_out):
        self.fd_in, self.fd_out = fd_in, fd_out
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "np": np}

    def exec(self, request, arrays):
        cell, source = request["cell"], request["source"]
        filename = f"<cell {cell}>"
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
        code = compile(source, filename, "exec")
        exec(code, self.namespace)
        return {"ok": True}, []

    def _function(self, name):
        fn = self.namespace.get(name)
        if not callable(fn):
            return None
        return fn

    def _args(self, request, arrays):
        args = [self._rebuild(a) for a in protocol.decode(request["args"], arrays)]
        kwargs = {k: self._rebuild(protocol.decode(v, arrays)) for k, v in request.get("kwargs", {}).items()}
        return args, kwargs

    @contextlib.contextmanager
    def _proxies(self, names):
        saved = {name: self.namespace.get(name) for name in names}
        self.namespace.update({name: _GraderComputed(name, self.fd_in, self.fd_out) for name in names})
        try:
            yield
        finally:
            for name, fn in saved.items():
                if fn is None:
                    self.namespace.pop(name, None)
                else:
                    self.namespace[name] = fn

    @classmethod
    def _rebuild(cls, value):
        """value with Probes turned into functions and every array (also inside lists, tuples
        and dicts, e.g. a network's parameters) a writable copy: np.load gives read-only arrays,
        and students may write into theirs."""
        if isinstance(value, protocol.Probe):
            return probes.build(value.name, value.args)
        if isinstance(value, np.ndarray):
            return value.copy()
        if isinstance(value, (list, tuple)):
            return type(value)(cls._rebuild(v) for v in value)
        if isinstance(value, dict):
            return {k: cls._rebuild(v) for k, v in value.items()}
        return value

    def call(self, request, arrays):
        fn = self._function(request["function"])
        if fn is None:
            return {"ok": False, "missing": True}, []
        args, kwargs = self._args(request, arrays)
        with self._proxies(request.get("proxies", [])):
            value = fn(*args, **kwargs)
        out = []
        reply = {"ok": True, "value": protocol.encode(value, out),
                 "args_after": [protocol.encode(a, out) if isinstance(a, np.ndarray) else None for a in args]}
        return reply, out


def main():
    fd_in, fd_out = _take_protocol_fds()
    _limit_processes()
    worker = Worker(fd_in, fd_out)
    protocol.write_frame(fd_out, {"ok": True, "ready": True, "pid": os.getpid()})
    handlers = {"exec": worker.exec, "call": worker.call}
    while True:
        try:
            request, arrays = protocol.read_frame(fd_in)
        except protocol.Closed:
            return
        try:
            reply, out = handlers[request["op"]](request, arrays)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code too
            reply, out = {"ok": False, "error": _described(exc)}, []
        sys.stdout.flush()
        try:
            protocol.write_frame(fd_out, reply, out)
        except (ValueError, TypeError, OSError) as exc:
            protocol.write_frame(fd_out, {"ok": False, "error": {
                "type": type(exc).__name__, "message": f"result could not be sent back: {exc}"[:500],
                "where": None}})


if __name__ == "__main__":
    main()
