"""The class report: one offline HTML page of what the class got right and wrong.

From a results.json of `grade` (with the store, the whole class): per assignment the score
distribution and each function's pass rate (matplotlib figures, embedded as PNG data, so the
page needs no network and no other file), and per function the most frequent diagnosed
mistakes (TestResult.mistakes, the catalogue ids) with how many students made each, the
catalogue's explanation and one example message: what to re-teach next lecture. Messages
quote students' code and exceptions, so everything from results.json is HTML-escaped.
"""
import base64
import html
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

from tasks import load as load_tasks

from .diagnose import GENERIC
from .points import POINTS

TOP_MISTAKES = 3
EXAMPLE_CHARS = 300


class ReportError(Exception):
    """results.json cannot be read: reported in one line."""


def load(path):
    """The submissions of a results.json."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))["submissions"]
    except OSError as error:
        raise ReportError(f"{path} cannot be read: {error.strerror}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ReportError(f"{path} is not a results.json of `python -m autograder grade --json` ({error})") from None


def explanations(assignment):
    """{catalogue id: the sentence a student reads} for an assignment's functions."""
    found = {function: dict(GENERIC) for function in POINTS.get(assignment, {})}
    for task in load_tasks(assignment).graded:
        found[task.name].update(task.mistakes)
    return found


def pass_rates(graded, function):
    """(share of the function's cases passed, students with every case passed, students)."""
    tests = [t for s in graded for t in s["tests"] if t["function"] == function]
    full = sum(1 for s in graded if all(t["passed"] for t in s["tests"] if t["function"] == function))
    return (sum(t["passed"] for t in tests) / len(tests) if tests else 0.0), full, len(graded)


def mistakes(graded, function):
    """[(id, students, tests, example message)], the ids most students made first."""
    students, tests, example = Counter(), Counter(), {}
    for s in graded:
        seen = set()
        for t in s["tests"]:
            if t["function"] != function:
                continue
            for mistake in t.get("mistakes") or []:
                tests[mistake] += 1
                seen.add(mistake)
                example.setdefault(mistake, t["message"])
        students.update(seen)
    ranked = sorted(students, key=lambda m: (-students[m], -tests[m], m))
    return [(m, students[m], tests[m], example[m]) for m in ranked]


def _pyplot():
    """matplotlib's pyplot on the Agg backend: the report is drawn without a display."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(figure):
    """A matplotlib figure as an <img> data URI, closed after."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def score_figure(assignment, scores, maximum):
    """A histogram of the scores (points) of the graded submissions."""
    figure, axes = _pyplot().subplots(figsize=(5, 2.6))
    axes.hist(scores, bins=min(20, max(5, int(maximum))), range=(0, maximum), color="#4477aa", edgecolor="white")
    axes.set_xlabel(f"score (of {maximum:g})")
    axes.set_ylabel("submissions")
    axes.yaxis.set_major_locator(_pyplot().MaxNLocator(integer=True))  # counts of submissions
    axes.set_title(f"{assignment}: score distribution")
    return _png(figure)


def pass_rate_figure(assignment, rates):
    """Horizontal bars: each function's share of cases passed."""
    names = list(rates)
    figure, axes = _pyplot().subplots(figsize=(5, 0.45 * len(names) + 1))
    axes.barh(names[::-1], [100 * rates[n] for n in names[::-1]], color="#228833")
    axes.set_xlim(0, 100)
    axes.set_xlabel("cases passed (%)")
    axes.set_title(f"{assignment}: pass rate per function")
    return _png(figure)


def _escape(text):
    return html.escape(str(text), quote=True)


def _assignment_section(assignment, submissions):
    """The HTML of one assignment: figures, pass-rate table, mistakes to re-teach."""
    graded = [s for s in submissions if s["tests"]]
    maximum = sum(POINTS[assignment].values())
    if not graded:
        return [f"<h2>{assignment}</h2>", f"<p>No graded submission ({len(submissions)} not graded).</p>"]
    rates = {f: pass_rates(graded, f) for f in POINTS[assignment]}
    scores = [s["score"] for s in graded]
    parts = [f"<h2 id='{assignment}'>{assignment}</h2>",
             f"<p>{len(graded)} graded, {len(submissions) - len(graded)} not graded; mean score "
             f"{sum(scores) / len(scores):.1f} of {maximum:g}.</p>",
             f"<img src='{score_figure(assignment, scores, maximum)}' alt='Histogram of the {len(graded)} "
             f"scores of {assignment}, out of {maximum:g}'>",
             f"<img src='{pass_rate_figure(assignment, {f: r[0] for f, r in rates.items()})}' "
             f"alt='Share of cases passed for each function of {assignment}'>",
             "<table><tr><th>function</th><th>cases passed</th><th>full marks</th>"
             "<th>most frequent mistakes (students, tests): explanation; example message</th></tr>"]
    catalogue = explanations(assignment)
    for function, (rate, full, n) in rates.items():
        found = mistakes(graded, function)[:TOP_MISTAKES]
        items = "".join(
            f"<li><code>{_escape(m)}</code> ({students} student{'s' * (students != 1)}, {tests} "
            f"test{'s' * (tests != 1)}): "
            f"{_escape(catalogue[function].get(m, ''))}<br><small>e.g. <code>{_escape(example[:EXAMPLE_CHARS])}"
            f"</code></small></li>" for m, students, tests, example in found)
        parts.append(f"<tr><td><code>{function}</code></td><td>{rate:.0%}</td><td>{full}/{n}</td>"
                     f"<td>{'<ol>' + items + '</ol>' if items else 'none'}</td></tr>")
    return parts + ["</table>"]


STYLE = """body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;
text-align:left}code{background:#f4f4f4}img{margin:.5em 1em .5em 0;max-width:100%}small code{white-space:pre-wrap}"""


def render(submissions):
    """The whole page, as a string."""
    by_assignment = defaultdict(list)
    for s in submissions:
        by_assignment[s["assignment"]].append(s)
    statuses = Counter(s["status"] for s in submissions)
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>Class report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Class report</h1>",
             f"<p>{len(submissions)} submissions of {len({s['student'] for s in submissions})} students: "
             + ", ".join(f"{n} {_escape(s)}" for s, n in sorted(statuses.items())) + ".</p>"]
    for assignment in POINTS:
        if assignment in by_assignment:
            parts += _assignment_section(assignment, by_assignment[assignment])
    flagged = [s for s in submissions if s["status"] != "ok"]
    if flagged:
        parts.append("<h2>Not graded</h2><ul>")
        parts += [f"<li>{_escape(s['student'])} ({_escape(s['assignment'])}): {_escape(s['status'])}: "
                  f"{_escape(s['problem'])}</li>" for s in flagged]
        parts.append("</ul>")
    return "\n".join(parts + ["</body></html>\n"])


def write(results_json, out):
    """Read results_json and write the page to out."""
    page = render(load(results_json))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(page, encoding="utf-8")
