"""The pytest plugin that grades one submission: parametrizes the suite by its cases."""
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parent / "test_submission.py"


class GradingPlugin:
    """Gives test_submission.py its cases (one test each) and the CaseRunner that scores them."""

    def __init__(self, cases, runner):
        self.cases, self._runner = cases, runner

    def pytest_generate_tests(self, metafunc):
        if "case" in metafunc.fixturenames:
            metafunc.parametrize("case", self.cases, ids=[c.test_id for c in self.cases])

    @pytest.fixture
    def runner(self):
        return self._runner


def run_suite(cases, runner):
    """pytest.main over the suite with a GradingPlugin; returns pytest's exit code.

    Cheap startup: no plugin autoloading (set by the caller's environment), no cache, no
    assertion rewriting, no config files from the course tree, output discarded.
    """
    plugin = GradingPlugin(cases, runner)
    args = [str(SUITE), "-p", "no:cacheprovider", "-p", "no:terminal", "--assert=plain",
            "--rootdir", str(SUITE.parent), "-c", str(SUITE.parent / "pytest.ini")]
    return pytest.main(args, plugins=[plugin])
