"""Run a submission's solution cells in an isolated worker process and call its functions.

The threat model: a student's code is hostile. It may try to read the reference solutions or
other students' work, forge its score, plant code that rigs later submissions, or stop the
batch. So it runs only in a bubblewrap sandbox ("bwrap"), and without one nothing is graded
unless the instructor explicitly accepts the risk (isolation "none", --unsafe-no-sandbox).

Under bubblewrap the worker (`python -I -S worker.py`, an explicit sys.path) sees:

- the system's programs and libraries (/usr, /bin, /lib...) and the interpreter, read-only,
  with every site-packages/dist-packages directory on them masked: only the standard library
  and numpy (bound alone at /sandbox/site) can be imported, not scipy, nbgrader or the course;
- the worker's three files at /sandbox/worker, read-only;
- its cwd /sandbox/scratch and /tmp: tmpfs of Limits.scratch_bytes each, the only writable places;
- no network, no other process (own pid namespace), no /etc beyond the loader's cache.

It runs as uid 65534 in its own user namespace with every capability dropped, no new
privileges and no nested user namespaces (bwrap started by root would otherwise leave it
root with every capability: it could remount the read-only binds writable). rlimits bound its
memory, CPU time and file sizes, and a seccomp filter (autograder/seccomp.py) stops it from
starting processes or threads, entering namespaces or mounting; it dies with the grading process.

Student code can crash, hang or exit: a call then fails with a message, the worker is killed
and the next call starts a fresh one that re-runs the cells (skipping a cell that itself
killed or hung the worker).
"""
import ctypes
import functools
import glob
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import protocol, seccomp

PACKAGE_DIR = Path(__file__).resolve().parent
WORKER_FILES = ("worker.py", "protocol.py", "probes.py")
BLOCKED_PACKAGES = ("solutions", "autograder")
SITE, WORKER_DIR, SCRATCH = "/sandbox/site", "/sandbox/worker", "/sandbox/scratch"
SANDBOX_UID = 65534
INSTALL_HINT = ("install bubblewrap 0.8 or newer (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
                "bubblewrap), or pass --unsafe-no-sandbox to run student code without any sandbox")


class SandboxUnavailable(RuntimeError):
    """bubblewrap does not work here and the instructor did not accept grading without it."""


@dataclass
class Limits:
    """Resource limits of one submission's grading: the one place they are set.

    call_seconds: wall time of one exec/call of student code (grader computations made on the
    student's behalf during the call count against it); submission_seconds: wall time of the
    whole submission, enforced from outside its grading process (None: derived from the cases).
    memory_bytes and cpu_seconds bind the worker and, separately, the process that computes
    callbacks; scratch_bytes sizes each of the worker's writable tmpfs (cwd and /tmp);
    callback_bytes: the most array data one callback may send or receive.
    """
    call_seconds: float = 10.0
    memory_bytes: int = 1 << 30
    cpu_seconds: int = 300
    file_bytes: int = 16 << 20
    output_bytes: int = 64 << 10
    startup_seconds: float = 30.0
    scratch_bytes: int = 64 << 20
    callback_bytes: int = 64 << 20
    submission_seconds: float | None = None


@dataclass
class Outcome:
    """What one request to the worker produced.

    value: the decoded return value (ok only); error: {"type", "message", "where"} when the
    student's code raised; missing: the function is not defined; ended: why the worker
    process ended or was killed ("timeout", "exited", "garbage", ...), with detail;
    seconds: wall time from sending the request to receiving the answer, measured here.
    """
    ok: bool = False
    value: object = None
    args_after: list = field(default_factory=list)
    error: dict | None = None
    missing: bool = False
    ended: str | None = None
    detail: str = ""
    seconds: float = 0.0


def course_paths():
    """Directories the student must not see: the repo (or wherever the course packages live)."""
    paths = {PACKAGE_DIR.parent}
    try:
        import solutions
        paths.add(Path(solutions.__file__).resolve().parent.parent)
    except ImportError:
        pass
    return sorted(paths)


def numpy_dirs():
    """numpy's package directory and, for a manylinux wheel, its bundled libraries beside it."""
    package = Path(np.__file__).resolve().parent
    return [d for d in (package, package.parent / "numpy.libs") if d.is_dir()]


def stdlib_paths():
    """The standard library's directories on this interpreter's sys.path."""
    base = Path(sys.base_prefix).resolve()
    return [p for p in sys.path if p and Path(p).exists() and Path(p).resolve().is_relative_to(base)
            and "site-packages" not in p and "dist-packages" not in p]


def python_paths(isolation):
    """sys.path of the worker: the stdlib, numpy, the worker's own modules."""
    if isolation == "bwrap":
        return stdlib_paths() + [SITE, WORKER_DIR]
    return stdlib_paths() + [str(numpy_dirs()[0].parent)]


def _interpreter_dirs():
    """Directories the worker must read to run Python: the installation and its executable's."""
    return sorted({Path(sys.base_prefix).resolve(), Path(os.path.realpath(sys.executable)).parent})


def package_dirs():
    """Every directory of installed third-party packages this machine's Pythons would look in
    (masked in the sandbox: only numpy, bound on its own, may be imported)."""
    prefixes = {str(Path(sys.base_prefix).resolve()), sys.prefix, "/usr", "/usr/local"}
    found = set(sysconfig.get_paths().get(k) for k in ("purelib", "platlib"))
    for prefix in prefixes:
        for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages",
                        "lib64/python3*/site-packages"):
            found.update(glob.glob(os.path.join(prefix, pattern)))
    return sorted(Path(p).resolve() for p in found if p and os.path.isdir(p))


# The system's programs and libraries; /etc only for the dynamic loader's cache.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")


def _under_a_bind(path, binds):
    return any(Path(path).is_relative_to(b) for b in binds)


def bwrap_command(limits, hidden=(), seccomp_fd=None):
    """The bubblewrap command line of one worker, up to (not including) the program to run.
    seccomp_fd: an open seccomp.filter_fd() for bwrap to install (it reads it to the end)."""
    command = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
               "--disable-userns", "--cap-drop", "ALL", "--die-with-parent", "--new-session",
               "--dev", "/dev", "--proc", "/proc"]
    binds = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):  # merged /usr: /bin -> usr/bin
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
            binds.append(Path(path))
    for path in ETC_FILES:
        command += ["--ro-bind-try", path, path]
    for path in _interpreter_dirs():
        command += ["--ro-bind", str(path), str(path)]
        binds.append(path)
    masks = [p for p in package_dirs() if _under_a_bind(p, binds)]
    masks += [Path(h).resolve() for h in hidden if Path(h).exists() and _under_a_bind(Path(h).resolve(), binds)]
    for path in sorted(set(masks)):
        command += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    for path in numpy_dirs():
        command += ["--ro-bind", str(path), f"{SITE}/{path.name}"]
    for name in WORKER_FILES:
        command += ["--ro-bind", str(PACKAGE_DIR / name), f"{WORKER_DIR}/{name}"]
    size = str(limits.scratch_bytes)
    command += ["--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", SCRATCH]
    # / and /dev (with /dev/shm) are tmpfs bwrap builds, without a size: read-only, so that
    # only the two sized tmpfs take writes.
    command += ["--remount-ro", "/dev"]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    return command + ["--remount-ro", "/", "--chdir", SCRATCH]


@functools.cache
def bwrap_problem():
    """None if the hardened bubblewrap command runs here, else why not (one line)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    fd = seccomp.filter_fd()
    if fd is None:
        return f"no seccomp filter is known for this machine's architecture ({os.uname().machine})"
    try:
        done = subprocess.run(bwrap_command(Limits(), seccomp_fd=fd) + ["/bin/true"], capture_output=True,
                              timeout=30, pass_fds=(fd,))
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not be run ({error})"
    finally:
        os.close(fd)
    if done.returncode:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap failed here ({said[-1] if said else f'exit status {done.returncode}'})"
    return None


def require_sandbox(unsafe=False):
    """The isolation grading will use: "bwrap", or "none" only when `unsafe` accepts it.
    Raises SandboxUnavailable (one line, with how to install bubblewrap) otherwise."""
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if unsafe:
        return "none"
    raise SandboxUnavailable(f"refusing to run student code without a sandbox: {problem}; {INSTALL_HINT}")


def _descendants(root):
    """root and every process below it, from /proc (just [root] where /proc cannot be read).

    The worker runs below bwrap, so its pid is not the launcher's.
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


def _status_bytes(pid, key):
    """A size field of /proc/pid/status (VmRSS, VmSize) in bytes, 0 if /proc does not say."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name == key:
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


def _minimal_env(home):
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; no-op elsewhere)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _set_rlimits(limits):
    def apply():
        die_with_parent()
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # A full output file must make writes fail, not kill the worker with SIGXFSZ.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


class WorkerProcess:
    """One running worker: start it, send requests (answering its callbacks), kill it."""

    def __init__(self, *, limits, isolation, hidden):
        self.limits, self.isolation = limits, isolation
        self.host_dir = Path(tempfile.mkdtemp(prefix="cnn-grade-"))
        fds = []
        if isolation == "bwrap":
            fds.append(seccomp.filter_fd())
            prefix, home, script = bwrap_command(limits, hidden, fds[0]), SCRATCH, f"{WORKER_DIR}/worker.py"
            path = python_paths(isolation)
        else:  # unsandboxed: the host directory is the worker's scratch
            for name in WORKER_FILES:
                shutil.copy(PACKAGE_DIR / name, self.host_dir / name)
            prefix, home, script = [], str(self.host_dir), str(self.host_dir / "worker.py")
            path = python_paths(isolation) + [home]
        output_fd = os.open(self.host_dir / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fds.append(output_fd)
        config = {"path": path, "blocked": list(BLOCKED_PACKAGES), "output_limit": limits.output_bytes,
                  "output_fd": output_fd}
        command = prefix + [os.path.realpath(sys.executable), "-I", "-S", script, json.dumps(config)]
        self.stderr = open(self.host_dir / "launcher.txt", "wb")
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, pass_fds=fds,
                cwd=self.host_dir, env=_minimal_env(home), start_new_session=True, preexec_fn=_set_rlimits(limits))
        finally:
            for fd in fds:
                os.close(fd)
        # Non-blocking: every read and write of the grader has a deadline (protocol.write_frame).
        os.set_blocking(self.process.stdin.fileno(), False)
        os.set_blocking(self.process.stdout.fileno(), False)
        try:
            hello = self._receive(time.monotonic() + limits.startup_seconds)
        except protocol.ProtocolError:
            hello = {}
        if not hello.get("ready"):
            self.close()
            raise RuntimeError(f"the sandboxed worker did not start: {self.launcher_output()}")

    def launcher_output(self):
        try:
            return (self.host_dir / "launcher.txt").read_text(errors="replace")[-500:]
        except OSError:
            return ""

    def _receive(self, deadline):
        message, arrays = protocol.read_frame(self.process.stdout.fileno(), deadline)
        message["_arrays"] = arrays
        return message

    def request(self, message, arrays=(), seconds=None, callbacks=None):
        """Send one request, return the reply dict (with "_arrays"). Raises protocol errors.

        While the student's code runs it may ask for the result of an earlier graded function
        ({"callback": name, "args", "kwargs"}); callbacks.answer(request, deadline) decides
        and computes it, and its time counts against this request's deadline.
        """
        deadline = time.monotonic() + (seconds or self.limits.call_seconds)
        fd = self.process.stdin.fileno()
        protocol.write_frame(fd, message, arrays, deadline)
        while True:
            reply = self._receive(deadline)
            if "callback" not in reply:
                return reply
            if callbacks is None:
                answer, out = {"ok": False, "type": "RuntimeError",
                               "message": "no graded function is answered by the grader here"}, []
            else:
                answer, out = callbacks.answer(reply, deadline)
            protocol.write_frame(fd, answer, out, deadline)

    def resident_bytes(self):
        """Resident memory of the largest process of the worker's tree (the worker itself)."""
        return max((_status_bytes(pid, "VmRSS") for pid in _descendants(self.process.pid)), default=0)

    def output(self):
        """What the student's code printed (already capped by the worker; the file by rlimit)."""
        try:
            with open(self.host_dir / "output.txt", "rb") as f:
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
        shutil.rmtree(self.host_dir, ignore_errors=True)


class Sandbox:
    """A submission's cells in a (restartable) worker. Use as a context manager.

    cells: [(grade_id, source)] in notebook order. Each cell runs separately; its error, if
    any, is kept in cell_errors. If the worker ends during a call, the next call restarts it.
    isolation: "bwrap" (default; SandboxUnavailable without it) or "none" (no sandbox at all).
    """

    MAX_STARTS = 12

    def __init__(self, cells, *, limits=None, isolation=None, hidden=()):
        self.cells = list(cells)
        self.limits = limits or Limits()
        self.isolation = isolation or require_sandbox()
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
            self._retire()

    def output(self):
        return "".join(self.outputs + ([self.worker.output()] if self.worker else []))

    def defined(self, name):
        """Does the submission have a cell for `name` that ran without an error?"""
        return any(cell == name for cell, _ in self.cells) and name not in self.cell_errors

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

    def _send(self, message, arrays=(), seconds=None, callbacks=None):
        """One request; a dead, hung or babbling worker is retired and described in the outcome."""
        start = time.perf_counter()
        try:
            reply = self.worker.request(message, arrays, seconds, callbacks)
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
        seconds_taken = time.perf_counter() - start
        arrays = reply.pop("_arrays")
        try:
            if not reply.get("ok"):
                error = reply.get("error")
                if error is not None and not isinstance(error, dict):
                    raise protocol.ProtocolError("error is not a dict")
                return Outcome(error=error, missing=bool(reply.get("missing")), seconds=seconds_taken)
            value = protocol.decode(reply.get("value"), arrays)
            after = [protocol.decode(a, arrays) for a in reply.get("args_after", [])]
        except (protocol.ProtocolError, TypeError, AttributeError) as error:
            self._retire()
            return Outcome(ended="garbage", detail=f"the worker's answer was malformed: {error}")
        return Outcome(ok=True, value=value, args_after=after, seconds=seconds_taken)

    def call(self, function, args, kwargs=None, seconds=None, callbacks=None):
        """Call function(*args, **kwargs) in the worker. Probe objects stand for test functions.

        callbacks: a callbacks.Callbacks whose `allowed` graded functions the call sees as
        results computed by the grader (reference behaviour) instead of the student's own.
        outcome.seconds is the round trip measured here, where student code cannot reach.
        """
        self._ensure_started()
        out = []
        message = {"op": "call", "function": function, "args": protocol.encode(tuple(args), out)["$tuple"],
                   "kwargs": {k: protocol.encode(v, out) for k, v in (kwargs or {}).items()},
                   "proxies": sorted(callbacks.allowed) if callbacks else []}
        return self._send(message, out, seconds, callbacks)
