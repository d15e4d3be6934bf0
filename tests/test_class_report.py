"""autograder.class_report and `python -m autograder report`: an offline HTML page with score
distributions, pass rates and the most frequent diagnosed mistakes per function."""
import re
import shutil
from pathlib import Path

import pytest

from autograder import class_report, cli, reports
from autograder.results import SubmissionResult, TestResult

EXAMPLES = Path(__file__).resolve().parents[1] / "autograder" / "examples" / "submitted"


def _submission(student, mistake=None, message=""):
    tests = [TestResult("corr2d", "a", 1.0, 1.0, True),
             TestResult("corr2d", "b", 0.0 if mistake else 1.0, 1.0, not mistake, message,
                        mistakes=[mistake] if mistake else [])]
    return SubmissionResult(student, "ch02_convolution", "x.ipynb", seed=1, tests=tests)


@pytest.fixture
def results_json(tmp_path):
    results = [_submission("ada"), _submission("ben", "flipped_kernel", "corr2d(...): <script>alert(1)</script>"),
               _submission("cy", "flipped_kernel", "corr2d(...): flipped"), _submission("dee", "wrong_values", "w"),
               SubmissionResult("eve", "ch02_convolution", "e.ipynb", status="unreadable", problem="corrupt <b>")]
    reports.write_results_json(results, tmp_path / "results.json")
    return tmp_path / "results.json"


def test_mistakes_are_counted_per_student_most_frequent_first(results_json):
    graded = [s for s in class_report.load(results_json) if s["tests"]]
    found = class_report.mistakes(graded, "corr2d")
    assert [(m, students, tests) for m, students, tests, _ in found] == [("flipped_kernel", 2, 2),
                                                                         ("wrong_values", 1, 1)]
    assert class_report.pass_rates(graded, "corr2d") == (pytest.approx(5 / 8), 1, 4)


def test_the_page_is_offline_escapes_student_text_and_explains_each_mistake(results_json, tmp_path):
    assert cli.main(["report", str(results_json), "--out", str(tmp_path / "report.html")]) == 0
    page = (tmp_path / "report.html").read_text()
    assert len(re.findall(r"<img src='data:image/png;base64,", page)) == 2
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page), "the page loads nothing from elsewhere"
    assert "<script>" not in page and "&lt;script&gt;" in page and "corrupt &lt;b&gt;" in page
    assert "<code>flipped_kernel</code> (2 students, 2 tests)" in page
    assert "cross-correlation" in page, "the catalogue's explanation of flipped_kernel"


def test_an_unreadable_results_file_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "r.json").write_text("[]")
    assert cli.main(["report", str(tmp_path / "r.json"), "--out", str(tmp_path / "r.html")]) == 2
    assert "is not a results.json" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_report_of_the_bundled_examples_covers_every_assignment(tmp_path):
    subs = tmp_path / "submitted"
    shutil.copytree(EXAMPLES, subs)
    cli.grade(paths=[subs], out=tmp_path / "grades.csv", json_path=tmp_path / "results.json", jobs=2)
    class_report.write(tmp_path / "results.json", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert len(re.findall(r"<h2 id=", page)) == 8 and page.count("data:image/png;base64,") == 16
    assert "<code>raises</code> (1 student," in page, "cy's stubs raise NotImplementedError"
