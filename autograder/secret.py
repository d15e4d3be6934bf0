"""The instructor's secret key, from which every submission's hidden inputs are derived.

A seed computed from public facts alone (the student's name and the assignment) lets a student
who knows the algorithm compute their inputs, or a classmate's, before submitting. Here the seed
is an HMAC under a key only the instructor holds, over the student, the assignment and the
solution cells: nobody without the key can predict an input, a changed submission gets fresh
inputs, and the same notebook regraded with the same key gets the same inputs and grade.

Keep the key private (it is created 0600 in a 0700 folder). To grade identically on several
machines, copy the same key file to each: its bytes, as they are, are the key. key_id, a
fingerprint safe to publish, is written into every result, so that a regrade can tell whether
it used the same key.
"""
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path

MIN_KEY_BYTES = 16
DEFAULT_KEY = Path("~/.config/cnns-from-the-ground-up/grader.key")


def default_key_path():
    """$CNN_GRADER_KEY if set, else ~/.config/cnns-from-the-ground-up/grader.key."""
    return Path(os.environ.get("CNN_GRADER_KEY") or DEFAULT_KEY).expanduser()


def _read(path):
    try:
        key = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read the grader key {path}: {error.strerror}") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the grader key {path} has {len(key)} bytes, fewer than {MIN_KEY_BYTES}: "
                         f"make one with `head -c 32 /dev/urandom > {path}`")
    return key


def _create(path):
    """Write a new random key at path, unless another process has just done so."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".grader-key-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
        # link, not replace: it fails if the key exists, so two graders starting at once end up
        # with the same key, and a reader never sees a half-written one
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def load_key(path=None):
    """The instructor key: the bytes of the file at path (which must exist and hold at least 16
    bytes; ValueError otherwise), or of the default key file (default_key_path), created with 32
    random bytes on first use."""
    if path is None:
        path = default_key_path()
        if not path.exists():
            _create(path)
    return _read(path)


def key_id(key):
    """A fingerprint of key, safe to publish: the first 12 hex of SHA-256("key-id" + key)."""
    return hashlib.sha256(b"key-id" + key).hexdigest()[:12]


def submission_seed(key, student, assignment, cells):
    """The seed, in [0, 2**32), of one submission's inputs: HMAC-SHA256 under key of the student,
    the assignment and the solution cells [(grade_id, source)], its first 4 bytes big-endian.

    The message is JSON, so that no two different submissions encode alike (the fields cannot
    run into each other, as "ab" + "c" and "a" + "bc" would).
    """
    message = json.dumps(["submission-seed", student, assignment, [[g, s] for g, s in cells]])
    digest = hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")
