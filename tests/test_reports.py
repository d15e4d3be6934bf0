"""Reports: grades.csv, results.json, Gradescope's format, feedback, the class summary."""
import csv
import json

from autograder import reports
from autograder.results import SubmissionResult, TestResult


def _result():
    return SubmissionResult("ada", "ch08_fine_tuning", "ada.ipynb", seed=5, isolation="bwrap", tests=[
        TestResult("fc_to_conv", "a", 1.0, 1.0, True), TestResult("fc_to_conv", "b", 1.0, 1.0, True),
        TestResult("fc_to_conv", "c", 0.0, 1.0, False, "fc_to_conv(...): [hwc_order] reshape to (K, C, H, W)")])


def test_grades_csv_has_the_contract_columns(tmp_path):
    reports.write_grades_csv([_result()], tmp_path / "g.csv")
    rows = list(csv.DictReader(open(tmp_path / "g.csv")))
    # max_score is the assignment's (fc_to_conv 3 + fine_tune 5), not the sum of the tests run
    assert rows == [{"student": "ada", "assignment": "ch08_fine_tuning", "score": "2", "max_score": "8",
                     "status": "ok"}]


def test_results_json_lists_every_test_with_seed_and_isolation(tmp_path):
    reports.write_results_json([_result()], tmp_path / "r.json")
    sub = json.loads((tmp_path / "r.json").read_text())["submissions"][0]
    assert (sub["seed"], sub["isolation"], len(sub["tests"])) == (5, "bwrap", 3)
    assert set(sub["tests"][2]) >= {"student", "assignment", "function", "test", "points", "max_points",
                                    "passed", "message"}


def test_gradescope_results_follow_its_format(tmp_path):
    reports.write_gradescope([_result()], tmp_path)
    data = json.loads((tmp_path / "ada" / "ch08_fine_tuning" / "results.json").read_text())
    assert data["score"] == 2
    assert data["tests"][0]["max_score"] == 3 and "[hwc_order]" in data["tests"][0]["output"]


def test_feedback_lists_functions_points_and_diagnoses():
    text = reports.feedback_markdown(_result())
    assert "`fc_to_conv`: 2 / 3" in text and "[hwc_order]" in text


def test_summary_gives_per_function_pass_rates():
    assert "67%" in reports.summary_table([_result()])


def test_reports_create_missing_output_folders(tmp_path):
    """Is grading work kept when --out or --json names a folder that does not exist yet?"""
    reports.write_grades_csv([_result()], tmp_path / "new" / "grades.csv")
    reports.write_results_json([_result()], tmp_path / "other" / "results.json")
    assert (tmp_path / "new" / "grades.csv").read_text().startswith("student,assignment")
    assert json.loads((tmp_path / "other" / "results.json").read_text())["submissions"]


def test_feedback_of_a_notebook_without_solution_cells_says_why_at_the_top():
    result = SubmissionResult("ada", "ch08_fine_tuning", "ada.ipynb", seed=5, isolation=None,
                              problem="no solution cells with nbgrader metadata were found in the notebook")
    assert "no solution cells with nbgrader metadata" in reports.feedback_markdown(result).split("##")[0]
