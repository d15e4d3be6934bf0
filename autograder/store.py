"""The class's results store: one row per (student, assignment), kept across runs of `grade`.

`grade` merges what it graded into the store instead of writing the class anew, so regrading
one student (--only) or adding a late submission never loses the other rows. Each row is a
SubmissionResult with the time it was graded (graded_at, UTC); for a (student, assignment)
graded twice the newer result wins. grades.csv and results.json are written from the merged
store. The file (`<out>.store.json` by default) is replaced atomically, so an interrupted
write leaves the previous store whole.
"""
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from .results import SubmissionResult

VERSION = 1


def now():
    """The current time as the store writes it: ISO 8601, UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def default_path(out):
    """Where the store of the grades CSV `out` lives unless --store says otherwise."""
    return Path(f"{out}.store.json")


def key(result):
    """A row's identity: student and assignment (a notebook of unknown assignment: its path)."""
    return (result.student, result.assignment if result.assignment is not None else f"path:{result.path}")


class StoreError(Exception):
    """The store cannot be read: reported in one line, never overwritten."""


def load(path):
    """The SubmissionResults of the store at path ([] if there is none yet)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise StoreError(f"the results store {path} cannot be read: {error.strerror}") from None
    try:
        data = json.loads(text)
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        return [SubmissionResult.from_dict(row) for row in data["rows"]]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        # never overwrite a store we cannot read: it may be the only copy of the class's grades
        raise StoreError(f"the results store {path} is not one this grader wrote ({error}); "
                         "move it away or pass another --store") from None


def merge(old, new):
    """old and new results, one per key; the one graded later wins (new on a tie)."""
    rows = {key(r): r for r in old}
    for result in new:
        kept = rows.get(key(result))
        if kept is None or (result.graded_at or "") >= (kept.graded_at or ""):
            rows[key(result)] = result
    return sorted(rows.values(), key=lambda r: (r.student, r.assignment or "", r.path))


def save(results, path):
    """Write the store atomically (a temporary file beside it, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps({"version": VERSION, "rows": [r.to_dict() for r in results]}) + "\n",
                         encoding="utf-8")
    os.replace(temporary, path)
