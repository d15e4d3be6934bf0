"""autograder.similarity and `python -m autograder similarity`: copydetect's fingerprints of the
solution cells, the released stubs as boilerplate, the top pairs side by side in offline HTML."""
import re
import shutil
import time
from pathlib import Path

import pytest

from autograder import cli, similarity
from tests.corpus.build import build_notebook, correct_cells, stub_cells
from tests.corpus.mutants import mutant_cells, mutants

EXAMPLES = Path(__file__).resolve().parents[1] / "autograder" / "examples" / "submitted"
ASSIGNMENT = "ch04_pooling"


def _renamed(cells, suffix):
    """The same solution with its local names changed (a copy that tries to hide)."""
    return {f: re.sub(r"\bout\b", f"result_{suffix}", s) for f, s in cells.items()}


def test_a_copy_outranks_independent_work_and_the_stubs_do_not_count(tmp_path):
    own = {f: f"def {f}(*args, **kwargs):\n    # student {i}'s own take\n    return None\n"
           for i, f in enumerate(correct_cells(ASSIGNMENT))}
    for student, cells in (("ada", correct_cells(ASSIGNMENT)), ("bob", _renamed(correct_cells(ASSIGNMENT), "b")),
                           ("cy", own), ("dee", stub_cells(ASSIGNMENT)), ("eve", stub_cells(ASSIGNMENT))):
        build_notebook(cells, ASSIGNMENT, tmp_path / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert cli.main(["similarity", str(tmp_path / "submitted"), "--out", str(tmp_path / "s.html")]) == 0
    pairs = similarity.report([tmp_path / "submitted"], tmp_path / "s.html")[ASSIGNMENT]
    assert (pairs[0].first, pairs[0].second) == ("ada", "bob") and min(pairs[0].similarity) > 0.8
    assert ("dee", "eve") not in {(p.first, p.second) for p in pairs}, "two untouched stubs share only boilerplate"
    page = (tmp_path / "s.html").read_text()
    assert "<mark class='a'>" in page and "<mark class='b'>" in page
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page), "the page loads nothing from elsewhere"


def test_student_code_is_escaped_in_the_page(tmp_path):
    cells = correct_cells(ASSIGNMENT)
    first = next(iter(cells))
    cells[first] += "\n# </pre><script>alert(1)</script>\n"
    for student in ("ada", "bob"):
        build_notebook(cells, ASSIGNMENT, tmp_path / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    similarity.report([tmp_path / "submitted"], tmp_path / "s.html")
    page = (tmp_path / "s.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_fewer_than_two_notebooks_is_a_usage_error(tmp_path, capsys):
    build_notebook(correct_cells(ASSIGNMENT), ASSIGNMENT, tmp_path / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert cli.main(["similarity", str(tmp_path), "--out", str(tmp_path / "s.html")]) == 2
    assert "no assignment with two gradable notebooks" in capsys.readouterr().err


def test_the_bundled_examples_pair_the_two_students_who_wrote_code(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "submitted")
    pairs = similarity.report([tmp_path / "submitted"], tmp_path / "s.html")
    assert len(pairs) == 8 and all([(p.first, p.second) for p in found] == [("ada", "ben")] for found in pairs.values())


@pytest.mark.slow
def test_a_thousand_submissions_take_well_under_minutes():
    variants = [correct_cells(ASSIGNMENT)] + [mutant_cells(ASSIGNMENT, m) for m in mutants(ASSIGNMENT)]
    submissions = {f"s{i:04d}": similarity._code(list(variants[i % len(variants)].items())) + f"\n# student {i}\n"
                   for i in range(1000)}
    start = time.monotonic()
    assert len(similarity.top_pairs(ASSIGNMENT, submissions, top=20)) == 20
    assert time.monotonic() - start < 180
