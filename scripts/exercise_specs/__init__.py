"""Readable specifications of the eight exercise notebooks.

One module per assignment (``ch02_convolution.py`` ...) lists the notebook's cells in order:
``Markdown`` text, ``Graded`` functions (task statement, signature, docstring, the inputs of the
visible checks) and ungraded ``Code`` demos. ``scripts/build_exercises.py`` turns each into
``exercises/<id>/<id>.ipynb``; ``scripts/make_fixtures.py`` runs the reference solution on the
``cases`` of every graded function and stores the results in ``exercises/<id>/fixtures.npz``.
"""
import ast
import importlib
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from autograder import points

ASSIGNMENTS = points.ASSIGNMENTS


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
class Case:
    """One visible check: a description a student can read and the positional arguments.

    args(rng) builds the arguments from a seeded generator, so fixtures are reproducible.
    """
    description: str
    args: Callable[[np.random.Generator], tuple]


@dataclass(frozen=True)
class Graded:
    """A graded function: its task statement, stub and visible checks.

    name: the function's name. Its signature and docstring (shapes and formula) are read from
    the reference in solutions/, never copied here; a task without a reference function
    (fine_tune, graded by what it achieves) states them itself in own_signature and own_doc.
    task: markdown stating the task precisely.
    cases: visible checks against fixtures; or `visible`: the code of a custom visible check
    (for functions whose inputs cannot be stored in a fixture, such as a callable).
    solution: the solution region's body; by default it delegates to solutions/<name>.
    """
    name: str
    task: str
    cases: tuple = ()
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
        return [cell for cell in self.cells if isinstance(cell, Graded)]


def load(assignment):
    """The Exercise spec of one assignment id."""
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
CONV_FORWARD_CASES = (
    Case("x (2, 3, 5, 5), w (4, 3, 3, 3)", lambda r: (randn(r, 2, 3, 5, 5), randn(r, 4, 3, 3, 3), randn(r, 4))),
    Case("x (1, 2, 6, 7), w (3, 2, 3, 2), stride 2, pad 1",
         lambda r: (randn(r, 1, 2, 6, 7), randn(r, 3, 2, 3, 2), randn(r, 3), 2, 1)),
)
CONV_BACKWARD_CASES = (
    Case("x (2, 3, 5, 5), w (4, 3, 3, 3)",
         lambda r: (randn(r, 2, 4, 3, 3), randn(r, 2, 3, 5, 5), randn(r, 4, 3, 3, 3), randn(r, 4))),
    Case("x (1, 2, 6, 7), w (3, 2, 3, 2), stride 2, pad 1",
         lambda r: (randn(r, 1, 3, 3, 4), randn(r, 1, 2, 6, 7), randn(r, 3, 2, 3, 2), randn(r, 3), 2, 1)),
)
