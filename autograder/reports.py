"""Write what grading found: grades.csv, results.json, Gradescope results, feedback, summary.

Every writer takes a list of SubmissionResult and a destination; none of them grades.
Student names, assignment folders, messages (they quote the student's exceptions and code)
and printed output are the student's to choose: they are written so that they cannot become
a spreadsheet formula, a path outside the report's folder or another student's file, or
Markdown structure in feedback.
"""
import csv
import hashlib
import json
import re
from pathlib import Path

from .deadlines import parse_time
from .points import POINTS

# Kept as they are: lowercase (a case-insensitive file system, macOS' and Windows' default,
# would merge "Ada" and "ada"), not starting with "." (".", "..", hidden files), not too long
# for a file name, and not ending like a changed name (see _safe_name).
_PLAIN_NAME = re.compile(r"[a-z0-9_-][a-z0-9._-]{0,63}")
_CHANGED_NAME = re.compile(r".*-[0-9a-f]{8}")


def _safe_name(text):
    """A file name for text, different for different texts.

    A plain name is kept; any other gets its unsafe characters replaced and the first 8 hex of
    its SHA-256 appended ("a b" and "a_b" would otherwise share a folder). A plain name that
    ends like such a suffix counts as changed too, so that nobody can name themselves after
    another student's changed name.
    """
    text = str(text)
    if _PLAIN_NAME.fullmatch(text) and not _CHANGED_NAME.fullmatch(text):
        return text
    readable = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:64].lstrip(".") or "unknown"
    return f"{readable}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def one_line(text):
    """text with its line breaks as spaces: one reason per row or line of a report."""
    return " ".join(str(text).split())


def csv_text(text):
    """A CSV text cell that no spreadsheet evaluates: OWASP's advice against formula injection,
    a leading single quote before =, +, -, @, tab or carriage return."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


GRADES_COLUMNS = ["student", "assignment", "score", "max_score", "status", "problem", "submitted_at", "graded_at"]


def write_grades_csv(results, path):
    """One row per (student, assignment): student,assignment,score,max_score,status,problem,
    submitted_at,graded_at (problem: why a submission was not graded, in one line; empty when
    it was; the times in ISO 8601, UTC; score: what the notebook earned, before any late
    penalty, which autograder.lms applies on export)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(GRADES_COLUMNS)
        for r in sorted(results, key=lambda r: (r.student, r.assignment or "")):
            writer.writerow([csv_text(r.student), csv_text(r.assignment or ""), f"{r.score:g}", f"{r.max_score:g}",
                             csv_text(r.status), csv_text(one_line(r.problem)), r.submitted_at or "",
                             r.graded_at or ""])


def write_results_json(results, path):
    """Every test of every submission, with the submission's seed, key fingerprint, isolation
    level and status."""
    rows = []
    for r in sorted(results, key=lambda r: (r.student, r.assignment or "")):
        rows.append({"student": r.student, "assignment": r.assignment, "path": r.path, "status": r.status,
                     "problem": r.problem, "seed": r.seed, "key_id": r.key_id, "isolation": r.isolation,
                     "score": r.score, "max_score": r.max_score, "seconds": r.seconds,
                     "submitted_at": r.submitted_at, "graded_at": r.graded_at,
                     "tests": [{"student": r.student, "assignment": r.assignment, "function": t.function,
                                "test": t.name, "points": t.points, "max_points": t.max_points,
                                "passed": t.passed, "message": t.message, "grader_error": t.grader_error,
                                "mistakes": t.mistakes, "detail": t.detail}
                               for t in r.tests]})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"submissions": rows}, indent=1) + "\n", encoding="utf-8")


def gradescope_results(result, detail=False):
    """Gradescope's results.json for one submission: one test per graded function (detail: show
    the reference's values behind each diagnosis)."""
    tests = []
    for function, (points, max_points, messages) in result.by_function(detail).items():
        output = "All cases passed." if not messages else "\n".join(f"- {m}" for m in messages)
        tests.append({"name": f"{result.assignment}: {function}", "score": points, "max_score": max_points,
                      "output": output, "visibility": "visible"})
    extra = {"seed": result.seed, "isolation": result.isolation, "status": result.status}
    if result.key_id:
        extra["key_id"] = result.key_id
    output = f"{_status_line(result)} {result.problem}" if result.problem else _status_line(result)
    return {"score": result.score, "tests": tests, "output": output, "extra_data": extra}


def write_gradescope(results, directory, detail=False):
    """DIR/<student>/<assignment>/results.json in Gradescope's format, one per submission."""
    for r in results:
        target = Path(directory) / _safe_name(r.student) / _safe_name(r.assignment or "unknown")
        target.mkdir(parents=True, exist_ok=True)
        (target / "results.json").write_text(json.dumps(gradescope_results(r, detail), indent=1) + "\n", encoding="utf-8")


def _status_line(result):
    """How the submission was graded, in the grader's words only (result.problem, which may
    quote the student's file name or errors, is for the caller to add)."""
    if result.status == "ok":
        line = f"Graded with seed {result.seed} (sandbox: {result.isolation or 'not started'})."
    elif not result.tests:
        line = f"Not graded ({result.status})."
    else:
        line = f"Status: {result.status}."
    if result.isolation == "none":
        return f"UNSANDBOXED: student code ran without a sandbox (--unsafe-no-sandbox). {line}"
    return line


def inline_code(text):
    """text as one line of inline code: nothing in it can start a heading, list, link or HTML.

    Its line breaks become ' ⏎ ' (Markdown finds blocks line by line, before code spans); the
    backtick fence is longer than any run of backticks in text, so text cannot close it.
    """
    text = " ⏎ ".join(str(text).splitlines())
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _code_block(text):
    """text in a fenced code block whose fence is longer than any run of backticks in it."""
    fence = "`" * max(3, max(map(len, re.findall("`+", text)), default=0) + 1)
    return [fence, text, fence]


def _score_lines(result, lateness):
    """The score, and with a late penalty the score after it and why."""
    lines = [f"**Score: {result.score:g} / {result.max_score:g}**", ""]
    if lateness is not None and lateness.describe():
        text = lateness.describe()
        line = text[0].upper() + text[1:] + "."
        if lateness.penalty:
            after = round(result.score * (1 - lateness.penalty), 6)
            line += f" **Score after the late penalty: {after:g} / {result.max_score:g}**"
        lines += [line, ""]
    return lines


def feedback_markdown(result, detail=False, lateness=None):
    """A student's feedback: each function, its points, and what went wrong (detail: with the
    reference's values behind each diagnosis, which give away hidden cases' answers); lateness:
    the submission's deadlines.Lateness, shown with the score after its penalty.

    Headings come from the grader only: everything the student controls (name, messages,
    output, problem) is inline code or a code block.
    """
    status = _status_line(result)
    if result.status != "ok" and not result.tests:
        status = f"**{status}**"  # the one reason there is: it must not look like a footnote
    lines = [f"# Feedback: {inline_code(result.assignment)} ({inline_code(result.student)})", "",
             *_score_lines(result, lateness),
             status + (f" {inline_code(result.problem)}" if result.problem else ""), ""]
    for function, (points, max_points, messages) in result.by_function(detail).items():
        mark = "✔" if not messages else "✘"
        lines.append(f"## {mark} {inline_code(function)}: {points:g} / {max_points:g}")
        lines += [""] + ([f"- {inline_code(m)}" for m in messages] if messages else ["All cases passed."]) + [""]
    if result.output.strip():
        lines += ["## What your code printed (truncated)", "", *_code_block(result.output[:4000].rstrip()), ""]
    return "\n".join(lines)


def write_feedback(results, directory, detail=False, deadlines=None):
    """DIR/<student>/<assignment>.md for every submission (deadlines: a deadlines.Deadlines whose
    lateness each feedback shows)."""
    for r in results:
        target = Path(directory) / _safe_name(r.student)
        target.mkdir(parents=True, exist_ok=True)
        lateness = deadlines.lateness(r.student, r.assignment, parse_time(r.submitted_at)) if deadlines else None
        (target / f"{_safe_name(r.assignment or 'unknown')}.md").write_text(feedback_markdown(r, detail, lateness),
                                                                            encoding="utf-8")


def summary_table(results):
    """Per-function pass rates across the class (share of that function's cases passed) among
    the submissions that were graded, the count of each status, and every submission whose
    status is not "ok", by student, with its reason: the instructor must act on those."""
    rows = []
    for assignment, functions in POINTS.items():
        graded = [r for r in results if r.assignment == assignment and r.tests]
        if not graded:
            continue
        for function in functions:
            tests = [t for r in graded for t in r.tests if t.function == function]
            if not tests:
                continue
            full = sum(1 for r in graded if all(t.passed for t in r.tests if t.function == function)
                       and any(t.function == function for t in r.tests))
            rows.append((assignment, function, sum(t.passed for t in tests) / len(tests), full, len(graded)))
    width = max((len(f) for _, f, *_ in rows), default=8)
    lines = [f"{'assignment':<20} {'function':<{width}} {'cases passed':>12} {'full marks':>10}"]
    lines += [f"{a:<20} {f:<{width}} {rate:>11.0%} {full:>5}/{n:<4}" for a, f, rate, full, n in rows]
    statuses = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    lines.append("submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    return "\n".join(lines + _not_ok_lines(results))


def _not_ok_lines(results):
    """The lines that name each submission whose status is not "ok", and why."""
    flagged = sorted((r for r in results if r.status != "ok"), key=lambda r: (r.student, r.assignment or ""))
    if not flagged:
        return []
    return [f"not graded ({len(flagged)}):"] + [
        f"  {r.student} ({r.assignment or 'assignment unknown'}): {r.status}: {one_line(r.problem)}"
        for r in flagged]
