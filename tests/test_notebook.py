"""Finding and reading submissions: identity from the path only, no links, no silent duplicates."""
import os
import threading
from pathlib import Path

import pytest

from autograder.notebook import collect, identify, read_submission
from tests.corpus.build import build_notebook, correct_cells

CELLS = {"corr2d": correct_cells("ch02_convolution")["corr2d"]}


def notebook(path, assignment="ch02_convolution"):
    """A small ch02 notebook at path (its metadata names `assignment`)."""
    return build_notebook(CELLS, assignment, path)


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
])
def test_identify_reads_student_and_assignment_from_the_path(path, expected):
    assert identify(Path(path)) == expected


def test_notebook_metadata_cannot_choose_the_assignment(tmp_path):
    """The metadata is the student's to edit: a file is graded as what its path says."""
    unnamed = read_submission(notebook(tmp_path / "ada.ipynb", assignment="ch02_convolution"))
    assert (unnamed.assignment, unnamed.status) == (None, "unknown_assignment")
    named = read_submission(notebook(tmp_path / "bob_ch01_motivation.ipynb", assignment="ch02_convolution"))
    assert (named.student, named.assignment, named.status) == ("bob", "ch01_motivation", "ok")


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
