"""autograder.gradescope: the autograder zip, unpacked into a fake /autograder tree, grades a
submission end to end through its own run_autograder and writes Gradescope's results.json."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from autograder import cli, gradescope
from tests.corpus.build import build_notebook, correct_cells, stub_cells

ASSIGNMENT = "ch01_motivation"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    assert cli.main(["gradescope", ASSIGNMENT, "--out", str(out)]) == 0
    return out


def _fake_root(tmp_path, autograder_zip):
    """/autograder as Gradescope lays it out: source/ (the zip), submission/, results/."""
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(tmp_path / "source")
        for info in archive.infolist():  # zipfile drops the executable bits: put them back
            mode = info.external_attr >> 16
            if mode:
                os.chmod(tmp_path / "source" / info.filename, mode & 0o777)
    (tmp_path / "submission").mkdir()
    return tmp_path


def test_the_zip_holds_what_gradescope_needs(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        run = archive.read("run_autograder").decode()
        pins = archive.read("requirements-grading.txt").decode().split()
    assert {"setup.sh", "run_autograder", "requirements-grading.txt", "grader.key",
            "course/autograder/cli.py", "course/solutions/__init__.py", f"course/tasks/{ASSIGNMENT}.py"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert "--container-isolation" in run and f"gradescope-run {ASSIGNMENT}" in run
    assert "numpy==" in " ".join(pins) and "pytest==" in " ".join(pins)
    assert not any("__pycache__" in n for n in names)
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", "-c", zipfile.ZipFile(autograder_zip).read(script).decode()], check=True)


@pytest.mark.sandbox
@pytest.mark.parametrize("cells, score", [(correct_cells(ASSIGNMENT), 16), (stub_cells(ASSIGNMENT), 0)])
def test_run_autograder_grades_the_submission_end_to_end(tmp_path, autograder_zip, cells, score):
    root = _fake_root(tmp_path, autograder_zip)
    build_notebook(cells, ASSIGNMENT, root / "submission" / f"{ASSIGNMENT}.ipynb")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == score
    assert len(results["tests"]) == 4 and all(t["max_score"] == 4 for t in results["tests"])
    assert results["extra_data"]["isolation"] == "bwrap" and results["extra_data"]["key_id"]
    assert f"graded by the course code in {root / 'source' / 'course'}" in done.stdout, "the zip's own code ran"


@pytest.mark.parametrize("files, message", [([], "No notebook (.ipynb) was found"),
                                            (["a.ipynb", "b.ipynb"], "has 2 notebooks")])
def test_a_submission_without_one_notebook_scores_0_with_the_reason(tmp_path, files, message):
    for name in files:
        (tmp_path / name).write_text("{}")
    gradescope.run(ASSIGNMENT, tmp_path, tmp_path / "out" / "results.json")
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["score"] == 0 and message in results["output"]


def test_without_bubblewrap_the_container_is_the_isolation_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(gradescope, "bwrap_problem", lambda: "bubblewrap failed here (no user namespaces)")
    build_notebook(correct_cells(ASSIGNMENT), ASSIGNMENT, tmp_path / "sub" / "mine.ipynb")
    result = gradescope.run(ASSIGNMENT, tmp_path / "sub", tmp_path / "results.json", container_isolation=True)
    assert (result.isolation, result.score) == ("container", 16)
    assert "(sandbox: container)" in json.loads((tmp_path / "results.json").read_text())["output"]
    monkeypatch.setattr("autograder.sandbox.bwrap_problem", lambda: "bubblewrap failed here")
    assert cli.main(["gradescope-run", ASSIGNMENT, "--submission", str(tmp_path / "sub"),
                     "--results", str(tmp_path / "r2.json")]) == 2
