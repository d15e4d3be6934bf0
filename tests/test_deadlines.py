"""autograder.deadlines: due dates, extensions and the late penalty from TOML; submission times
from nbgrader's timestamp.txt or the file; lateness shown in feedback."""
import os
from datetime import datetime, timezone

import pytest

from autograder import deadlines, reports
from autograder.results import SubmissionResult, TestResult

RULES = """
timezone = "Europe/Berlin"
[penalty]
per_day = 0.1
grace_minutes = 15
max_days = 3
[due]
ch01_motivation = 2026-10-02T23:59:00
ch02_convolution = 2026-10-09T23:59:00Z
[extensions.ada]
ch01_motivation = 2026-10-05T23:59:00
[extensions.ben]
ch01_motivation = 2
"""


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "deadlines.toml"
    path.write_text(RULES)
    return deadlines.load(path)


def _utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_due_dates_take_the_files_timezone_and_each_students_extension(rules):
    # 23:59 in Berlin (CEST, UTC+2) is 21:59 UTC
    assert rules.due("cy", "ch01_motivation") == _utc("2026-10-02T21:59:00")
    assert rules.due("ada", "ch01_motivation") == _utc("2026-10-05T21:59:00")
    assert rules.due("ben", "ch01_motivation") == _utc("2026-10-04T21:59:00")
    assert rules.due("cy", "ch02_convolution") == _utc("2026-10-09T23:59:00")
    assert rules.due("cy", "ch03_padding_stride") is None


@pytest.mark.parametrize("submitted, days, penalty", [
    ("2026-10-02T21:00:00", 0, 0.0),      # early
    ("2026-10-02T22:10:00", 0, 0.0),      # within the 15 minutes' grace
    ("2026-10-02T22:30:00", 1, 0.1),      # a part of a day counts as a day
    ("2026-10-04T21:59:00", 2, 0.2),
    ("2026-10-06T00:00:00", 4, 1.0),      # beyond max_days: nothing
])
def test_the_penalty_grows_per_started_day_late(rules, submitted, days, penalty):
    late = rules.lateness("cy", "ch01_motivation", _utc(submitted))
    assert (late.days, late.penalty) == (days, pytest.approx(penalty))


def test_no_due_date_or_no_time_means_no_penalty(rules):
    assert rules.lateness("cy", "ch03_padding_stride", _utc("2030-01-01T00:00:00")).penalty == 0
    assert rules.lateness("cy", "ch01_motivation", None).penalty == 0


@pytest.mark.parametrize("text, message", [
    ("[due]\nch99 = 2026-10-01", "'ch99' is not an assignment"),
    ("[due]\nch01_motivation = 'friday'", "must be a date"),
    ("timezone = 'Mars/Olympus'", "unknown timezone"),
    ("[penalty]\nper_day = -1", "penalty.per_day must be a number of at least 0"),
    ("deadline = 1", "unknown keys"),
    ("[due", "not valid TOML"),
])
def test_a_malformed_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "d.toml"
    path.write_text(text)
    with pytest.raises(deadlines.DeadlineError, match=message):
        deadlines.load(path)


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(deadlines.DeadlineError, match="cannot be read"):
        deadlines.load(tmp_path / "none.toml")


def test_submission_time_reads_nbgraders_timestamp_else_the_file_time(tmp_path):
    notebook = tmp_path / "submitted" / "ada" / "ch01_motivation" / "ch01_motivation.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{}")
    os.utime(notebook, (1790000000, 1790000000))
    assert deadlines.submission_time(notebook) == datetime.fromtimestamp(1790000000, timezone.utc).isoformat()
    (notebook.parent / "timestamp.txt").write_text("2026-10-03 08:30:00.123456 UTC")  # as nbgrader writes it
    assert deadlines.submission_time(notebook) == "2026-10-03T08:30:00+00:00"
    (notebook.parent / "timestamp.txt").write_text("not a time")
    assert deadlines.submission_time(notebook).startswith("2026-09-21")


def test_feedback_shows_the_lateness_and_the_score_after_the_penalty(rules):
    result = SubmissionResult("cy", "ch01_motivation", "x.ipynb", seed=1, submitted_at="2026-10-03T10:00:00+00:00",
                              tests=[TestResult("f", "c", 10.0, 16.0, False, "wrong")])
    late = rules.lateness("cy", "ch01_motivation", deadlines.parse_time(result.submitted_at))
    text = reports.feedback_markdown(result, lateness=late)
    assert "Submitted 2026-10-03 10:00 UTC, due 2026-10-02 21:59 UTC: 1 day late, 10% late penalty." in text
    assert "**Score after the late penalty: 9 / 16**" in text
    on_time = rules.lateness("ada", "ch01_motivation", deadlines.parse_time(result.submitted_at))
    assert ": on time" in reports.feedback_markdown(result, lateness=on_time)
