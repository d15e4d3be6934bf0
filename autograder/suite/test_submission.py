"""One test per case of the assignment being graded; the plugin supplies `case` and `runner`.

Run only through autograder.batch (pytest.main with GradingPlugin), never collected by the
project's own test suite (it lives outside tests/).
"""
import pytest


def test_case(case, runner):
    result = runner.run(case)
    if not result.passed:
        pytest.fail(result.message, pytrace=False)  # the diagnosis is the report; no traceback to format
