"""What grading produces: one TestResult per case, one SubmissionResult per notebook."""
from dataclasses import asdict, dataclass, field


@dataclass
class TestResult:
    """One test (one case of one function). message: the diagnosis, "" when passed (an
    outcome-graded test, e.g. fine_tune, keeps what it measured: the accuracy reached).

    grader_error: the test failed through a fault of the grader, not of the student. A field,
    never read from the message: messages quote the student's own exception text, which could
    otherwise claim to be a grader fault.
    mistakes: the catalogue ids of what went wrong, in the message's order ([] when passed). The
    message shows them to the student; code reads them here, never from the message.
    detail: the reference's values behind the message ("dw at (0, 1): got 0.25, expected 0.5"),
    shown to students only at --feedback-detail values.
    """
    __test__ = False  # not a pytest test class, despite the name

    function: str
    name: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    grader_error: bool = False
    mistakes: list = field(default_factory=list)
    detail: str = ""


@dataclass
class SubmissionResult:
    """The grade of one notebook.

    status, with problem saying why whenever it is not "ok":
      "ok"                 graded;
      "unreadable"         not a notebook (missing, corrupt JSON, not nbformat 4);
      "unknown_assignment" neither the path nor the notebook's metadata says which assignment it is;
      "wrong_assignment"   the notebook of another assignment (its metadata says which);
      "no_metadata"        no solution cells: an editor dropped the cells' nbgrader metadata;
      "grader_error"       a fault of the grader: the grade is not trustworthy;
      "timeout"            the whole submission exceeded its wall-clock budget and was killed
                           from outside;
      "refused"            a symbolic link: never followed, so nobody is graded on another's file;
      "duplicate"          two or more files map to this student and assignment: none is graded,
                           rather than one silently replacing the other.
    A submission that was not graded has no tests (its one reason is problem) and scores 0 of
    its assignment's max_score.

    isolation: the sandbox level the student's code ran under; seed: the inputs' seed; key_id:
    the fingerprint of the instructor key the seed was derived from (autograder.secret), so
    that a regrade can tell whether it used the same key. output: what the student's code
    printed (truncated). graded_at: when it was graded, submitted_at: when it was submitted
    (nbgrader's timestamp.txt, else the file's modification time), both ISO 8601 in UTC
    (autograder.store, autograder.deadlines).
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
    key_id: str | None = None
    graded_at: str | None = None
    submitted_at: str | None = None

    @property
    def score(self):
        return round(sum(t.points for t in self.tests), 6)

    @property
    def max_score(self):
        from .points import POINTS
        return sum(POINTS.get(self.assignment, {}).values())

    def by_function(self, detail=False):
        """{function: (points, max_points, [messages of failed tests])}, in contract order;
        detail: each message followed by the reference's values behind it (TestResult.detail)."""
        table = {}
        for t in self.tests:
            points, max_points, messages = table.get(t.function, (0.0, 0.0, []))
            message = f"{t.message} ({t.detail})" if detail and t.detail else t.message
            table[t.function] = (points + t.points, max_points + t.max_points,
                                 messages + ([message] if not t.passed else []))
        return {f: (round(p, 6), round(m, 6), msgs) for f, (p, m, msgs) in table.items()}

    def to_dict(self):
        """Every field (tests as dicts), plus the derived score and max_score; see from_dict."""
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score)
        return data

    @classmethod
    def from_dict(cls, data):
        """The SubmissionResult that to_dict (or its JSON) describes, e.g. from a batch's journal.

        score and max_score are derived, so they are dropped; any other unknown key raises
        TypeError, so that a journal of an incompatible version is not silently half-read.
        """
        data = {k: v for k, v in data.items() if k not in ("score", "max_score")}
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**data)
