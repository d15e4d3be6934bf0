"""Run a submission's solution cells in an isolated worker process and call its functions.

The worker (worker.py) is copied into a fresh scratch directory and started as
`python -I -S worker.py` with an explicit sys.path (the stdlib and the site-packages that
hold numpy, no .pth processing, so an editable install of the course is not importable),
cwd and HOME = scratch, a minimal environment and rlimits on memory, CPU time and file size.
Around it, the strongest isolation this machine offers:

- "bwrap": bubblewrap; the worker sees only the system directories, the interpreter and
  numpy's site-packages (read-only, the course packages masked) and its scratch directory:
  no course tree anywhere on the machine, no network, own pid namespace, dies with the grader;
- "unshare": user + mount + net + pid namespaces via util-linux unshare, course tree hidden;
- "rlimits": rlimits and the import blocker only.

Student code can crash, hang or exit: a call then fails with a message, the process group is
killed and the next call starts a fresh worker that re-runs the cells (skipping a cell that
itself killed or hung the worker).
"""
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import protocol

PACKAGE_DIR = Path(__file__).resolve().parent
WORKER_FILES = ("worker.py", "protocol.py", "probes.py", "baselines.py")
BLOCKED_PACKAGES = ("solutions", "autograder")
ISOLATION_LEVELS = ("bwrap", "unshare", "rlimits")


@dataclass
class Limits:
    """Resource limits of one worker. call_seconds: wall time of one exec/call."""
    call_seconds: float = 10.0
    memory_bytes: int = 1 << 30
    cpu_seconds: int = 300
    file_bytes: int = 16 << 20
    output_bytes: int = 64 << 10
    startup_seconds: float = 30.0


@dataclass
class Outcome:
    """What one request to the worker produced.

    value: the decoded return value (ok only); error: {"type", "message", "where"} when the
    student's code raised; missing: the function is not defined; ended: why the worker
    process ended or was killed ("timeout", "exited", "garbage", ...), with detail.
    """
    ok: bool = False
    value: object = None
    args_after: list = field(default_factory=list)
    error: dict | None = None
    missing: bool = False
    ended: str | None = None
    detail: str = ""
    extra: dict = field(default_factory=dict)


def course_paths():
    """Directories the student must not see: the repo (or wherever the course packages live)."""
    paths = {PACKAGE_DIR.parent}
    try:
        import solutions
        paths.add(Path(solutions.__file__).resolve().parent.parent)
    except ImportError:
        pass
    return sorted(paths)


def python_paths():
    """sys.path for the worker: the stdlib, and the site-packages that holds numpy."""
    stdlib = [p for p in sys.path if p and Path(p).resolve().is_relative_to(Path(sys.base_prefix).resolve())
              and "site-packages" not in p]
    numpy_site = str(Path(np.__file__).resolve().parent.parent)
    return [p for p in stdlib if Path(p).exists()] + [numpy_site]


def _needed_dirs():
    """Directories the worker must be able to read: the interpreter and the numpy install."""
    return sorted({Path(sys.base_prefix).resolve(), Path(np.__file__).resolve().parent.parent,
                   Path(os.path.realpath(sys.executable)).parent})


# What a worker under bubblewrap sees of the machine, besides the interpreter, the numpy
# install and its own scratch directory: the system's programs and libraries, read-only.
# Everything else (every checkout of the course, home directories, nbgrader's gradebook)
# is simply absent, wherever it lives.
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64")


def _bwrap_command(scratch, hidden):
    """An allowlist view: SYSTEM_DIRS, the interpreter and numpy's site-packages read-only,
    empty /tmp, the scratch dir writable. hidden needs no mount: nothing outside the list is
    there; the course packages are masked even inside site-packages (a non-editable install)."""
    command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
               "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):  # merged /usr: /bin -> usr/bin
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    for path in _needed_dirs():
        command += ["--ro-bind", str(path), str(path)]
    for package in BLOCKED_PACKAGES:
        for base in _needed_dirs():
            if (base / package).is_dir():
                command += ["--tmpfs", str(base / package)]
    # bwrap builds / as a tmpfs: make it read-only so that only scratch and /tmp take writes.
    return command + ["--bind", str(scratch), str(scratch), "--remount-ro", "/", "--chdir", str(scratch)]


def _mask_targets(hidden, scratch):
    """What to cover so that the hidden directories cannot be read: each one whole, or, when the
    interpreter or numpy lives inside it (a virtualenv in the repo), every entry beside the way
    down to them."""
    needed, targets = _needed_dirs(), []
    for path in map(Path, hidden):
        if not path.exists() or Path(scratch).is_relative_to(path):
            continue
        if any(n.is_relative_to(path) for n in needed):
            targets += [entry for entry in path.iterdir() if not any(n.is_relative_to(entry) for n in needed)]
        else:
            targets.append(path)
    return targets


def _unshare_command(scratch, hidden):
    mounts = [f"mount -t tmpfs none '{p}'" if p.is_dir() else f"mount --bind /dev/null '{p}'"
              for p in _mask_targets(hidden, scratch)]
    script = " && ".join(mounts + ['cd "$0"', 'exec "$@"'])
    return ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork",
            "--kill-child", "sh", "-c", script, str(scratch)]


def _wrap(level, scratch, hidden):
    if level == "bwrap":
        return _bwrap_command(scratch, hidden)
    if level == "unshare":
        return _unshare_command(scratch, hidden)
    return []


@functools.cache
def available_isolation(preferred=None):
    """The strongest isolation level that works here (checked by running `true` under it)."""
    levels = ISOLATION_LEVELS if preferred is None else ISOLATION_LEVELS[ISOLATION_LEVELS.index(preferred):]
    for level in levels:
        if level == "rlimits":
            return level
        tool = "bwrap" if level == "bwrap" else "unshare"
        if shutil.which(tool) is None:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            try:
                done = subprocess.run(_wrap(level, scratch, course_paths()) + ["/bin/true"],
                                      capture_output=True, timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if done.returncode == 0:
                return level
    return "rlimits"


def _descendants(root):
    """root and every process below it, from /proc (just [root] where /proc cannot be read).

    The worker runs below bwrap or unshare, so its pid is not the launcher's.
    """
    children = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return [root]
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                # comm may hold spaces and parentheses: the fields after the last ")" are fixed
                ppid = int(f.read().rpartition(b")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        found.append(pid)
        frontier += children.get(pid, [])
    return found


def _resident_bytes(pid):
    """Resident memory of pid in bytes, 0 if /proc does not say."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == "VmRSS":
                    return int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def timeout_detail(seconds, resident, limits):
    """Why a call timed out, in a student's words. resident: bytes the worker held when it was
    stopped; a large share of the limit means the call was busy filling memory, which is slow."""
    text = f"did not finish within {seconds:g} s"
    if resident >= limits.memory_bytes // 4:
        return (f"{text} while holding {resident / 2**20:.0f} MiB of memory (the limit is "
                f"{limits.memory_bytes / 2**30:.1f} GiB): touching a lot of memory is slow, avoid building huge "
                "arrays (or is it an infinite loop?)")
    return f"{text} (an infinite loop, or touching a lot of memory?)"


def _minimal_env(scratch):
    return {"PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


def _set_rlimits(limits):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # A full output file must make writes fail, not kill the worker with SIGXFSZ.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


class WorkerProcess:
    """One running worker: start it, send requests, kill it."""

    def __init__(self, *, limits, isolation, hidden):
        self.limits, self.isolation, self.hidden = limits, isolation, hidden
        self.scratch = Path(tempfile.mkdtemp(prefix="cnn-grade-"))
        for name in WORKER_FILES:
            shutil.copy(PACKAGE_DIR / name, self.scratch / name)
        config = {"path": python_paths() + [str(self.scratch)], "blocked": list(BLOCKED_PACKAGES),
                  "output_limit": limits.output_bytes}
        python = os.path.realpath(sys.executable)
        command = _wrap(isolation, self.scratch, hidden) + [
            python, "-I", "-S", str(self.scratch / "worker.py"), json.dumps(config)]
        self.stderr = open(self.scratch / "launcher.txt", "wb")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
            cwd=self.scratch, env=_minimal_env(self.scratch), start_new_session=True,
            preexec_fn=_set_rlimits(limits))
        hello = self._receive(time.monotonic() + limits.startup_seconds)
        if not hello.get("ready"):
            self.kill()
            raise RuntimeError(f"the sandboxed worker did not start: {self.launcher_output()}")

    def launcher_output(self):
        try:
            return (self.scratch / "launcher.txt").read_text(errors="replace")[-500:]
        except OSError:
            return ""

    def _receive(self, deadline):
        message, arrays = protocol.read_frame(self.process.stdout.fileno(), deadline)
        message["_arrays"] = arrays
        return message

    def request(self, message, arrays=(), seconds=None, callback=None):
        """Send one request, return the reply dict (with "_arrays"). Raises protocol errors.

        While the student's code runs it may ask for the result of an earlier graded function
        ({"callback": name, "args", "kwargs"}); callback(name, args, kwargs) computes it here.
        """
        deadline = time.monotonic() + (seconds or self.limits.call_seconds)
        protocol.write_frame(self.process.stdin.fileno(), message, arrays)
        while True:
            reply = self._receive(deadline)
            if "callback" not in reply:
                return reply
            self._answer(reply, callback)

    def _answer(self, request, callback):
        arrays, out = request.pop("_arrays"), []
        try:
            if callback is None:
                raise RuntimeError("no graded function can be called back here")
            args = protocol.decode(request.get("args", []), arrays)
            kwargs = {str(k): protocol.decode(v, arrays) for k, v in dict(request.get("kwargs", {})).items()}
            answer = {"ok": True, "value": protocol.encode(callback(str(request["callback"]), args, kwargs), out)}
        except Exception as exc:  # the reference rejects the student's arguments: they see the error
            answer, out = {"ok": False, "type": type(exc).__name__, "message": str(exc)[:500]}, []
        protocol.write_frame(self.process.stdin.fileno(), answer, out)

    def resident_bytes(self):
        """Resident memory of the largest process of the worker's tree (the worker itself)."""
        return max(map(_resident_bytes, _descendants(self.process.pid)), default=0)

    def output(self):
        """What the student's code printed (already capped by the worker)."""
        try:
            with open(self.scratch / "output.txt", "rb") as f:
                return f.read(self.limits.output_bytes + 4096).decode("utf-8", "replace")
        except OSError:
            return ""

    def exit_description(self):
        """Why the process ended: exit code or signal, in words a student understands."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the worker stopped answering"
        if code < 0:
            name = signal.Signals(-code).name
            hints = {"SIGKILL": "killed: out of memory or over the CPU-time limit?",
                     "SIGXCPU": "over the CPU-time limit", "SIGSEGV": "a crash (segmentation fault)"}
            return f"the process was ended by {name} ({hints.get(name, 'a signal')})"
        return f"the process exited with status {code} (os._exit or sys.exit from your code?)"

    def kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.stderr):
            stream.close()

    def close(self):
        self.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)


class Sandbox:
    """A submission's cells in a (restartable) worker. Use as a context manager.

    cells: [(grade_id, source)] in notebook order. Each cell runs separately; its error, if
    any, is kept in cell_errors. If the worker ends during a call, the next call restarts it.
    """

    MAX_STARTS = 12

    def __init__(self, cells, *, limits=None, isolation=None, hidden=()):
        self.cells = list(cells)
        self.limits = limits or Limits()
        self.isolation = isolation or available_isolation()
        self.hidden = sorted({*map(Path, hidden), *course_paths()})
        self.cell_errors = {}
        self.bad_cells = set()
        self.outputs = []
        self.starts = 0
        self.worker = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.worker is not None:
            self.outputs.append(self.worker.output())
            self.worker.close()
            self.worker = None

    def output(self):
        return "".join(self.outputs + ([self.worker.output()] if self.worker else []))

    def _retire(self):
        self.outputs.append(self.worker.output())
        self.worker.close()
        self.worker = None

    def _ensure_started(self):
        while self.worker is None:
            if self.starts >= self.MAX_STARTS:
                raise RuntimeError(f"the worker was restarted {self.starts} times; giving up on this submission")
            self.starts += 1
            self.worker = WorkerProcess(limits=self.limits, isolation=self.isolation, hidden=self.hidden)
            for cell, source in self.cells:
                if cell in self.bad_cells:
                    continue
                outcome = self._send({"op": "exec", "cell": cell, "source": source})
                if outcome.ended:
                    self.bad_cells.add(cell)
                    self.cell_errors[cell] = {"type": "WorkerEnded", "message": outcome.detail, "where": None}
                    break
                if not outcome.ok:
                    self.cell_errors[cell] = outcome.error

    def _send(self, message, arrays=(), seconds=None, callback=None):
        """One request; a dead, hung or babbling worker is retired and described in the outcome."""
        try:
            reply = self.worker.request(message, arrays, seconds, callback)
        except protocol.Timeout:
            resident = self.worker.resident_bytes()  # before the kill: was the call filling memory?
            self._retire()
            return Outcome(ended="timeout", detail=timeout_detail(seconds or self.limits.call_seconds, resident,
                                                                  self.limits))
        except protocol.Closed:
            detail = self.worker.exit_description()
            self._retire()
            return Outcome(ended="exited", detail=f"your code ended the worker process: {detail}")
        except (protocol.ProtocolError, OSError) as error:
            self._retire()
            return Outcome(ended="garbage", detail=f"the worker's answer was unreadable ({error}): "
                                                   "did your code write to the grader's pipe or patch numpy.save?")
        arrays = reply.pop("_arrays")
        try:
            if not reply.get("ok"):
                error = reply.get("error")
                if error is not None and not isinstance(error, dict):
                    raise protocol.ProtocolError("error is not a dict")
                return Outcome(error=error, missing=bool(reply.get("missing")))
            value = protocol.decode(reply.get("value"), arrays)
            after = [protocol.decode(a, arrays) for a in reply.get("args_after", [])]
        except (protocol.ProtocolError, TypeError, AttributeError) as error:
            self._retire()
            return Outcome(ended="garbage", detail=f"the worker's answer was malformed: {error}")
        extra = {k: v for k, v in reply.items() if k not in ("ok", "value", "args_after")}
        return Outcome(ok=True, value=value, args_after=after, extra=extra)

    def call(self, function, args, kwargs=None, seconds=None, proxies=(), callback=None):
        """Call function(*args, **kwargs) in the worker. Probe objects stand for test functions.

        proxies: names of graded functions the call sees as callback(name, args, kwargs),
        computed in this process, instead of the student's own versions.
        """
        self._ensure_started()
        out = []
        message = {"op": "call", "function": function, "args": protocol.encode(tuple(args), out)["$tuple"],
                   "kwargs": {k: protocol.encode(v, out) for k, v in (kwargs or {}).items()},
                   "proxies": list(proxies)}
        return self._send(message, out, seconds, callback)

    def time(self, function, args, kwargs=None, repeat=3, seconds=None, proxies=(), callback=None):
        """Best-of-repeat seconds of the student's function and of the contract's baseline."""
        self._ensure_started()
        out = []
        message = {"op": "time", "function": function, "args": protocol.encode(tuple(args), out)["$tuple"],
                   "kwargs": {k: protocol.encode(v, out) for k, v in (kwargs or {}).items()}, "repeat": repeat,
                   "proxies": list(proxies)}
        return self._send(message, out, seconds, callback)
