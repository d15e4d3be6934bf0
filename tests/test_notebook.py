"""Finding and reading submissions: identity from the path (or the instructor), no links, no
silent duplicates; the notebook's metadata tells another assignment's notebook and names the
assignment of a renamed file."""
import json
import os
import threading
from pathlib import Path

import pytest

from autograder.notebook import NO_SOLUTION_CELLS, collect, identify, read_submission
from tests.corpus.build import build_notebook, correct_cells

CELLS = {"corr2d": correct_cells("ch02_convolution")["corr2d"]}


def notebook(path, assignment="ch02_convolution", declared=None):
    """A small ch02 notebook at path; declared: the assignment its course metadata names, as a
    notebook built by scripts/build_exercises.py does (default: none, as in older releases)."""
    path = build_notebook(CELLS, assignment, path)
    if declared is not None:
        nb = json.loads(path.read_text())
        nb["metadata"]["cnns_course"] = {"assignment": declared}
        path.write_text(json.dumps(nb))
    return path


def summary(found, root):
    """[(path relative to root, student, assignment, status)] of collect's entries."""
    return [(str(f.path.relative_to(root)), f.student, f.assignment, f.status) for f in found]


@pytest.mark.parametrize("path, expected", [
    ("submitted/ada/ch02_convolution/ch02_convolution.ipynb", ("ada", "ch02_convolution")),
    ("autograded/ada/ch02_convolution/any_name.ipynb", ("ada", "ch02_convolution")),
    ("class/ada/ch02_convolution/ch02_convolution.ipynb", ("ada", "ch02_convolution")),
    ("class/ada_ch02_convolution.ipynb", ("ada", "ch02_convolution")),
    ("class/ada/ch02_convolution.ipynb", ("ada", "ch02_convolution")),
    ("class/ada.ipynb", ("ada", None)),
    ("submitted/ada/my_work.ipynb", ("ada", None)),
    ("submitted/ada/bob_ch02_convolution.ipynb", ("ada", "ch02_convolution")),
])
def test_identify_reads_student_and_assignment_from_the_path(path, expected):
    assert identify(Path(path)) == expected


def test_a_notebook_without_course_metadata_is_what_its_path_says(tmp_path):
    """Releases made before the metadata existed are graded as before."""
    unnamed = read_submission(notebook(tmp_path / "ada.ipynb"))
    assert (unnamed.assignment, unnamed.status) == (None, "unknown_assignment")
    assert "--assignment" in unnamed.problem
    named = read_submission(notebook(tmp_path / "bob_ch02_convolution.ipynb"))
    assert (named.student, named.assignment, named.status) == ("bob", "ch02_convolution", "ok")


def test_metadata_names_the_assignment_of_a_renamed_file(tmp_path):
    path = notebook(tmp_path / "submitted" / "alice" / "my_work.ipynb", declared="ch02_convolution")
    submission = read_submission(path)
    assert (submission.student, submission.assignment, submission.status) == ("alice", "ch02_convolution", "ok")


def test_the_notebook_of_another_assignment_is_not_graded_and_says_so(tmp_path):
    """The path (or the instructor) says which tests a file gets; the metadata can only tell
    that the student handed in the wrong notebook."""
    path = notebook(tmp_path / "submitted" / "ada" / "ch04_pooling" / "ch04_pooling.ipynb",
                    declared="ch05_normalization")
    submission = read_submission(path)
    assert (submission.assignment, submission.status) == ("ch04_pooling", "wrong_assignment")
    assert submission.problem == ("this is the ch05_normalization notebook, submitted as ch04_pooling: "
                                  "submit your ch04_pooling notebook")
    told = read_submission(notebook(tmp_path / "my_work.ipynb", declared="ch05_normalization"),
                           assignment="ch04_pooling")
    assert (told.assignment, told.status) == ("ch04_pooling", "wrong_assignment")


def test_metadata_naming_no_assignment_of_the_course_is_ignored(tmp_path):
    path = notebook(tmp_path / "ada_ch02_convolution.ipynb", declared="ch99_not_a_chapter")
    assert read_submission(path).status == "ok"
    assert read_submission(notebook(tmp_path / "ada.ipynb", declared="=1+1")).status == "unknown_assignment"


def test_a_notebook_without_solution_cells_is_not_graded_with_one_reason(tmp_path):
    path = build_notebook({}, "ch02_convolution", tmp_path / "ada_ch02_convolution.ipynb")
    submission = read_submission(path)
    assert (submission.status, submission.problem, submission.cells) == ("no_metadata", NO_SOLUTION_CELLS, [])


def test_a_corrupt_notebook_is_unreadable_with_the_reason(tmp_path):
    path = tmp_path / "ada_ch02_convolution.ipynb"
    path.write_text('{"cells": [ not json')
    submission = read_submission(path)
    assert (submission.student, submission.assignment, submission.status) == ("ada", "ch02_convolution", "unreadable")
    assert submission.problem.startswith("the notebook cannot be read (JSONDecodeError: ")


def test_read_submission_reads_the_nbgrader_layout(tmp_path):
    path = notebook(tmp_path / "submitted" / "ada" / "ch02_convolution" / "ch02_convolution.ipynb")
    submission = read_submission(path)
    assert (submission.student, submission.assignment, submission.status) == ("ada", "ch02_convolution", "ok")
    assert submission.cells == [("corr2d", CELLS["corr2d"])]


def test_read_submission_refuses_a_symlinked_notebook(tmp_path):
    """A link to a classmate's notebook must not score the classmate's marks."""
    notebook(tmp_path / "bob_ch02_convolution.ipynb")
    (tmp_path / "ada_ch02_convolution.ipynb").symlink_to(tmp_path / "bob_ch02_convolution.ipynb")
    submission = read_submission(tmp_path / "ada_ch02_convolution.ipynb")
    assert (submission.student, submission.status, submission.cells) == ("ada", "refused", [])
    assert "is a symbolic link" in submission.problem


def test_read_submission_does_not_wait_on_a_fifo(tmp_path):
    """Opening a FIFO to read waits for a writer: a batch would wait forever."""
    fifo = tmp_path / "ada_ch02_convolution.ipynb"
    os.mkfifo(fifo)
    read = []
    reader = threading.Thread(target=lambda: read.append(read_submission(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    waited = reader.is_alive()
    if waited:  # release it (a writer ends its wait) rather than leave it behind
        os.close(os.open(fifo, os.O_WRONLY))
        reader.join()
    assert not waited and read[0].status == "unreadable" and "not a regular file" in read[0].problem


def test_collect_finds_notebooks_sorted_without_checkpoints(tmp_path):
    notebook(tmp_path / "bob" / "ch02_convolution.ipynb")
    notebook(tmp_path / "ada" / "ch02_convolution.ipynb")
    notebook(tmp_path / "ada" / ".ipynb_checkpoints" / "ch02_convolution-checkpoint.ipynb")
    (tmp_path / "ada" / "notes.txt").write_text("not a notebook")
    assert summary(collect([tmp_path]), tmp_path) == [
        ("ada/ch02_convolution.ipynb", "ada", "ch02_convolution", "ok"),
        ("bob/ch02_convolution.ipynb", "bob", "ch02_convolution", "ok")]


def test_collect_takes_files_as_given_and_each_file_once(tmp_path):
    path = notebook(tmp_path / "ada_ch02_convolution.ipynb")
    found = collect([tmp_path, path, tmp_path / "missing_ch01_motivation.ipynb"])
    assert summary(found, tmp_path) == [("ada_ch02_convolution.ipynb", "ada", "ch02_convolution", "ok"),
                                        ("missing_ch01_motivation.ipynb", "missing", "ch01_motivation", "ok")]


def test_collect_refuses_a_symlinked_notebook(tmp_path):
    notebook(tmp_path / "bob_ch02_convolution.ipynb")
    (tmp_path / "ada_ch02_convolution.ipynb").symlink_to(tmp_path / "bob_ch02_convolution.ipynb")
    found = collect([tmp_path])
    assert summary(found, tmp_path) == [("ada_ch02_convolution.ipynb", "ada", "ch02_convolution", "refused"),
                                        ("bob_ch02_convolution.ipynb", "bob", "ch02_convolution", "ok")]
    assert found[0].problem.endswith("is a symbolic link; submissions are never followed through links: "
                                     "submit the notebook file itself")


def test_collect_does_not_follow_a_symlinked_folder(tmp_path):
    notebook(tmp_path / "class" / "submitted" / "bob" / "ch02_convolution" / "ch02_convolution.ipynb")
    (tmp_path / "class" / "submitted" / "ada").symlink_to(tmp_path / "class" / "submitted" / "bob")
    found = collect([tmp_path / "class"])
    assert summary(found, tmp_path) == [
        ("class/submitted/ada", "ada", None, "refused"),
        ("class/submitted/bob/ch02_convolution/ch02_convolution.ipynb", "bob", "ch02_convolution", "ok")]
    assert "is a symbolic link" in found[0].problem


def test_collect_refuses_given_paths_that_are_symlinks(tmp_path):
    path = notebook(tmp_path / "real" / "ada_ch02_convolution.ipynb")
    (tmp_path / "link_dir").symlink_to(tmp_path / "real")
    (tmp_path / "link_ch02_convolution.ipynb").symlink_to(path)
    found = collect([tmp_path / "link_dir", tmp_path / "link_ch02_convolution.ipynb"])
    assert [(str(f.path.relative_to(tmp_path)), f.status) for f in found] == [
        ("link_ch02_convolution.ipynb", "refused"), ("link_dir", "refused")]


def test_collect_reports_files_of_one_student_and_assignment_as_one_duplicate(tmp_path):
    """Neither may silently replace the other's grade and feedback."""
    for name in ("ada_ch02_convolution.ipynb", "ada_ch02_convolution_.ipynb", "ada-ch02_convolution.ipynb",
                 "bob_ch02_convolution.ipynb"):
        notebook(tmp_path / name)
    found = collect([tmp_path])
    assert summary(found, tmp_path) == [("ada-ch02_convolution.ipynb", "ada", "ch02_convolution", "duplicate"),
                                        ("bob_ch02_convolution.ipynb", "bob", "ch02_convolution", "ok")]
    assert found[0].problem == (
        f"3 notebooks map to ada/ch02_convolution: {tmp_path}/ada-ch02_convolution.ipynb, "
        f"{tmp_path}/ada_ch02_convolution.ipynb, {tmp_path}/ada_ch02_convolution_.ipynb; keep one and grade again")


def test_collect_keeps_unknown_assignments_apart(tmp_path):
    """Files whose assignment is unknown are not graded; each gets its own row saying so."""
    notebook(tmp_path / "a" / "ada.ipynb")
    notebook(tmp_path / "b" / "ada.ipynb")
    assert [f.status for f in collect([tmp_path])] == ["ok", "ok"]


def test_collect_takes_the_instructors_assignment_for_every_notebook(tmp_path):
    """--assignment: renamed files get the assignment, and two of one student are duplicates."""
    notebook(tmp_path / "submitted" / "ada" / "my_work.ipynb")
    notebook(tmp_path / "submitted" / "ada" / "final.ipynb")
    notebook(tmp_path / "submitted" / "bob" / "bob.ipynb")
    found = collect([tmp_path], assignment="ch04_pooling")
    assert summary(found, tmp_path) == [
        ("submitted/ada/final.ipynb", "ada", "ch04_pooling", "duplicate"),
        ("submitted/bob/bob.ipynb", "bob", "ch04_pooling", "ok")]
