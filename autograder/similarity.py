"""Similarity report: which students' solution cells share code, as one offline HTML page.

copydetect (winnowed k-gram fingerprints, as in MOSS) fingerprints each submission's solution
cells, with the released stubs of its assignment as boilerplate, so that the signatures and
docstrings every student was given do not count. Comparing every pair with copydetect's
own loop is quadratic in Python; here every pair's shared fingerprints are counted at once
(a sparse product), and copydetect compares in full only the most similar pairs, which the
report shows side by side with the shared code highlighted. copydetect's own HTML report
loads Bootstrap from a CDN: this page needs no network. A high similarity is a reason to
look, not a verdict: short functions written to one specification resemble each other.
"""
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .notebook import collect, read_submission
from .points import POINTS

ROOT = Path(__file__).resolve().parent.parent
NOISE_TOKENS = 25     # copydetect's default noise threshold: shorter matches are ignored
CANDIDATES = 10       # pairs compared in full per pair shown


@dataclass
class Pair:
    """Two students' submissions of one assignment, and how much of each the other shares."""
    assignment: str
    first: str
    second: str
    similarity: tuple
    code: tuple  # each side's code, HTML-escaped, shared parts highlighted


def _stub(source):
    """What a release leaves of a source solution cell: the solution region replaced by a stub."""
    return re.sub(r"^([ \t]*)### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*\n?",
                  lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()\n",
                  source, flags=re.MULTILINE | re.DOTALL)


def boilerplate(assignment):
    """The released stubs of an assignment's solution cells, as one text."""
    source = ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    return "\n\n".join(_stub(code) for _, code in read_submission(source, assignment=assignment).cells)


def _code(cells):
    return "\n\n".join(f"# cell {grade_id}\n{source}" for grade_id, source in cells)


def _fingerprint(code, boilerplate_hashes=None, window=1):
    from copydetect import CodeFingerprint

    return CodeFingerprint("submission.py", NOISE_TOKENS, window, boilerplate_hashes, True, "python",
                           fp=io.StringIO(code))


def shared_counts(fingerprints):
    """(n x n matrix of fingerprints shared by each pair, fingerprints of each): one sparse product."""
    from scipy import sparse

    vocabulary = {}
    rows, cols = [], []
    for i, fp in enumerate(fingerprints):
        for h in fp.hashes:  # a set: each fingerprint once
            rows.append(i)
            cols.append(vocabulary.setdefault(int(h), len(vocabulary)))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                               shape=(len(fingerprints), max(1, len(vocabulary))))
    return (matrix @ matrix.T).toarray(), np.asarray(matrix.sum(axis=1)).ravel()


def _highlight(fp, slices, colour):
    from copydetect.utils import highlight_overlap

    marked, _ = highlight_overlap(fp.raw_code, slices, f"<mark class='{colour}'>", "</mark>", escape_html=True)
    return marked


def top_pairs(assignment, submissions, top=20):
    """The `top` most similar Pairs among submissions {student: code} of one assignment."""
    from copydetect import compare_files

    stub = _fingerprint(boilerplate(assignment))
    students = sorted(submissions)
    fingerprints = [_fingerprint(submissions[s], np.array(sorted(stub.hashes))) for s in students]
    shared, own = shared_counts(fingerprints)
    share = shared / np.maximum(own, 1)[:, None]
    score = np.triu(np.maximum(share, share.T), k=1)
    order = np.argsort(score, axis=None)[::-1][:top * CANDIDATES]
    pairs = []
    for flat in order:
        i, j = np.unravel_index(flat, score.shape)
        if score[i, j] <= 0:
            break
        _, (first, second), (slices1, slices2) = compare_files(fingerprints[i], fingerprints[j])
        if slices1.shape[0] == 0:
            continue
        pairs.append(Pair(assignment, students[i], students[j], (float(first), float(second)),
                          (_highlight(fingerprints[i], slices1, "a"), _highlight(fingerprints[j], slices2, "b"))))
    return sorted(pairs, key=lambda p: -max(p.similarity))[:top]


def gather(paths, assignment=None):
    """{assignment: {student: code of the solution cells}} of the gradable notebooks under paths."""
    found = {}
    for entry in collect(paths, assignment=assignment):
        if entry.status != "ok":
            continue
        submission = read_submission(entry.path, assignment=entry.assignment, student=entry.student)
        if submission.status == "ok":
            found.setdefault(submission.assignment, {})[submission.student] = _code(submission.cells)
    return found


STYLE = """body{font-family:sans-serif;max-width:90em;margin:2em auto;padding:0 1em;color:#222}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}pre{background:#f7f7f7;padding:.5em;overflow-x:auto;
font-size:12px}mark.a{background:#fbb}mark.b{background:#bfb}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"""


def render(pairs_by_assignment, counts):
    """The page: per assignment a table of the top pairs, then each pair side by side."""
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Similarity report</title>",
             f"<style>{STYLE}</style></head><body><h1>Similarity report</h1>",
             "<p>Share of each submission's code (solution cells, released stubs excluded) found in the other, "
             "by copydetect's fingerprints. A high share is a reason to look, not a verdict.</p>"]
    for assignment, pairs in pairs_by_assignment.items():
        parts.append(f"<h2>{e(assignment)}</h2><p>{counts[assignment]} submissions compared; top {len(pairs)} "
                     "pairs.</p>")
        if not pairs:
            continue
        parts.append("<table><tr><th>#</th><th>student</th><th>shared</th><th>student</th><th>shared</th></tr>")
        for n, p in enumerate(pairs, 1):
            parts.append(f"<tr><td><a href='#{e(assignment)}-{n}'>{n}</a></td><td>{e(p.first)}</td>"
                         f"<td>{p.similarity[0]:.0%}</td><td>{e(p.second)}</td><td>{p.similarity[1]:.0%}</td></tr>")
        parts.append("</table>")
        for n, p in enumerate(pairs, 1):
            parts.append(f"<h3 id='{e(assignment)}-{n}'>{n}. {e(p.first)} ({p.similarity[0]:.0%}) and "
                         f"{e(p.second)} ({p.similarity[1]:.0%})</h3><div class='pair'>"
                         f"<pre>{p.code[0]}</pre><pre>{p.code[1]}</pre></div>")
    return "\n".join(parts + ["</body></html>\n"])


def report(paths, out, assignment=None, top=20):
    """Write the similarity report of the notebooks under paths to out; returns {assignment: [Pair]}."""
    found = gather(paths, assignment)
    pairs = {a: top_pairs(a, found[a], top) for a in POINTS if a in found and len(found[a]) > 1}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(render(pairs, {a: len(found[a]) for a in pairs}), encoding="utf-8")
    return pairs
