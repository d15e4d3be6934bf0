"""Write the bundled example submissions that the README's main command grades.

A step of `python scripts/regenerate.py`, which rewrites the example notebooks that are stale.

Three students in nbgrader's layout, submitted/<student>/<assignment>/<assignment>.ipynb:
ada is correct everywhere, ben makes a few realistic mistakes, cy hands in the stubs. When
exercises/<assignment>/<assignment>.ipynb exists and has a solution cell for every graded
function it is the template (solution cells replaced, solution regions and hidden tests
stripped as nbgrader's release does); otherwise the notebooks are built from scratch. Output is
deterministic: tests check it is up to date.
"""
import json
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus.build import ASSIGNMENTS, build_notebook, correct_cells, stub_cells  # noqa: E402
from corpus.mutants import mutant_cells  # noqa: E402

from autograder.points import POINTS  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "autograder" / "examples" / "submitted"

# ben's mistakes: the ones a class makes most, one per chapter where he slips
BEN_MUTANTS = {"ch02_convolution": "conv_naive_flipped", "ch04_pooling": "max_pool_backward_tie_all",
               "ch05_normalization": "batchnorm_unbiased_var", "ch06_backprop": "conv_backward_dw_last_sample",
               "ch07_im2col": "col2im_assigns", "ch08_fine_tuning": "fine_tune_returns_pretrained"}


def template_for(assignment, repo=REPO):
    """The exercise notebook used as template, or None while exercises/ does not have it or it
    lacks the solution cell of a graded function (a task added to the grader before the notebook)."""
    path = repo / "exercises" / assignment / f"{assignment}.ipynb"
    if not path.exists():
        return None
    cells = json.loads(path.read_text())["cells"]
    grade_ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in cells
                 if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    return path if set(POINTS[assignment]) <= grade_ids else None


def submissions(assignment, template):
    """{student: cells} for one assignment."""
    ben = mutant_cells(assignment, BEN_MUTANTS[assignment]) if assignment in BEN_MUTANTS else correct_cells(assignment)
    # with a real release as template, its own stubs are what cy hands in
    cy = {} if template else stub_cells(assignment)
    return {"ada": correct_cells(assignment), "ben": ben, "cy": cy}


def make_examples(out=EXAMPLES, repo=REPO):
    """Write every example notebook under out/<student>/<assignment>/; return their paths."""
    if out.exists():
        shutil.rmtree(out)
    paths = []
    for assignment in ASSIGNMENTS:
        template = template_for(assignment, repo)
        for student, cells in submissions(assignment, template).items():
            path = out / student / assignment / f"{assignment}.ipynb"
            paths.append(build_notebook(cells, assignment, path, template=template))
    return paths
