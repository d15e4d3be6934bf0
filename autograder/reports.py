"""Write what grading found: grades.csv, results.json, Gradescope results, feedback, summary.

Every writer takes a list of SubmissionResult and a destination; none of them grades.
"""
import csv
import json
from pathlib import Path

from .points import POINTS


def _safe_name(text):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text)) or "unknown"


def write_grades_csv(results, path):
    """One row per (student, assignment): student,assignment,score,max_score,status."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "status"])
        for r in sorted(results, key=lambda r: (r.student, r.assignment or "")):
            writer.writerow([r.student, r.assignment or "", f"{r.score:g}", f"{r.max_score:g}", r.status])


def write_results_json(results, path):
    """Every test of every submission, with the submission's seed, isolation level and status."""
    rows = []
    for r in sorted(results, key=lambda r: (r.student, r.assignment or "")):
        rows.append({"student": r.student, "assignment": r.assignment, "path": r.path, "status": r.status,
                     "problem": r.problem, "seed": r.seed, "isolation": r.isolation, "score": r.score,
                     "max_score": r.max_score, "seconds": r.seconds,
                     "tests": [{"student": r.student, "assignment": r.assignment, "function": t.function,
                                "test": t.name, "points": t.points, "max_points": t.max_points,
                                "passed": t.passed, "message": t.message} for t in r.tests]})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"submissions": rows}, indent=1) + "\n", encoding="utf-8")


def gradescope_results(result):
    """Gradescope's results.json for one submission: one test per graded function."""
    tests = []
    for function, (points, max_points, messages) in result.by_function().items():
        output = "All cases passed." if not messages else "\n".join(f"- {m}" for m in messages)
        tests.append({"name": f"{result.assignment}: {function}", "score": points, "max_score": max_points,
                      "output": output, "visibility": "visible"})
    data = {"score": result.score, "tests": tests, "output": _status_line(result),
            "extra_data": {"seed": result.seed, "isolation": result.isolation, "status": result.status}}
    return data


def write_gradescope(results, directory):
    """DIR/<student>/<assignment>/results.json in Gradescope's format, one per submission."""
    for r in results:
        target = Path(directory) / _safe_name(r.student) / _safe_name(r.assignment)
        target.mkdir(parents=True, exist_ok=True)
        (target / "results.json").write_text(json.dumps(gradescope_results(r), indent=1) + "\n", encoding="utf-8")


def _status_line(result):
    if result.status == "ok":
        # problem: what made a graded submission score nothing at all (no solution cells found)
        line = f"Graded with seed {result.seed} (sandbox: {result.isolation or 'not started'})."
        return f"{line} {result.problem}" if result.problem else line
    return f"Status: {result.status}. {result.problem}"


def feedback_markdown(result):
    """A student's feedback: each function, its points, and what went wrong."""
    lines = [f"# Feedback: {result.assignment} ({result.student})", "",
             f"**Score: {result.score:g} / {result.max_score:g}**", "", _status_line(result), ""]
    for function, (points, max_points, messages) in result.by_function().items():
        mark = "✔" if not messages else "✘"
        lines.append(f"## {mark} `{function}`: {points:g} / {max_points:g}")
        lines += [""] + ([f"- {m}" for m in messages] if messages else ["All cases passed."]) + [""]
    if result.output.strip():
        lines += ["## What your code printed (truncated)", "", "```", result.output[:4000].rstrip(), "```", ""]
    return "\n".join(lines)


def write_feedback(results, directory):
    """DIR/<student>/<assignment>.md for every submission."""
    for r in results:
        target = Path(directory) / _safe_name(r.student)
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{_safe_name(r.assignment)}.md").write_text(feedback_markdown(r), encoding="utf-8")


def summary_table(results):
    """Per-function pass rates across the class (share of that function's cases passed)."""
    rows = []
    for assignment, functions in POINTS.items():
        graded = [r for r in results if r.assignment == assignment]
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
    return "\n".join(lines)
