"""Command line: python -m autograder grade PATH... --out grades.csv [options].

Exit status 0 whenever grading ran, however badly the submissions did; 2 with a one-line
reason for bad usage (no notebooks found, bad flags); 1 for a fault of the grader itself.
"""
import argparse
import sys
from pathlib import Path

from . import reports
from .batch import find_notebooks, grade_paths


def grade(*, paths, out, json_path=None, gradescope=None, feedback=None, jobs=1, timeout=None, seed=None,
          hidden=(), progress=False):
    """Grade every notebook under paths and write the reports; returns the SubmissionResults."""
    notebooks = find_notebooks(paths)
    if not notebooks:
        raise UsageError(f"no notebooks (.ipynb) found in {', '.join(map(str, paths))}")
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(notebooks), unit="notebook", file=sys.stderr)
    try:
        results = list(grade_paths(notebooks, jobs=jobs, seed=seed, timeout=timeout, hidden=hidden,
                                   progress=bar.update if bar else None))
    finally:
        if bar:
            bar.close()
    reports.write_grades_csv(results, out)
    if json_path:
        reports.write_results_json(results, json_path)
    if gradescope:
        reports.write_gradescope(results, gradescope)
    if feedback:
        reports.write_feedback(results, feedback)
    return results


class UsageError(Exception):
    """Bad usage: reported in one line with exit status 2."""


def _parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description="Grade CNN course notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("grade", help="grade submitted notebooks")
    g.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, or a folder searched for notebooks")
    g.add_argument("--out", required=True, type=Path, help="grades.csv to write")
    g.add_argument("--json", type=Path, dest="json_path", help="results.json with every test")
    g.add_argument("--gradescope", type=Path, metavar="DIR", help="write Gradescope results.json files here")
    g.add_argument("--feedback", type=Path, metavar="DIR", help="write per-student Markdown feedback here")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    g.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="wall-clock limit of one call of a student's function (default 10)")
    g.add_argument("--seed", type=int, default=None,
                   help="seed of the random inputs for every submission (default: fixed per student)")
    g.add_argument("--hide", type=Path, action="append", default=[], metavar="DIR",
                   help="another directory student code must not see (e.g. the nbgrader course dir)")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout must be positive")
    try:
        results = grade(paths=args.paths, out=args.out, json_path=args.json_path, gradescope=args.gradescope,
                        feedback=args.feedback, jobs=args.jobs, timeout=args.timeout, seed=args.seed,
                        hidden=args.hide, progress=sys.stderr.isatty())
    except UsageError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a grader fault: one line, not a traceback
        print(f"autograder: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(reports.summary_table(results))
    print(f"wrote {args.out}" + "".join(f", {p}" for p in (args.json_path, args.gradescope, args.feedback) if p))
    return 0
