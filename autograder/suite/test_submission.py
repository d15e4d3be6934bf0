"""One test per case of the assignment being graded; the plugin supplies `case` and `runner`.

Run only through autograder.batch (pytest.main with GradingPlugin), never collected by the
project's own test suite (it lives outside tests/).
"""
import pytest


def test_case(case, runner, record_property):
    result = runner.run(case)
    record_property("result", result)  # the plugin builds the grade from the report that carries it
    if not result.passed:
        pytest.fail(result.message, pytrace=False)  # the diagnosis is the report; no traceback to format
