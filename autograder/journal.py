"""The batch's journal: every finished grade, appended the moment it is known.

An interrupted batch (Ctrl-C, a reboot, a killed job) keeps every grade it finished in
`<out>.journal.jsonl`; running the same command again takes them from there and grades only
the rest. An entry is reused only for the same file content graded with the same settings
(seed, key, limits, isolation), so a resubmitted or regraded notebook is graded anew. The
journal is removed once the batch's reports are written.
"""
import hashlib
import json
from pathlib import Path

from .results import SubmissionResult


class Journal:
    """Append-only JSON lines {"fingerprint", "result"} next to the grades CSV `out`."""

    def __init__(self, out, settings):
        self.path = Path(f"{out}.journal.jsonl")
        self.settings = json.dumps(settings, sort_keys=True, default=str)

    def fingerprint(self, path):
        """Identifies one grading: the settings, the path and the file's bytes."""
        digest = hashlib.sha256(self.settings.encode())
        digest.update(str(path).encode() + b"\0")
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            digest.update(b"unreadable")
        return digest.hexdigest()

    def load(self):
        """{fingerprint: SubmissionResult} of the entries written so far (a torn last line is skipped)."""
        done = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return done
        for line in lines:
            try:
                entry = json.loads(line)
                done[entry["fingerprint"]] = SubmissionResult.from_dict(entry["result"])
            except (ValueError, KeyError, TypeError):
                continue
        return done

    def append(self, fingerprint, result):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"fingerprint": fingerprint, "result": result.to_dict()}) + "\n")
            f.flush()

    def remove(self):
        self.path.unlink(missing_ok=True)
