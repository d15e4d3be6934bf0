"""The pytest plugin that grades one submission: parametrizes the suite by its cases and builds
the TestResults from pytest's own reports, so what pytest ran and reported is the grade."""
import dataclasses
from pathlib import Path

import pytest

from ..diagnose import Finding
from ..results import TestResult

SUITE = Path(__file__).resolve().parent / "test_submission.py"


class GradingPlugin:
    """Gives test_submission.py its cases (one test each) and the CaseRunner that scores them;
    collects one TestResult per case from the reports (results, in the order the tests ran)."""

    def __init__(self, cases, runner):
        self.cases, self._runner = cases, runner
        self.results = []

    def pytest_generate_tests(self, metafunc):
        if "case" in metafunc.fixturenames:
            metafunc.parametrize("case", self.cases, ids=[c.test_id for c in self.cases])

    @pytest.fixture
    def runner(self):
        return self._runner

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        # one result per test: its call, or its setup when that failed and the call never came
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.results.append(result_of(item.callspec.params["case"], report))


def result_of(case, report):
    """The TestResult of a case from pytest's report of its test: the verdict the test recorded,
    passed as pytest says; a grader fault when the test did not get to record one."""
    recorded = dict(report.user_properties).get("result")
    if report.when != "call" or recorded is None:
        finding = Finding("grader_error", f"the test did not run to the end: {report.longreprtext[-300:]}")
        return TestResult(case.function, case.name, 0.0, case.points, False, f"{case.describe()}: {finding}",
                          grader_error=True, mistakes=[finding.mistake])
    return dataclasses.replace(recorded, passed=report.passed)


def run_suite(cases, runner):
    """pytest.main over the suite with a GradingPlugin; returns (pytest's exit code, the
    TestResults its reports gave, one per case).

    Cheap startup: no plugin autoloading (set by the caller's environment), no cache, no
    assertion rewriting, no config files from the course tree, output discarded; and no
    unraisable-exception plugin, whose full garbage collection at the end of each session
    costs more than some submissions' grading (student code never runs in this process).
    """
    plugin = GradingPlugin(cases, runner)
    args = [str(SUITE), "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:unraisableexception",
            "--assert=plain",
            "--rootdir", str(SUITE.parent), "-c", str(SUITE.parent / "pytest.ini")]
    return pytest.main(args, plugins=[plugin]), plugin.results
