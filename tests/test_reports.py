"""Reports: grades.csv, results.json, Gradescope's format, feedback, the class summary."""
import csv
import json
import re

import pytest

from autograder import reports
from autograder.points import POINTS
from autograder.results import SubmissionResult, TestResult


def _result():
    return SubmissionResult("ada", "ch08_fine_tuning", "ada.ipynb", seed=5, isolation="bwrap", tests=[
        TestResult("fc_to_conv", "a", 1.0, 1.0, True), TestResult("fc_to_conv", "b", 1.0, 1.0, True),
        TestResult("fc_to_conv", "c", 0.0, 1.0, False, "fc_to_conv(...): [hwc_order] reshape to (K, C, H, W)",
                   mistakes=["hwc_order"])])


def test_grades_csv_has_the_contract_columns(tmp_path):
    reports.write_grades_csv([_result()], tmp_path / "g.csv")
    rows = list(csv.DictReader(open(tmp_path / "g.csv")))
    # max_score is the assignment's (fc_to_conv 3 + fine_tune 5), not the sum of the tests run
    assert rows == [{"student": "ada", "assignment": "ch08_fine_tuning", "score": "2", "max_score": "8",
                     "status": "ok", "problem": "", "submitted_at": "", "graded_at": ""}]


def test_results_json_lists_every_test_with_seed_and_isolation(tmp_path):
    reports.write_results_json([_result()], tmp_path / "r.json")
    sub = json.loads((tmp_path / "r.json").read_text())["submissions"][0]
    assert (sub["seed"], sub["isolation"], len(sub["tests"])) == (5, "bwrap", 3)
    assert set(sub["tests"][2]) >= {"student", "assignment", "function", "test", "points", "max_points",
                                    "passed", "message", "mistakes"}
    # the catalogue ids as a field, for analytics: never parsed back from the message
    assert [t["mistakes"] for t in sub["tests"]] == [[], [], ["hwc_order"]]


def test_gradescope_results_follow_its_format(tmp_path):
    reports.write_gradescope([_result()], tmp_path)
    data = json.loads((tmp_path / "ada" / "ch08_fine_tuning" / "results.json").read_text())
    assert data["score"] == 2
    assert data["tests"][0]["max_score"] == 3 and "[hwc_order]" in data["tests"][0]["output"]


def test_feedback_lists_functions_points_and_diagnoses():
    text = reports.feedback_markdown(_result())
    assert "`fc_to_conv`: 2 / 3" in text and "[hwc_order]" in text


def _with_detail():
    result = _result()
    result.tests[2].detail = "w at (0, 1, 0, 0): got 0.5, expected 0.25"
    return result


def test_student_reports_show_the_reference_values_only_when_the_instructor_asks(tmp_path):
    for detail in (False, True):
        feedback = reports.feedback_markdown(_with_detail(), detail)
        gradescope = json.dumps(reports.gradescope_results(_with_detail(), detail))
        assert ("expected 0.25" in feedback) is detail and ("expected 0.25" in gradescope) is detail
    reports.write_results_json([_with_detail()], tmp_path / "r.json")   # the instructor's file keeps it
    assert "expected 0.25" in (tmp_path / "r.json").read_text()


def test_summary_gives_per_function_pass_rates():
    assert "67%" in reports.summary_table([_result()])


def test_reports_create_missing_output_folders(tmp_path):
    """Is grading work kept when --out or --json names a folder that does not exist yet?"""
    reports.write_grades_csv([_result()], tmp_path / "new" / "grades.csv")
    reports.write_results_json([_result()], tmp_path / "other" / "results.json")
    assert (tmp_path / "new" / "grades.csv").read_text().startswith("student,assignment")
    assert json.loads((tmp_path / "other" / "results.json").read_text())["submissions"]


WRONG = "this is the ch05_normalization notebook, submitted as ch04_pooling: submit your ch04_pooling notebook"


def _not_graded(student="bob", status="wrong_assignment", problem=WRONG):
    """What batch.grade_submission gives a submission it cannot grade: no tests, one reason."""
    return SubmissionResult(student, "ch04_pooling", f"{student}.ipynb", isolation="bwrap", status=status,
                            problem=problem)


# what ch04_pooling is worth, from its task records (adding a function there changes it)
POOLING_POINTS = sum(POINTS["ch04_pooling"].values())


def test_grades_csv_gives_the_reason_and_the_assignments_max_score(tmp_path):
    """An instructor must see 0 of the assignment's points and why, not 0 of 0."""
    reports.write_grades_csv([_not_graded(problem=f"line one\n{WRONG}")], tmp_path / "g.csv")
    rows = list(csv.DictReader(open(tmp_path / "g.csv", newline="")))
    assert rows == [{"student": "bob", "assignment": "ch04_pooling", "score": "0", "max_score": f"{POOLING_POINTS:g}",
                     "status": "wrong_assignment", "problem": f"line one {WRONG}", "submitted_at": "",
                     "graded_at": ""}]


def test_results_json_gives_the_reason_once_and_no_test_rows(tmp_path):
    reports.write_results_json([_not_graded()], tmp_path / "r.json")
    sub = json.loads((tmp_path / "r.json").read_text())["submissions"][0]
    assert (sub["status"], sub["problem"], sub["tests"], sub["score"], sub["max_score"]) == (
        "wrong_assignment", WRONG, [], 0, POOLING_POINTS)


def test_gradescope_output_says_the_notebook_was_not_graded_and_why():
    data = reports.gradescope_results(_not_graded())
    assert (data["score"], data["tests"]) == (0, [])
    assert data["output"] == f"Not graded (wrong_assignment). {WRONG}"


def test_feedback_of_a_submission_not_graded_says_why_once_in_bold():
    text = reports.feedback_markdown(_not_graded(status="no_metadata", problem="no solution cells were found"))
    assert f"**Score: 0 / {POOLING_POINTS:g}**" in text
    assert "**Not graded (no_metadata).** `no solution cells were found`" in text
    assert text.count("no solution cells") == 1 and "##" not in text


def test_summary_names_every_submission_not_graded_and_why():
    results = [_result(), _not_graded("bob"), _not_graded("eve", "unreadable", "the notebook cannot be read")]
    lines = reports.summary_table(results).splitlines()
    assert lines[-3:] == ["not graded (2):", f"  bob (ch04_pooling): wrong_assignment: {WRONG}",
                          "  eve (ch04_pooling): unreadable: the notebook cannot be read"]
    assert "submissions: 1 ok, 1 unreadable, 1 wrong_assignment" in lines


def test_summary_pass_rates_count_only_graded_submissions():
    """A notebook that was not graded has no tests: it must not count as a class member without full marks."""
    graded = SubmissionResult("ada", "ch04_pooling", "ada.ipynb", tests=[TestResult("max_unpool", "a", 4, 4, True)])
    row = next(line for line in reports.summary_table([graded, _not_graded()]).splitlines() if "max_unpool" in line)
    assert row.split()[-2:] == ["100%", "1/1"]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\r=1"])
def test_grades_csv_cells_cannot_be_formulas(tmp_path, name):
    """OWASP's advice: a text cell a spreadsheet would evaluate gets a leading single quote."""
    result = SubmissionResult(name, name, "x.ipynb", status=name, tests=_result().tests)
    reports.write_grades_csv([result], tmp_path / "g.csv")
    row = next(csv.DictReader(open(tmp_path / "g.csv", newline="")))
    assert (row["student"], row["assignment"], row["status"]) == (f"'{name}",) * 3
    assert (row["score"], row["max_score"]) == ("2", "0")  # numbers as they are


def test_grades_csv_keeps_ordinary_names_as_they_are(tmp_path):
    reports.write_grades_csv([SubmissionResult("ada-lovelace", "ch08_fine_tuning", "x.ipynb")], tmp_path / "g.csv")
    assert next(csv.DictReader(open(tmp_path / "g.csv")))["student"] == "ada-lovelace"


HOSTILE = "done\n# Full marks: 174 / 174\n- [claim](javascript:alert(1))\n<script>alert(1)</script>\n```\n#"


def _hostile():
    result = _result()
    result.student = "=eve\n# Grade: A"
    result.problem = "\n## Forged problem <img src=x onerror=alert(1)>"
    result.output = f"{HOSTILE}\n````\n<script>alert(2)</script>\n## printed heading"
    result.tests += [TestResult("fine_tune", "t", 0.0, 5.0, False, HOSTILE),
                     TestResult("fine_tune", "u", 0.0, 0.0, False, "`` `x` ```` <b>bold</b>")]
    return result


def test_feedback_leaves_headings_to_the_grader():
    """Printed text, messages, name and problem are the student's: none may make a heading."""
    fence, outside = None, []  # the open code fence; the lines outside code blocks
    for line in reports.feedback_markdown(_hostile()).splitlines():
        run = re.fullmatch(r"(`{3,})\s*", line)
        if fence is None and run:
            fence = run.group(1)
        elif fence is not None and run and len(run.group(1)) >= len(fence):
            fence = None
        elif fence is None:
            outside.append(line)
    assert fence is None
    assert [line[:line.index(" ", line.index(" ") + 1)] for line in outside if line.startswith("#")] == [
        "# Feedback:", "## ✘", "## ✘", "## What"]


def test_feedback_renders_student_text_as_code_only():
    """Rendered as CommonMark (raw HTML allowed), student text makes no heading, list item, link or tag."""
    from markdown_it import MarkdownIt
    html = MarkdownIt("commonmark").render(reports.feedback_markdown(_hostile()))
    assert re.findall(r"<h\d>(.*?)</h\d>", html) == [
        "Feedback: <code>ch08_fine_tuning</code> (<code>=eve ⏎ # Grade: A</code>)",
        "✘ <code>fc_to_conv</code>: 2 / 3", "✘ <code>fine_tune</code>: 0 / 5", "What your code printed (truncated)"]
    assert html.count("<li>") == 3  # one per failed test
    assert "<script" not in html and "<img" not in html and "<a " not in html and "<b>" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;\n## printed heading" in html  # all of the output, as code
    assert "<code>`` `x` ```` &lt;b&gt;bold&lt;/b&gt;</code>" in html  # backticks cannot close the code


def test_safe_names_of_different_students_differ(tmp_path):
    forger = reports._safe_name("a b")  # a student named after another's changed name
    students = ["a b", "a_b", "A_B", "a/b", ".", "..", ".ada", "", forger, "x" * 300]
    reports.write_feedback([SubmissionResult(s, "ch08_fine_tuning", "x.ipynb") for s in students], tmp_path)
    folders = sorted(tmp_path.iterdir())
    assert len(folders) == len(students)
    assert all(not f.name.startswith(".") and len(f.name) < 80 for f in folders)
    for student in students:
        assert f"({reports.inline_code(student)})" in (tmp_path / reports._safe_name(student) / "ch08_fine_tuning.md").read_text()


def test_gradescope_folders_of_different_students_differ(tmp_path):
    reports.write_gradescope([SubmissionResult(s, "ch08_fine_tuning", "x.ipynb") for s in ("a b", "a_b")], tmp_path)
    assert len(list(tmp_path.glob("*/ch08_fine_tuning/results.json"))) == 2


def test_results_record_the_key_fingerprint(tmp_path):
    result = _result()
    result.key_id = "0123456789ab"
    reports.write_results_json([result], tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["submissions"][0]["key_id"] == "0123456789ab"
    assert reports.gradescope_results(result)["extra_data"]["key_id"] == "0123456789ab"


def test_unsandboxed_grading_says_so_loudly():
    result = _result()
    assert "UNSANDBOXED" not in reports.gradescope_results(result)["output"]
    result.isolation = "none"
    line = "UNSANDBOXED: student code ran without a sandbox (--unsafe-no-sandbox)"
    assert reports.gradescope_results(result)["output"].startswith(line)
    assert line in reports.feedback_markdown(result)


def test_a_result_survives_a_round_trip_through_json():
    """A batch's journal stores to_dict as JSON; from_dict must give back the same result."""
    result = _hostile()
    result.key_id, result.output, result.seconds = "0123456789ab", "printed\n", 1.5
    result.tests[0].grader_error = True
    again = SubmissionResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result and again.score == result.score and isinstance(again.tests[0], TestResult)
    with pytest.raises(TypeError):
        SubmissionResult.from_dict({**result.to_dict(), "unknown_field": 1})
