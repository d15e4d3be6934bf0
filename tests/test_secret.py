"""The instructor key: seeds nobody can predict without it, the same for the same submission."""
import stat
import zlib

import pytest

from autograder import secret

KEY = b"k" * 32
CELLS = [("corr2d", "def corr2d(x, k):\n    return x\n"), ("convolve2d", "def convolve2d(x, k):\n    pass\n")]


def test_the_same_submission_and_key_give_the_same_seed():
    assert secret.submission_seed(KEY, "ada", "ch02_convolution", CELLS) == \
        secret.submission_seed(bytes(KEY), "ada", "ch02_convolution", [tuple(c) for c in CELLS])


def test_another_key_gives_another_seed():
    assert secret.submission_seed(KEY, "ada", "ch02_convolution", CELLS) != \
        secret.submission_seed(b"K" * 32, "ada", "ch02_convolution", CELLS)


def test_changing_one_cell_changes_the_seed():
    edited = [CELLS[0], ("convolve2d", CELLS[1][1] + "\n")]
    assert secret.submission_seed(KEY, "ada", "ch02_convolution", CELLS) != \
        secret.submission_seed(KEY, "ada", "ch02_convolution", edited)


def test_fields_cannot_run_into_each_other():
    """"ab" + "c" and "a" + "bc" are different submissions, so they get different seeds."""
    assert secret.submission_seed(KEY, "ab", "c", []) != secret.submission_seed(KEY, "a", "bc", [])


@pytest.mark.parametrize("student", ["ada", "bob", "eve"])
def test_the_seed_is_not_the_old_public_one(student):
    seed = secret.submission_seed(KEY, student, "ch02_convolution", CELLS)
    assert 0 <= seed < 2 ** 32
    assert seed != zlib.crc32(f"{student}/ch02_convolution".encode())


def test_key_id_is_short_stable_and_differs_by_key():
    assert secret.key_id(KEY) == secret.key_id(bytes(KEY)) != secret.key_id(b"K" * 32)
    assert len(secret.key_id(KEY)) == 12 and KEY.hex()[:12] not in secret.key_id(KEY)


def test_the_default_key_is_created_private_and_then_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_GRADER_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    key = secret.load_key()
    path = tmp_path / ".config" / "cnns-from-the-ground-up" / "grader.key"
    assert path.read_bytes() == key and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secret.load_key() == key
    assert [p.name for p in path.parent.iterdir()] == ["grader.key"]  # no temporary file left


def test_the_default_key_file_can_be_named_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_GRADER_KEY", str(tmp_path / "keys" / "course.key"))
    key = secret.load_key()
    assert (tmp_path / "keys" / "course.key").read_bytes() == key
    assert secret.load_key() == key


def test_a_given_key_file_is_read_as_it_is(tmp_path):
    (tmp_path / "key").write_bytes(b"0123456789abcdef\n")
    assert secret.load_key(tmp_path / "key") == b"0123456789abcdef\n"


def test_a_short_key_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "key").write_bytes(b"short")
    with pytest.raises(ValueError) as error:
        secret.load_key(tmp_path / "key")
    assert "5 bytes, fewer than 16" in str(error.value) and "\n" not in str(error.value)


def test_a_missing_key_file_is_refused_not_created(tmp_path):
    with pytest.raises(ValueError, match="cannot read the grader key"):
        secret.load_key(tmp_path / "missing.key")
    assert not (tmp_path / "missing.key").exists()
