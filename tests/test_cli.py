"""The command line: grades a folder, writes every report, exits 0 unless the usage is wrong;
names the students whose notebooks could not be graded; --assignment says what every notebook is."""
import csv
import json
import subprocess
import sys

import pytest

from autograder import cli
from tests.corpus.build import build_notebook, correct_cells, stub_cells

WRONG = "this is the ch05_normalization notebook, submitted as ch02_convolution: submit your ch02_convolution notebook"


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def _declaring(path, assignment):
    """Give the notebook at path the course metadata of `assignment` (as a release has)."""
    nb = json.loads(path.read_text())
    nb["metadata"]["cnns_course"] = {"assignment": assignment}
    path.write_text(json.dumps(nb))
    return path


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
    _declaring(build_notebook(correct_cells("ch05_normalization"), "ch05_normalization",
                              subs / "mia" / "ch02_convolution" / "ch02_convolution.ipynb"), "ch05_normalization")
    done = _cli("grade", subs, "--out", root / "grades.csv", "--json", root / "results.json", "--gradescope",
                root / "gs", "--feedback", root / "fb", "--jobs", "2", cwd=root)
    return root, done


@pytest.mark.slow
@pytest.mark.sandbox
def test_exit_status_is_zero_however_badly_students_did(graded):
    _, done = graded
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.sandbox
def test_grades_csv_scores_correct_stub_corrupt_and_wrong_notebook(graded):
    root, _ = graded
    rows = {r["student"]: r for r in csv.DictReader(open(root / "grades.csv"))}
    assert (rows["ada"]["score"], rows["ada"]["max_score"], rows["ada"]["status"]) == ("20", "20", "ok")
    assert rows["bob"]["score"] == "0"
    assert (rows["eve"]["score"], rows["eve"]["max_score"], rows["eve"]["status"]) == ("0", "20", "unreadable")
    assert rows["eve"]["problem"].startswith("the notebook cannot be read (JSONDecodeError")
    assert (rows["mia"]["score"], rows["mia"]["max_score"], rows["mia"]["status"], rows["mia"]["problem"]) == (
        "0", "20", "wrong_assignment", WRONG)


@pytest.mark.slow
@pytest.mark.sandbox
def test_all_reports_are_written(graded):
    root, _ = graded
    assert len(json.loads((root / "results.json").read_text())["submissions"]) == 4
    assert (root / "gs" / "bob" / "ch02_convolution" / "results.json").exists()
    assert "[raises] NotImplementedError" in (root / "fb" / "bob" / "ch02_convolution.md").read_text()


@pytest.mark.slow
@pytest.mark.sandbox
def test_reports_give_the_one_reason_of_a_notebook_not_graded(graded):
    root, _ = graded
    mia = next(s for s in json.loads((root / "results.json").read_text())["submissions"] if s["student"] == "mia")
    assert (mia["status"], mia["problem"], mia["tests"]) == ("wrong_assignment", WRONG, [])
    feedback = (root / "fb" / "mia" / "ch02_convolution.md").read_text()
    assert f"**Not graded (wrong_assignment).** `{WRONG}`" in feedback and feedback.count(WRONG) == 1
    gradescope = json.loads((root / "gs" / "mia" / "ch02_convolution" / "results.json").read_text())
    assert (gradescope["score"], gradescope["tests"], gradescope["output"]) == (
        0, [], f"Not graded (wrong_assignment). {WRONG}")


@pytest.mark.slow
@pytest.mark.sandbox
def test_summary_names_the_students_whose_notebooks_were_not_graded(graded):
    _, done = graded
    lines = done.stdout.splitlines()
    start = lines.index("not graded (2):")
    assert lines[start + 1].startswith("  eve (ch02_convolution): unreadable: the notebook cannot be read")
    assert lines[start + 2] == f"  mia (ch02_convolution): wrong_assignment: {WRONG}"


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize("declared, option", [("ch02_convolution", []), (None, ["--assignment", "ch02_convolution"])])
def test_a_renamed_notebook_is_graded_as_its_metadata_or_the_instructor_says(tmp_path, declared, option):
    path = build_notebook(correct_cells("ch02_convolution"), "ch02_convolution",
                          tmp_path / "submitted" / "alice" / "my_work.ipynb")
    if declared:
        _declaring(path, declared)
    done = _cli("grade", path, "--out", tmp_path / "grades.csv", *option, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(open(tmp_path / "grades.csv")))
    assert (row["student"], row["assignment"], row["score"], row["status"]) == ("alice", "ch02_convolution", "20", "ok")


@pytest.mark.slow
def test_no_notebooks_is_a_usage_error(tmp_path):
    done = _cli("grade", tmp_path, "--out", tmp_path / "g.csv", cwd=tmp_path)
    assert done.returncode == 2 and "no notebooks" in done.stderr and len(done.stderr.splitlines()) == 1


def test_an_unknown_assignment_is_a_usage_error_naming_the_known_ones(tmp_path):
    done = _cli("grade", tmp_path, "--out", tmp_path / "g.csv", "--assignment", "ch4", cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("autograder: --assignment 'ch4' is not an assignment of this course; use one of: "
                                  "ch01_motivation, ch02_convolution,")
    with pytest.raises(cli.UsageError, match="'ch4' is not an assignment"):
        cli.grade(paths=[tmp_path], out=tmp_path / "g.csv", assignment="ch4")


@pytest.mark.slow
@pytest.mark.sandbox
def test_feedback_shows_the_reference_values_only_at_feedback_detail_values(tmp_path):
    from tests.corpus.mutants import mutant_cells

    notebook = build_notebook(mutant_cells("ch05_normalization", "inference_precedence"), "ch05_normalization",
                              tmp_path / "submitted" / "ben" / "ch05_normalization" / "ch05_normalization.ipynb")
    shown = {}
    for level in ("diagnosis", "values"):
        done = _cli("grade", notebook, "--out", tmp_path / f"{level}.csv", "--feedback", tmp_path / level,
                    "--feedback-detail", level, "--seed", "3", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        shown[level] = (tmp_path / level / "ben" / "ch05_normalization.md").read_text()
    assert "[wrong_values]" in shown["diagnosis"] and "expected" not in shown["diagnosis"].split("batchnorm_inference", 1)[1]
    assert "[wrong_values]" in shown["values"] and ", expected " in shown["values"]


def test_progress_for_logs_is_a_line_at_every_tenth(capsys):
    update = cli.ProgressLines(20, done=2)
    for _ in range(18):
        update()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "autograder: 4 of 20 notebooks graded (20%)" and lines[-1].endswith("20 of 20 notebooks graded (100%)")
    assert len(lines) == 9
