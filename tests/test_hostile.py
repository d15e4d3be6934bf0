"""What must hold however a dishonest student attacks the grader (issue 11).

Each finding of issue 11 has a hostile submission in tests/corpus/hostile/ and, here, the
guarantee that defeats it, written against the public interfaces only: the command line
(`python -m autograder grade ...`, run from the repository root), its results.json and
reports, and `autograder.sandbox.Sandbox(...).call(...)`. Every test here failed on the code
of the issue's time because the attack won (see each test's docstring).

The tests run student code that attacks the machine they run on, as root as CI does: each
one removes what it may have created (marker files, processes) even when the attack wins.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

import numpy as np
import psutil
import pytest
from markdown_it import MarkdownIt

from autograder.points import POINTS
from autograder.sandbox import Limits, Sandbox
from corpus.build import build_notebook, correct_cells, stub_cells
from corpus.hostile import HOSTILE, cell_source

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[1]
GiB, MiB = 1 << 30, 1 << 20


# ---------------------------------------------------------------- helpers

def _cli(*args):
    return [sys.executable, "-m", "autograder", "grade", *map(str, args)]


def _grade(paths, out, *extra, env=None, timeout=900):
    """Run the CLI on paths, writing into the directory out; (process, results or None)."""
    out.mkdir(parents=True, exist_ok=True)
    args = [*paths, "--out", out / "grades.csv", "--json", out / "results.json", *extra]
    process = subprocess.run(_cli(*args), capture_output=True, text=True, cwd=REPO, timeout=timeout, env=env)
    results = out / "results.json"
    return process, (json.loads(results.read_text())["submissions"] if results.exists() else None)


def _row(submissions, student, assignment=None):
    rows = [s for s in submissions if s["student"] == student and assignment in (None, s["assignment"])]
    assert len(rows) == 1, \
        f"{len(rows)} rows for {student} {assignment}: {[(s['student'], s['assignment']) for s in submissions]}"
    return rows[0]


def _functions(submission):
    """{function: (points, max_points, [messages of failed tests])}."""
    table = {}
    for t in submission["tests"]:
        points, max_points, messages = table.get(t["function"], (0.0, 0.0, []))
        table[t["function"]] = (points + t["points"], max_points + t["max_points"],
                                messages + ([t["message"]] if not t["passed"] else []))
    return table


def _full_marks(submission):
    full = sum(POINTS[submission["assignment"]].values())
    return submission["status"] == "ok" and submission["score"] == pytest.approx(full)


def _nbgrader_path(root, student, assignment):
    return root / student / assignment / f"{assignment}.ipynb"


def _honest(root, student, assignment):
    return build_notebook(correct_cells(assignment), assignment, _nbgrader_path(root, student, assignment))


def _hostile(root, name, student=None):
    hostile = HOSTILE[name]
    return hostile.write(_nbgrader_path(root, student or name, hostile.assignment))


def _tree(pid):
    """pid's process and all its descendants (psutil.Process objects), [] once it is gone."""
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.Error:
        return []


def _resident(processes):
    total = 0
    for p in processes:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _kill_all(processes):
    for p in processes:
        try:
            p.kill()
        except psutil.Error:
            pass


def _read(stream):
    stream.seek(0)
    text = stream.read()
    stream.close()
    return text


class Watched:
    """Run the CLI with a wall-clock deadline and a bound on its process tree's resident memory;
    the whole tree is killed when either is exceeded (and at the end, whatever is left)."""

    def __init__(self, args, *, seconds, memory_bytes=None, env=None):
        self.started = time.monotonic()
        stdout, stderr = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        process = subprocess.Popen(_cli(*args), cwd=REPO, env=env, stdout=stdout, stderr=stderr, text=True,
                                   start_new_session=True)
        seen, self.baseline, self.peak, self.reason = {}, None, 0, None
        try:
            while process.poll() is None:
                tree = _tree(process.pid)
                seen.update({p.pid: p for p in tree})
                resident = _resident(tree)
                self.baseline = resident if self.baseline is None else self.baseline
                self.peak = max(self.peak, resident)
                if memory_bytes is not None and resident - self.baseline > memory_bytes:
                    self.reason = (f"the grader's process tree held {resident / GiB:.2f} GiB, "
                                   f"{(resident - self.baseline) / GiB:.2f} GiB above its start")
                    break
                if time.monotonic() - self.started > seconds:
                    self.reason = f"the batch did not finish within {seconds} s"
                    break
                time.sleep(0.1)
        finally:
            self.seconds = time.monotonic() - self.started
            _kill_all([process_ for process_ in seen.values()] + _tree(process.pid))
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.returncode = process.wait(timeout=60)
            self.stdout, self.stderr = _read(stdout), _read(stderr)

    @property
    def finished(self):
        return self.reason is None


def _finished(run):
    return f"{run.reason} (killed after {run.seconds:.0f} s; stderr: {run.stderr[-500:]!r})"


# ---------------------------------------------------------------- one batch of hostile submissions

FORMULA_STUDENTS = ("=cmd|' -C calc'!A0", '=HYPERLINK("evil.example","see grade")', "+1+cmd", "-2+cmd",
                    "@SUM(A1)")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Findings 1, 6, 7 and 9 in one CLI batch with honest submissions: (submissions, out dir)."""
    base = tmp_path_factory.mktemp("hostile")
    root, flat, out = base / "submitted", base / "flat", base / "out"
    for name in ("oracle_ch02_convolution", "oracle_ch03_padding_stride", "oracle_ch07_im2col", "speed_forgery",
                 "scipy_corr2d", "forged_feedback", "grader_error_spoof"):
        _hostile(root, name)
    for assignment in ("ch01_motivation", "ch07_im2col"):
        _honest(root, "honest", assignment)
    # 9a: mallory's notebook is a symlink to bob's
    bob = _honest(root, "bob", "ch01_motivation")
    mallory = _nbgrader_path(root, "mallory", "ch01_motivation")
    mallory.parent.mkdir(parents=True)
    mallory.symlink_to(bob)
    # 9b: two files that both map to (alice, ch01_motivation): a stub and a correct one
    build_notebook(stub_cells("ch01_motivation"), "ch01_motivation", flat / "alice_ch01_motivation_.ipynb")
    build_notebook(correct_cells("ch01_motivation"), "ch01_motivation", flat / "alice_ch01_motivation.ipynb")
    # 9c: student folders that are spreadsheet formulas
    for student in FORMULA_STUDENTS:
        build_notebook(stub_cells("ch01_motivation"), "ch01_motivation",
                       _nbgrader_path(root, student, "ch01_motivation"))
    # 9f: a ch01 notebook, named so, whose metadata says ch03
    HOSTILE["claims_other_assignment"].write(flat / "carol_ch01_motivation.ipynb")
    process, submissions = _grade([root, flat], out, "--jobs", "2", "--timeout", "5", "--feedback", out / "feedback",
                                  "--gradescope", out / "gradescope")
    assert process.returncode == 0 and submissions is not None, process.stderr[-2000:]
    return submissions, out


# ---------------------------------------------------------------- 1. oracle

@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["ch02_convolution", "ch03_padding_stride", "ch07_im2col"])
def test_asking_the_grader_for_the_answer_scores_nothing(batch, assignment):
    """Finding 1. A notebook without solution code, whose every function asks the grader's
    callback channel for its own name, scores 0 on every function. (Was: full marks,
    including the speed cases, answered from a cache.)"""
    submissions, _ = batch
    oracle = _row(submissions, f"oracle_{assignment}", assignment)
    earned = {f: points for f, (points, _, _) in _functions(oracle).items() if points}
    assert earned == {}, f"the oracle earned {oracle['score']} / {oracle['max_score']}: {earned}"


# ---------------------------------------------------------------- 6. speed forgery

@pytest.mark.slow
def test_a_per_value_loop_that_patches_clocks_and_baseline_is_still_too_slow(batch):
    """Finding 6. conv_forward_im2col written as one np.sum per output value, which patches
    time.perf_counter & co. and the baseline table in its process, passes its value cases
    and fails its speed case with [too_slow]. (Was: the speed case passed.)"""
    submissions, _ = batch
    tests = [t for t in _row(submissions, "speed_forgery", "ch07_im2col")["tests"]
             if t["function"] == "conv_forward_im2col"]
    speed = [t for t in tests if "speed" in t["test"]]
    assert speed and all(not t["passed"] and "too_slow" in t["message"] for t in speed), \
        [(t["test"], t["passed"], t["message"][:200]) for t in speed]
    values = [t for t in tests if t not in speed]
    assert values and all(t["passed"] for t in values), [t["message"] for t in values if not t["passed"]]


# ---------------------------------------------------------------- 7. anything importable

@pytest.mark.slow
def test_scipy_is_not_available_to_submissions(batch):
    """Finding 7. corr2d done by scipy.signal.correlate2d scores 0, and the student is told that
    only numpy is available. (Was: full marks.)"""
    submissions, _ = batch
    points, _, messages = _functions(_row(submissions, "scipy_corr2d", "ch02_convolution"))["corr2d"]
    assert points == 0, f"corr2d by scipy earned {points}"
    assert messages and all("only numpy" in m for m in messages), messages[:2]


# ---------------------------------------------------------------- 9. identity and outputs

@pytest.mark.slow
def test_a_symlink_to_a_classmates_notebook_is_refused(batch):
    """Finding 9a. mallory's notebook is a symlink to bob's: her row is "refused" with 0
    points, not bob's marks. (Was: status ok, bob's full marks.)"""
    submissions, _ = batch
    mallory = _row(submissions, "mallory", "ch01_motivation")
    assert mallory["status"] == "refused" and mallory["score"] == 0, (mallory["status"], mallory["score"])
    assert _full_marks(_row(submissions, "bob", "ch01_motivation"))


@pytest.mark.slow
def test_two_files_of_one_student_and_assignment_are_both_reported(batch):
    """Finding 9b. alice_ch01_motivation_.ipynb (a stub) and alice_ch01_motivation.ipynb (correct)
    both map to (alice, ch01_motivation). Either one row says "duplicate" and names both files,
    or both are graded and both grades survive in every report (feedback and Gradescope
    files too). (Was: two rows, but one feedback file and one Gradescope result overwrote the
    other's.)"""
    submissions, out = batch
    rows = [s for s in submissions if "alice" in s["student"] and s["assignment"] == "ch01_motivation"]
    names = ("alice_ch01_motivation_.ipynb", "alice_ch01_motivation.ipynb")
    duplicate = [s for s in rows if s["status"] == "duplicate"]
    if duplicate:
        text = json.dumps(duplicate)
        assert all(n in text for n in names), duplicate
        return
    assert sorted(Path(s["path"]).name for s in rows) == sorted(names), rows
    feedback = [p.read_text() for p in (out / "feedback").rglob("*.md")]
    alice = [text for text in feedback if "alice" in text and "ch01_motivation" in text]
    assert len(alice) == 2, f"{len(alice)} feedback file(s) for alice's two ch01_motivation notebooks"
    gradescope = [json.loads(p.read_text())["score"] for p in (out / "gradescope").rglob("*.json")
                  if "alice" in str(p.relative_to(out / "gradescope"))]
    assert sorted(gradescope) == [0, sum(POINTS["ch01_motivation"].values())], gradescope


@pytest.mark.slow
def test_grades_csv_has_no_formula_cells(batch):
    """Finding 9c. Student folders named like spreadsheet formulas: no cell of grades.csv starts
    with =, +, - or @. (Was: "=cmd|' -C calc'!A0" and the others written as they are.)"""
    _, out = batch
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    formulas = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert formulas == [], formulas


def _headings(markdown):
    """The text of every heading of a Markdown document, as CommonMark reads it."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


@pytest.mark.slow
def test_student_text_cannot_forge_headings_in_the_feedback(batch):
    """Finding 9d. The code prints "# Score: 100/100" and "## ✔ ..." lines (inside and after a
    ``` fence it opens itself) and raises an exception whose message holds "\\n## ✔ `corr2d`: 4 / 4":
    every heading of the student's feedback comes from the grader (one per graded function, none
    with the student's words). (Was: the exception's lines and the printed lines after the
    student's own fence were headings.)"""
    _, out = batch
    files = [p for p in (out / "feedback").rglob("*.md") if "forged_feedback" in p.read_text()]
    assert len(files) == 1, files
    headings = _headings(files[0].read_text())
    forged = [h for h in headings if any(w in h for w in ("100/100", "everything", "corr2d"))]
    assert forged == [], forged
    for function in POINTS["ch01_motivation"]:
        assert sum(f"`{function}`" in h or f" {function}" in h for h in headings) <= 1, (function, headings)


@pytest.mark.slow
def test_an_exception_message_cannot_set_the_status(batch):
    """Finding 9e. An exception message holding "[grader_error]" leaves the status "ok".
    (Was: "grader_error".)"""
    submissions, _ = batch
    spoof = _row(submissions, "grader_error_spoof", "ch01_motivation")
    assert spoof["status"] == "ok", (spoof["status"], spoof["problem"])


@pytest.mark.slow
def test_notebook_metadata_cannot_choose_the_assignment(batch):
    """Finding 9f. carol_ch01_motivation.ipynb whose metadata says ch03_padding_stride is graded
    as ch01_motivation, as its file name says. (Was: graded as ch03_padding_stride.)"""
    submissions, _ = batch
    rows = [s for s in submissions if Path(s["path"]).name == "carol_ch01_motivation.ipynb"]
    assert [s["assignment"] for s in rows] == ["ch01_motivation"], [(s["student"], s["assignment"]) for s in rows]
    assert rows[0]["student"] == "carol" and _full_marks(rows[0]), rows[0]


# ---------------------------------------------------------------- 2. escape as root (Sandbox level)

ESCAPE_CHECKS = ("uid_root", "cap_eff_nonzero", "no_new_privs_off", "mount_new", "remount_rw", "write_etc",
                 "write_usr", "write_site_packages", "write_interpreter", "write_outside", "read_course",
                 "import_scipy", "import_sklearn", "import_IPython", "import_nbgrader", "unshare_user")
SIGNAL_CHECKS = ("kill_parent", "kill_all")


def _course_files():
    """Files of the course tree: reference solutions, source notebooks, the grader."""
    files = []
    files += sorted(REPO.glob("solutions/*.py"))[:4] + sorted(REPO.glob("exercises/*/*.ipynb"))[:2]
    files += [REPO / "autograder" / "grading.py", REPO / "autograder" / "sandbox.py"]
    return [str(f) for f in files if f.exists()]


def _site_dirs():
    """Every site-packages / dist-packages of this machine the tests can name."""
    import glob
    import site
    dirs = list(site.getsitepackages()) + [str(Path(np.__file__).resolve().parent.parent)]
    for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages",
                    f"{sys.base_prefix}/lib/python3*/*-packages"):
        dirs += glob.glob(pattern)
    return sorted(set(dirs))


def _marker_folders(course_files):
    """Where the escape cell tries to leave its marker, as seen from the host."""
    usr = "/usr/local" if os.path.isdir("/usr/local") else "/usr"
    folders = ["/", "/etc", usr, str(Path(np.__file__).resolve().parent.parent), sys.base_prefix, "/root", "/home",
               "/opt", "/srv", "/mnt", "/var/tmp", "/dev", "/dev/shm", "/run"]
    return list(dict.fromkeys(folders + sorted({os.path.dirname(p) for p in course_files})))


def _escape_checks(marker, course, sites):
    """{check: (succeeded, detail)} of the escape cell: every check in one call; where that call
    does not return, each check in a sandbox of its own, a call that dies counting as a failed
    attack (the sandbox stopped it)."""
    with Sandbox([("escape", cell_source("escape"))], limits=Limits(call_seconds=60)) as sandbox:
        outcome = sandbox.call("escape", (marker, course, sites))
    if outcome.ok and isinstance(outcome.value, dict):
        detail = outcome.value.get("_detail", {})
        return {c: (bool(outcome.value.get(c)), detail.get(c, "")) for c in ESCAPE_CHECKS}
    found = {}
    for check in ESCAPE_CHECKS:
        with Sandbox([("escape", cell_source("escape"))], limits=Limits(call_seconds=60)) as sandbox:
            outcome = sandbox.call("escape", (marker, course, sites, [check]))
        if outcome.ok and isinstance(outcome.value, dict):
            found[check] = (bool(outcome.value.get(check)), outcome.value.get("_detail", {}).get(check, ""))
        else:
            found[check] = (False, f"the call did not return: {outcome.error or outcome.ended} {outcome.detail}")
    return found


@pytest.fixture(scope="module")
def escape():
    """Run the escape cell and the signal cell; record which marker files appeared on the
    host, then remove them. {check: (the attack succeeded, detail)}."""
    marker = f"zz-hostile-{uuid.uuid4().hex[:12]}"
    course, sites = _course_files(), _site_dirs()
    canary = subprocess.Popen(["sleep", "600"])
    try:
        found = _escape_checks(marker, course, sites)
        with Sandbox([("escape", cell_source("escape"))], limits=Limits(call_seconds=20)) as sandbox:
            signalled = sandbox.call("signal_out", (canary.pid,))
        canary_alive = canary.poll() is None
        value = signalled.value if signalled.ok and isinstance(signalled.value, dict) else {}
        for check in SIGNAL_CHECKS:
            # the worker's parent killed ends the call; the canary stands for every process outside
            reached = bool(value.get(check)) or not canary_alive or not signalled.ok
            found[check] = (reached, f"call ok: {signalled.ok} ({signalled.ended} {signalled.detail}); {value}; "
                                     f"canary alive: {canary_alive}")
        planted = [str(Path(d) / marker) for d in _marker_folders(course) if (Path(d) / marker).exists()]
        found["host_untouched"] = (bool(planted), f"marker files on the host: {planted}")
        yield found
    finally:
        canary.kill()
        canary.wait()
        for folder in _marker_folders(course):
            path = Path(folder) / marker
            if path.is_file() or path.is_symlink():
                path.unlink()


@pytest.mark.parametrize("check", ESCAPE_CHECKS + SIGNAL_CHECKS + ("host_untouched",))
def test_worker_running_as_root_cannot_escape(escape, check):
    """Finding 2 (and 3, 7). Run as root as CI runs it, a solution cell tries each of these
    and every one fails: a non-root uid, no effective capability, no_new_privs set; no mount or
    read-write remount; no write under /etc, /usr, the interpreter, its site-packages or any
    path outside scratch and /tmp; no new user namespace; no file of the course readable; none
    of scipy, sklearn, IPython, nbgrader importable even with every site-packages of the
    machine on sys.path; SIGKILL to the parent and to -1 reach nothing outside the sandbox;
    and no marker file appears on the host. (Was: uid 0 with every capability; / , /usr, /etc,
    the interpreter and site-packages remounted read-write and written on the host; a new user
    namespace; all four packages imported.)"""
    succeeded, detail = escape[check]
    assert not succeeded, f"{check}: {detail}"


# ---------------------------------------------------------------- 8. resources (Sandbox level)

def _fill(folder, total):
    with Sandbox([("fill", cell_source("fill_disk"))], limits=Limits(call_seconds=60)) as sandbox:
        return sandbox.call("fill", (folder, total))


@pytest.mark.slow
@pytest.mark.parametrize("folder,total", [("/tmp/fill", 3 * GiB), ("fill", 2 * GiB)], ids=["tmp_3GiB", "scratch_2GiB"])
def test_tmp_and_scratch_are_size_limited(folder, total):
    """Finding 8. Writing 3 GiB into /tmp, or 2 GiB into the worker's cwd, in files of 8 MiB:
    a write fails (ENOSPC, EFBIG: an OSError the cell sees) before 256 MiB. (Was: all of it
    written, /tmp a RAM tmpfs without a size and scratch on the host's disk without a quota.)"""
    outcome = _fill(folder, total)
    assert outcome.ok, (outcome.error, outcome.ended, outcome.detail)
    written, error = outcome.value
    assert written < 256 * MiB and error, f"wrote {written / MiB:.0f} MiB into {folder} ({error})"


@pytest.fixture(scope="module")
def spawned():
    with Sandbox([("spawn", cell_source("fork_children"))], limits=Limits(call_seconds=60)) as sandbox:
        return sandbox.call("spawn", (3, 800))


@pytest.mark.slow
@pytest.mark.parametrize("way", ["os_fork", "subprocess", "libc_fork"])
def test_the_worker_cannot_start_processes(spawned, way):
    """Finding 8. Three children that each fill 800 MiB (each with its own 1 GiB limit), started
    by os.fork(), by subprocess and by libc's fork(): none starts. (Was: os.fork() returned
    (its child ended at once); subprocess and libc's fork started three children that each
    filled 800 MiB.)"""
    assert spawned.ok, (spawned.error, spawned.ended, spawned.detail)
    started, filled = spawned.value[way]
    assert (started, filled) == (0, 0), f"{way}: {started} started, {filled} filled 800 MiB"


# ---------------------------------------------------------------- 3. no sandbox, no grading

def _without_bwrap(tmp_path):
    """An environment whose PATH has no bwrap but keeps unshare, the shell and mount (the
    next isolation level of the old grader) and the interpreter's bin."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("unshare", "sh", "mount", "umount", "true"):
        if shutil.which(tool):
            (tools / tool).symlink_to(shutil.which(tool))
    path = f"{tools}:{Path(sys.executable).parent}"
    assert shutil.which("bwrap", path=path) is None, f"bwrap is still on {path}"
    return dict(os.environ, PATH=path)


@pytest.mark.slow
def test_without_bubblewrap_the_grader_refuses(tmp_path):
    """Finding 3. With no bwrap on PATH: exit status 2, one line on stderr that names
    bubblewrap and says how to install it, no grades written. (Was: graded silently under
    "unshare", whose masks the worker can lift.)"""
    root = tmp_path / "submitted"
    _honest(root, "honest", "ch01_motivation")
    process, submissions = _grade([root], tmp_path / "out", "--timeout", "5", env=_without_bwrap(tmp_path))
    lines = [line for line in process.stderr.splitlines() if line.strip()]
    isolation = [s["isolation"] for s in submissions or []]
    assert process.returncode == 2, f"exit {process.returncode}; graded with isolation {isolation}"
    assert len(lines) == 1 and "bubblewrap" in lines[0].lower() and "install" in lines[0].lower(), lines
    assert not (tmp_path / "out" / "grades.csv").exists() and submissions is None


@pytest.mark.slow
def test_grading_without_a_sandbox_needs_the_explicit_flag_and_says_so(tmp_path):
    """Finding 3. With no bwrap on PATH and --unsafe-no-sandbox: graded, and every submission
    in results.json has isolation "none". (Was: no such flag: exit 2 "unrecognized arguments";
    without it, graded under "unshare".)"""
    root = tmp_path / "submitted"
    _honest(root, "honest", "ch01_motivation")
    process, submissions = _grade([root], tmp_path / "out", "--timeout", "5", "--unsafe-no-sandbox",
                                  env=_without_bwrap(tmp_path))
    assert process.returncode == 0, process.stderr[-1000:]
    assert [s["isolation"] for s in submissions] == ["none"]
    assert _full_marks(submissions[0])


# ---------------------------------------------------------------- 4. jam

@pytest.mark.slow
def test_a_callback_answer_that_is_never_read_cannot_stop_the_batch(tmp_path):
    """Finding 4. convolve2d asks for a 72 MB answer and never reads it, in a batch with two
    honest submissions, --timeout 2 (and --submission-timeout 20): the batch finishes within
    90 s, the honest ones get full marks, the jammer's row keeps its student and assignment.
    (Was: the grading process blocked for ever in the pipe write; the CLI never finished and
    wrote nothing.)"""
    root, out = tmp_path / "submitted", tmp_path / "out"
    _hostile(root, "jam", "jammer")
    _honest(root, "honest", "ch02_convolution")
    _honest(root, "honest", "ch01_motivation")
    run = Watched([root, "--out", out / "grades.csv", "--json", out / "results.json", "--jobs", "2",
                   "--timeout", "2", "--submission-timeout", "20"], seconds=90)
    assert run.finished, _finished(run)
    assert run.returncode == 0, run.stderr[-1000:]
    submissions = json.loads((out / "results.json").read_text())["submissions"]
    assert _full_marks(_row(submissions, "honest", "ch02_convolution"))
    assert _full_marks(_row(submissions, "honest", "ch01_motivation"))
    _row(submissions, "jammer", "ch02_convolution")


def _cmdline(process):
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _workers(processes):
    """The pids of the sandboxed workers (worker.py, wherever the sandbox puts it) among processes."""
    return {p.pid for p in processes if "worker.py" in _cmdline(p)}


def _alive(process):
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.slow
def test_sigterm_stops_every_process_the_grader_started(tmp_path):
    """Finding 4. SIGTERM to the CLI while it grades a jammer and a cell that sleeps for ever:
    the CLI ends within 20 s and, 15 s later, no process it started (grading processes,
    bubblewrap, sandboxed workers) is left. (Was: the CLI died, its grading
    processes and their sandboxes stayed behind.)"""
    root, out = tmp_path / "submitted", tmp_path / "out"
    _hostile(root, "jam", "jammer")
    sleeper = correct_cells("ch01_motivation")
    sleeper["dense_param_count"] = "import time\ntime.sleep(10**6)\n\n\n" + sleeper["dense_param_count"]
    build_notebook(sleeper, "ch01_motivation", _nbgrader_path(root, "sleeper", "ch01_motivation"))
    _honest(root, "honest", "ch01_motivation")
    process = subprocess.Popen(_cli(root, "--out", out / "grades.csv", "--json", out / "results.json", "--jobs", "2",
                                    "--timeout", "60", "--submission-timeout", "300"),
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    seen = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            seen.update({p.pid: p for p in _tree(process.pid)})
            if len(_workers(seen.values())) >= 2:  # two sandboxes at work
                break
            time.sleep(0.2)
        time.sleep(3)
        seen.update({p.pid: p for p in _tree(process.pid)})
        assert process.poll() is None, "the CLI ended before it was sent SIGTERM"
        assert _workers(seen.values()), "no sandboxed worker was started"
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the CLI did not end within 20 s of SIGTERM")
        time.sleep(15)
        left = [p for p in seen.values() if p.pid != process.pid and _alive(p)]
        assert left == [], [f"{p.pid}: {_cmdline(p)[:120]}" for p in left]
    finally:
        _kill_all(list(seen.values()) + _tree(process.pid))
        if process.poll() is None:
            process.kill()
        process.wait()


# ---------------------------------------------------------------- 5. amplification

@pytest.mark.slow
@pytest.mark.parametrize("name", ["amplify_cpu", "amplify_memory"])
def test_callbacks_cannot_make_the_grader_do_unbounded_work(tmp_path, name):
    """Finding 5. A cell that asks the grader, over the callback channel, for minutes of corr2d
    (amplify_cpu) or for a 4 GiB im2col, again and again (amplify_memory), in a batch with two
    honest submissions, --timeout 2: the batch finishes within 90 s, the grader's process tree
    never holds more than 2.5 GiB above its start, the honest ones get full marks. (Was: the
    grading process computed for minutes whatever --timeout said (amplify_cpu), or grew past
    2.5 GiB within seconds on its way to many GiB (amplify_memory).)"""
    root, out = tmp_path / "submitted", tmp_path / "out"
    _hostile(root, name, "amplifier")
    _honest(root, "honest", "ch01_motivation")
    _honest(root, "honest", "ch03_padding_stride")
    run = Watched([root, "--out", out / "grades.csv", "--json", out / "results.json", "--jobs", "2",
                   "--timeout", "2", "--submission-timeout", "20"],
                  seconds=90, memory_bytes=int(2.5 * GiB))
    assert run.finished, _finished(run)
    assert run.returncode == 0, run.stderr[-1000:]
    submissions = json.loads((out / "results.json").read_text())["submissions"]
    assert _full_marks(_row(submissions, "honest", "ch01_motivation"))
    assert _full_marks(_row(submissions, "honest", "ch03_padding_stride"))
    _row(submissions, "amplifier", HOSTILE[name].assignment)


# ---------------------------------------------------------------- 10. predictable inputs

def _seed(tmp_path, tag, *extra):
    """The seed the CLI gives bob's ch01_motivation notebook (graded with `extra` options)."""
    root = tmp_path / "submitted"
    if not _nbgrader_path(root, "bob", "ch01_motivation").exists():
        _honest(root, "bob", "ch01_motivation")
    process, submissions = _grade([root], tmp_path / f"out-{tag}", "--timeout", "5", *extra)
    assert process.returncode == 0, process.stderr[-1000:]
    return _row(submissions, "bob", "ch01_motivation")["seed"]


def _key(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(os.urandom(32))
    return path


@pytest.mark.slow
def test_the_seed_is_not_computable_from_the_students_name(tmp_path):
    """Finding 10. The seed is not crc32("student/assignment"), which any student can compute.
    (Was: exactly crc32("bob/ch01_motivation").)"""
    seed = _seed(tmp_path, "default", "--key", _key(tmp_path, "key"))
    assert seed != zlib.crc32(b"bob/ch01_motivation"), f"seed {seed} is crc32('bob/ch01_motivation')"


@pytest.mark.slow
def test_instructor_keys_decide_the_seed(tmp_path):
    """Finding 10. Two different instructor keys give bob different seeds. (Was: no key at all,
    the same seed in every run.)"""
    first = _seed(tmp_path, "a", "--key", _key(tmp_path, "key-a"))
    second = _seed(tmp_path, "b", "--key", _key(tmp_path, "key-b"))
    assert first != second, f"both keys gave seed {first}"


@pytest.mark.slow
def test_a_key_gives_reproducible_seeds_and_seed_still_wins(tmp_path):
    """Finding 10. The same key and notebook give the same seed on a regrade; --seed N with a
    key still grades with seed N. (Was: no --key option: exit status 2.)"""
    key = _key(tmp_path, "key")
    assert _seed(tmp_path, "a", "--key", key) == _seed(tmp_path, "b", "--key", key)
    assert _seed(tmp_path, "c", "--key", key, "--seed", "1234") == 1234
