"""Throughput of the standalone grader against `nbgrader autograde`, on the same submissions.

Builds a temporary nbgrader course from the repo (exercises/, nbgrader_config.py), releases
every assignment, copies the bundled example submissions (autograder/examples/submitted: a
correct, a partly wrong and a stub student; --copies N repeats them under new names), then
grades the whole set three ways, one after the other on this machine:

  stock nbgrader      `nbgrader autograde "*"` with nbgrader's own pipeline: every notebook runs in
                      a Jupyter kernel and its hidden test cells run the grader's checks in-kernel
  course nbgrader     `nbgrader autograde "*"` with this repo's nbgrader_config.py (scores from the
                      sandboxed grader, graded ahead of nbgrader's loop: see
                      autograder/nbgrader_autograde.py and autograder/nbgrader_prefetch.py)
  standalone          `python -m autograder grade submitted --jobs J` for each J in --jobs

and prints notebooks per minute and each tool's ratio to stock nbgrader. It also times one
correct student's eight assignments alone (the "under 30 s on 2 cores" goal of issue 3).

    python benchmarks/grading_throughput.py [--copies 1] [--jobs 1 2] [--json FILE]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXAMPLES = ROOT / "autograder" / "examples" / "submitted"

# nbgrader's defaults plus what this course's source tree needs; no custom preprocessors.
STOCK_CONFIG = """c = get_config()
c.CourseDirectory.course_id = "cnns-from-the-ground-up"
c.CourseDirectory.source_directory = "exercises"
c.Execute.timeout = 300
"""


def run(args, cwd):
    """Run a command with the venv first on PATH; return (seconds, CompletedProcess)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    start = time.perf_counter()
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def make_course(root, copies):
    """A course directory with releases generated and the example submissions copied in."""
    shutil.copytree(ROOT / "exercises", root / "exercises")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    _, done = run([BIN / "nbgrader", "generate_assignment", "*", "--force"], root)
    if done.returncode:
        sys.exit(f"nbgrader generate_assignment failed:\n{done.stderr[-2000:]}")
    for copy in range(copies):
        for student in sorted(p.name for p in EXAMPLES.iterdir()):
            shutil.copytree(EXAMPLES / student, root / "submitted" / f"{student}{copy or ''}")
    return sorted((root / "submitted").glob("*/*/*.ipynb"))


def nbgrader_autograde(root, config):
    """Autograde every assignment with the given nbgrader_config.py, as the README says (one
    `nbgrader autograde "*"`, so nbgrader starts once, as it would for the class); return seconds."""
    (root / "nbgrader_config.py").write_text(config)
    shutil.rmtree(root / "autograded", ignore_errors=True)
    (root / "gradebook.db").unlink(missing_ok=True)
    _, done = run([BIN / "nbgrader", "generate_assignment", "*", "--force"], root)
    if done.returncode:
        sys.exit(f"nbgrader generate_assignment failed:\n{done.stderr[-2000:]}")
    seconds, done = run([BIN / "nbgrader", "autograde", "*", "--create", "--force"], root)
    # nbgrader exits 1 when any one submission fails even though it graded the others, so what
    # counts is which notebooks it wrote.
    graded = list((root / "autograded").glob("*/*/*.ipynb"))
    expected = list((root / "submitted").glob("*/*/*.ipynb"))
    if len(graded) != len(expected):
        sys.exit(f"nbgrader graded {len(graded)} of {len(expected)} notebooks:\n{done.stderr[-2000:]}")
    return seconds


def standalone(root, jobs, paths):
    seconds, done = run([sys.executable, "-m", "autograder", "grade", *paths, "--out", root / "grades.csv",
                         "--jobs", jobs], root)
    if done.returncode:
        sys.exit(f"autograder failed: {done.stderr[-2000:]}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="times the example students are repeated")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values of the standalone grader")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        root = Path(tmp)
        notebooks = make_course(root, args.copies)
        course_config = (ROOT / "nbgrader_config.py").read_text()
        rows = [("stock nbgrader autograde", nbgrader_autograde(root, STOCK_CONFIG)),
                ("course nbgrader autograde (sandboxed)", nbgrader_autograde(root, course_config))]
        rows += [(f"standalone grader --jobs {j}", standalone(root, j, ["submitted"])) for j in args.jobs]
        one_student = standalone(root, 2, [root / "submitted" / "ada"])

    n = len(notebooks)
    base = rows[0][1]
    print(f"{n} notebooks ({n // 8} students x 8 assignments), {os.cpu_count()} cores\n")
    print(f"| grader | seconds | notebooks/min | throughput vs stock nbgrader |")
    print(f"|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {60 * n / seconds:.1f} | {base / seconds:.2f}x |")
    print(f"\none correct student, all eight assignments, --jobs 2: {one_student:.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"notebooks": n, "cores": os.cpu_count(),
                                         "seconds": dict(rows), "one_student_all_assignments": one_student,
                                         "ratio_to_stock_nbgrader": {k: base / v for k, v in rows}}, indent=1))


if __name__ == "__main__":
    main()
