"""Everything the course knows about its graded functions: one module per assignment.

``tasks/ch04_pooling.py`` holds chapter 4's exercise notebook, in order: ``Markdown`` text,
ungraded ``Code`` demos and one ``Task`` record per graded function. A Task is the one home of
what the course knows about that function: its points, its task statement, the visible
examples (``Example``), the hidden case grid, the arguments its task calls invalid and the
explanations of its catalogued mistakes. Its reference is ``solutions.<name>``, whose signature
and docstring are read by introspection, never copied.

Everything else is generated from these records: the nbgrader notebooks and fixtures
(``python scripts/regenerate.py``), autograder.points.POINTS, and the grader's cases
(autograder.cases.build_cases).
"""
import ast
import importlib
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# The course's assignments, in order: the one list every other part of the course reads.
ASSIGNMENTS = (
    "ch01_motivation", "ch02_convolution", "ch03_padding_stride", "ch04_pooling", "ch05_normalization",
    "ch06_backprop", "ch07_im2col", "ch08_fine_tuning",
)


def topic(assignment):
    """The topic of an assignment, which names its modules: "ch03_padding_stride" -> "padding_stride"."""
    return assignment.split("_", 1)[1]


@dataclass(frozen=True)
class Markdown:
    text: str


@dataclass(frozen=True)
class Code:
    """An ungraded code cell (a demo that shows the student's functions at work)."""
    source: str


@dataclass(frozen=True)
class Helper:
    """An ungraded solution cell: code graded functions after it may call (the grader runs every
    solution cell). Its solution regions hold the student's earlier work; the rest is given."""
    grade_id: str
    source: str


@dataclass(frozen=True)
class Example:
    """One visible check: a description a student can read and the positional arguments.

    args(rng) builds the arguments from a seeded generator, so fixtures are reproducible.
    invalid: why these arguments are invalid, for an example whose call must raise ValueError.
    """
    description: str
    args: Callable[[np.random.Generator], tuple]
    invalid: str = ""


@dataclass(frozen=True)
class Task:
    """A graded function's record.

    name: the function's name. Its signature and docstring (shapes and formula) are read from
    the reference in solutions/, never copied here; a task without a reference function
    (fine_tune, graded by what it achieves) states them itself in own_signature and own_doc.
    points: what the function is worth. They are shared evenly among the cases of `hidden`;
    the `invalid` calls together weigh one more case.
    task: markdown stating the task precisely.
    examples: visible checks against fixtures; or `visible`: the code of a custom visible check
    (for functions whose inputs cannot be stored in a fixture, such as a callable).
    hidden: builder(rng) -> [autograder.cases.Case], the grader's case grid.
    invalid: builder(rng) -> [(why, args, kwargs)], calls the task says raise ValueError.
    mistakes: {catalogue id: explanation} of the mistakes the hidden cases recognise.
    solution: the solution region's body; by default it delegates to solutions/<name>.
    """
    name: str
    task: str
    points: float = 0
    examples: tuple = ()
    hidden: Callable | None = None
    invalid: Callable | None = None
    mistakes: dict = field(default_factory=dict)
    visible: str = ""
    solution: str = ""
    own_signature: str = ""
    own_doc: str = ""

    @property
    def signature(self):
        """"corr2d(x, k)": the def line without `def` and the colon."""
        return self.own_signature or reference_signature(self.name)

    @property
    def doc(self):
        return self.own_doc or inspect.getdoc(getattr(importlib.import_module("solutions"), self.name))

    @property
    def parameters(self):
        """Parameter names of the signature, in order."""
        tree = ast.parse(f"def {self.signature}: pass")
        args = tree.body[0].args
        return [a.arg for a in args.posonlyargs + args.args]


def reference_signature(name):
    """The def line of solutions.<name> as written in its source (defaults such as 1e-5 as
    written, not as Python prints them), on one line, without `def` and the colon."""
    source = textwrap.dedent(inspect.getsource(getattr(importlib.import_module("solutions"), name)))
    node = ast.parse(source).body[0]
    header = " ".join(line.strip() for line in source.splitlines()[:node.body[0].lineno - 1])
    header = header[len("def "):].rsplit(":", 1)[0].strip()
    return header.replace("( ", "(").replace(",)", ")")


@dataclass(frozen=True)
class Exercise:
    assignment: str
    title: str
    intro: str
    cells: tuple = field(default_factory=tuple)
    data: dict = field(default_factory=dict)   # {file name: () -> {key: array}}, shipped next to the notebook

    @property
    def chapter(self):
        """book/NN_<topic>.md for chNN_<topic>."""
        return f"book/{self.assignment[2:]}.md"

    @property
    def graded(self):
        return [cell for cell in self.cells if isinstance(cell, Task)]


def load(assignment):
    """The Exercise spec of one assignment id."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"{__name__}.{assignment}").EXERCISE


def randn(rng, *shape, dtype=np.float64):
    """Standard normal array of the given shape and dtype."""
    return rng.standard_normal(shape).astype(dtype)


def grey_photo(name):
    """{"grey": uint8 (H/2, W/2)} of one of scikit-learn's bundled photos, so that the released
    notebook's demos need neither scikit-learn nor a download."""
    from sklearn.datasets import load_sample_image

    return {"grey": load_sample_image(name).mean(axis=2)[::2, ::2].round().astype(np.uint8)}


# The visible checks of a conv layer, shared by the naive and the im2col exercises so that a
# student sees the same cases in both: (x, w, b[, stride, pad]) and (dout, x, w, b[, stride, pad]).
CONV_FORWARD_EXAMPLES = (
    Example("x (2, 3, 5, 5), w (4, 3, 3, 3)", lambda r: (randn(r, 2, 3, 5, 5), randn(r, 4, 3, 3, 3), randn(r, 4))),
    Example("x (1, 2, 6, 7), w (3, 2, 3, 2), stride 2, pad 1",
         lambda r: (randn(r, 1, 2, 6, 7), randn(r, 3, 2, 3, 2), randn(r, 3), 2, 1)),
)
CONV_BACKWARD_EXAMPLES = (
    Example("x (2, 3, 5, 5), w (4, 3, 3, 3)",
         lambda r: (randn(r, 2, 4, 3, 3), randn(r, 2, 3, 5, 5), randn(r, 4, 3, 3, 3), randn(r, 4))),
    Example("x (1, 2, 6, 7), w (3, 2, 3, 2), stride 2, pad 1",
         lambda r: (randn(r, 1, 3, 3, 4), randn(r, 1, 2, 6, 7), randn(r, 3, 2, 3, 2), randn(r, 3), 2, 1)),
)
