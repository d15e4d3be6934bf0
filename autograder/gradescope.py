"""A Gradescope autograder for one assignment, and what it runs on each submission.

`python -m autograder gradescope ASSIGNMENT --out autograder.zip` builds the zip Gradescope
asks for (its "autograder configuration": setup.sh and run_autograder at the root, unpacked
into /autograder/source):

  setup.sh                  run once when Gradescope builds the image: bubblewrap, a Python of
                            3.11 or newer in /autograder/venv, the pinned grading packages
  run_autograder            run on every submission: grades /autograder/submission, writes
                            /autograder/results/results.json
  requirements-grading.txt  the packages grading imports, pinned as in requirements.txt
  course/                   this course's autograder/, solutions/ and tasks/ (imported from there)
  grader.key                the instructor's key, so that a regrade gets the same inputs

run_autograder calls `python -m autograder gradescope-run` (run() below) with
--container-isolation: Gradescope's container may not allow the user namespaces bubblewrap
needs, and then the container is the isolation (results say "isolation": "container"); with
a working bubblewrap the sandbox is used as everywhere else. AUTOGRADER_ROOT and
AUTOGRADER_PYTHON override /autograder and its Python, so that a test can run the script in a
temporary tree.
"""
import json
import re
import stat
import zipfile
from pathlib import Path

from . import reports
from .batch import DEFAULT_TIMEOUT, grade_paths
from .notebook import Found
from .points import POINTS
from .sandbox import Limits, bwrap_problem, require_sandbox
from .secret import load_key

ROOT = Path(__file__).resolve().parent.parent
COURSE_PACKAGES = ("autograder", "solutions", "tasks")
# What grading imports (and what those need), pinned from requirements.txt.
GRADING_PACKAGES = ("numpy", "scipy", "scikit-learn", "joblib", "threadpoolctl", "pytest", "iniconfig", "pluggy",
                    "packaging", "pygments", "narwhals", "tqdm", "python-dateutil", "six", "tzdata")
STUDENT = "submission"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (with network access).
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# bubblewrap: the grader's sandbox, used whenever the container allows it (see run_autograder)
apt-get install -y -q bubblewrap
PY=""
for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null; then PY="$candidate"; break; fi
done
if [ -z "$PY" ]; then
    apt-get install -y -q python3.11 python3.11-venv
    PY=python3.11
fi
apt-get install -y -q "$PY-venv" || true
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q -r requirements-grading.txt
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this on every submission of {assignment}: the course's grader, on the notebook
# in /autograder/submission, writes /autograder/results/results.json.
# --container-isolation: where bubblewrap cannot run (Gradescope's container may forbid user
# namespaces), the container is the isolation; where it can, student code runs in its sandbox.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
cd "$ROOT/source/course"
exec "$PYTHON" -m autograder gradescope-run {assignment} --submission "$ROOT/submission" \\
    --results "$ROOT/results/results.json" --key "$ROOT/source/grader.key" --container-isolation
"""


def pins(requirements=ROOT / "requirements.txt"):
    """The lines of requirements.txt that pin GRADING_PACKAGES."""
    wanted = {re.sub(r"[-_.]+", "-", p).lower() for p in GRADING_PACKAGES}
    lines = []
    for line in requirements.read_text().splitlines():
        name = line.split("==")[0].strip()
        if "==" in line and re.sub(r"[-_.]+", "-", name).lower() in wanted:
            lines.append(line.strip())
    return lines


def _add(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _course_files():
    """(name in the zip, path) of every source file of the course packages, pyproject.toml too."""
    yield "course/pyproject.toml", ROOT / "pyproject.toml"
    for package in COURSE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield f"course/{path.relative_to(ROOT).as_posix()}", path


def build(assignment, out, key_file=None):
    """Write the Gradescope autograder zip of `assignment` to out; returns out."""
    if assignment not in POINTS:
        raise ValueError(f"{assignment!r} is not an assignment of this course; use one of: {', '.join(POINTS)}")
    key = load_key(key_file)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        _add(archive, "setup.sh", SETUP, executable=True)
        _add(archive, "run_autograder", RUN.format(assignment=assignment), executable=True)
        _add(archive, "requirements-grading.txt", "\n".join(pins()) + "\n")
        _add(archive, "grader.key", key)
        for name, path in _course_files():
            _add(archive, name, path.read_bytes())
    return Path(out)


def _pick(submission, assignment):
    """The notebook to grade in a submission folder: the only one, or the one named
    <assignment>.ipynb among several; (path, None) or (None, why not)."""
    notebooks = sorted(p for p in Path(submission).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    named = [p for p in notebooks if p.name == f"{assignment}.ipynb"]
    if len(notebooks) == 1 or len(named) == 1:
        return (named or notebooks)[0], None
    if not notebooks:
        return None, f"No notebook (.ipynb) was found in your submission: upload {assignment}.ipynb."
    return None, (f"Your submission has {len(notebooks)} notebooks ({', '.join(p.name for p in notebooks)}) and "
                  f"none or several named {assignment}.ipynb: upload only your {assignment}.ipynb.")


def _not_graded(output):
    return {"score": 0, "output": output, "tests": []}


def run(assignment, submission, results, key_file=None, container_isolation=False):
    """Grade the submission folder's notebook as `assignment` and write Gradescope's results.json.
    Returns the SubmissionResult (None when no notebook could be picked)."""
    results = Path(results)
    results.parent.mkdir(parents=True, exist_ok=True)
    isolation = "bwrap" if bwrap_problem() is None else ("container" if container_isolation else require_sandbox())
    path, problem = _pick(submission, assignment)
    if path is None:
        results.write_text(json.dumps(_not_graded(problem), indent=1) + "\n", encoding="utf-8")
        return None
    limits = Limits(call_seconds=DEFAULT_TIMEOUT)
    found = Found(path, STUDENT, assignment)
    result = next(grade_paths([found], key=load_key(key_file), limits=limits, isolation=isolation))
    results.write_text(json.dumps(reports.gradescope_results(result), indent=1) + "\n", encoding="utf-8")
    return result
