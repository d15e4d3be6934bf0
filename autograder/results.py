"""What grading produces: one TestResult per case, one SubmissionResult per notebook."""
from dataclasses import asdict, dataclass, field


@dataclass
class TestResult:
    """One test (one case of one function). message: the diagnosis, "" when passed (an
    outcome-graded test, e.g. fine_tune, keeps what it measured: the accuracy reached)."""
    __test__ = False  # not a pytest test class, despite the name

    function: str
    name: str
    points: float
    max_points: float
    passed: bool
    message: str = ""


@dataclass
class SubmissionResult:
    """The grade of one notebook.

    status: "ok" (graded), "unreadable" (not a notebook), "unknown_assignment",
    "grader_error" (a fault of the grader: the grade is not trustworthy); problem says why.
    isolation: the sandbox level the student's code ran under; seed: the inputs' seed.
    output: what the student's code printed (truncated).
    """
    student: str
    assignment: str | None
    path: str
    seed: int | None = None
    isolation: str | None = None
    status: str = "ok"
    problem: str = ""
    tests: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    @property
    def score(self):
        return round(sum(t.points for t in self.tests), 6)

    @property
    def max_score(self):
        from .points import POINTS
        return sum(POINTS.get(self.assignment, {}).values())

    def by_function(self):
        """{function: (points, max_points, [messages of failed tests])}, in contract order."""
        table = {}
        for t in self.tests:
            points, max_points, messages = table.get(t.function, (0.0, 0.0, []))
            table[t.function] = (points + t.points, max_points + t.max_points,
                                 messages + ([t.message] if not t.passed else []))
        return {f: (round(p, 6), round(m, 6), msgs) for f, (p, m, msgs) in table.items()}

    def to_dict(self):
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score)
        return data
