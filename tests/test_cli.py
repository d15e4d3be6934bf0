"""The command line: grades a folder, writes every report, exits 0 unless the usage is wrong."""
import csv
import json
import subprocess
import sys

import pytest

from tests.corpus.build import build_notebook, correct_cells, stub_cells

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "submitted"
    build_notebook(correct_cells("ch02_convolution"), "ch02_convolution",
                   subs / "ada" / "ch02_convolution" / "ch02_convolution.ipynb")
    build_notebook(stub_cells("ch02_convolution"), "ch02_convolution",
                   subs / "bob" / "ch02_convolution" / "ch02_convolution.ipynb")
    (subs / "eve" / "ch02_convolution").mkdir(parents=True)
    (subs / "eve" / "ch02_convolution" / "ch02_convolution.ipynb").write_text("{not json")
    done = _cli("grade", subs, "--out", root / "grades.csv", "--json", root / "results.json", "--gradescope",
                root / "gs", "--feedback", root / "fb", "--jobs", "2", cwd=root)
    return root, done


def test_exit_status_is_zero_however_badly_students_did(graded):
    _, done = graded
    assert done.returncode == 0, done.stderr


def test_grades_csv_scores_correct_stub_and_corrupt(graded):
    root, _ = graded
    rows = {r["student"]: r for r in csv.DictReader(open(root / "grades.csv"))}
    assert (rows["ada"]["score"], rows["ada"]["max_score"], rows["ada"]["status"]) == ("20", "20", "ok")
    assert rows["bob"]["score"] == "0"
    assert (rows["eve"]["score"], rows["eve"]["status"]) == ("0", "unreadable")


def test_all_reports_are_written(graded):
    root, _ = graded
    assert len(json.loads((root / "results.json").read_text())["submissions"]) == 3
    assert (root / "gs" / "bob" / "ch02_convolution" / "results.json").exists()
    assert "[raises] NotImplementedError" in (root / "fb" / "bob" / "ch02_convolution.md").read_text()


def test_no_notebooks_is_a_usage_error(tmp_path):
    done = _cli("grade", tmp_path, "--out", tmp_path / "g.csv", cwd=tmp_path)
    assert done.returncode == 2 and "no notebooks" in done.stderr and len(done.stderr.splitlines()) == 1
