"""Command line: python -m autograder COMMAND ...

  grade PATH... --out grades.csv    grade notebooks, merge them into the results store, write reports
  export GRADES_CSV --roster R      Canvas / Moodle gradebook CSV (autograder.lms)
  report RESULTS_JSON --out HTML    the class report (autograder.class_report)
  similarity PATH... --out HTML     which students share code (autograder.similarity)
  gradescope ASSIGNMENT --out ZIP   a Gradescope autograder (autograder.gradescope)
  gradescope-run ASSIGNMENT ...     what that autograder runs on one submission

Exit status 0 whenever grading ran, however badly the submissions did; 2 with a one-line
reason for bad usage (no notebooks found, bad flags, no sandbox); 130 when interrupted (the
finished grades are kept in the journal, and the same command resumes); 1 for a fault of the
grader itself.
"""
import argparse
import contextlib
import signal
import sys
from pathlib import Path

from . import deadlines as deadline_rules
from . import reports, store
from .batch import DEFAULT_TIMEOUT, ClusterError, grade_paths
from .deadlines import DeadlineError, submission_time
from .journal import Journal
from .notebook import collect
from .points import ASSIGNMENTS
from .sandbox import Limits, SandboxUnavailable, require_sandbox
from .secret import key_id, load_key


class UsageError(Exception):
    """Bad usage: reported in one line with exit status 2."""


class Interrupted(Exception):
    """The batch was stopped (Ctrl-C, SIGTERM) after `done` of `total` submissions."""

    def __init__(self, done, total, journal):
        super().__init__(f"interrupted after {done} of {total} submissions; their grades are kept in {journal}: "
                         "run the same command again to grade the rest")


def _check_assignment(assignment):
    """UsageError unless assignment is None (each path says) or an assignment id of the course."""
    if assignment is not None and assignment not in ASSIGNMENTS:
        raise UsageError(f"--assignment {assignment!r} is not an assignment of this course; "
                         f"use one of: {', '.join(ASSIGNMENTS)}")


def _only(found, students, paths):
    """The notebooks of the given students (all when none is given); UsageError naming a student
    who has none, so that a typo in --only does not pass for a regrade."""
    if not students:
        return found
    missing = sorted(set(students) - {f.student for f in found})
    if missing:
        raise UsageError(f"--only: no notebook of {', '.join(missing)} in {', '.join(map(str, paths))}")
    return [f for f in found if f.student in set(students)]


class ProgressLines:
    """Progress for a log, not a terminal: one stderr line at every tenth of the batch done."""

    def __init__(self, total, done=0):
        self.total, self.done, self.step = total, done, max(1, total // 10)

    def __call__(self):
        self.done += 1
        if self.done % self.step == 0 or self.done == self.total:
            print(f"autograder: {self.done} of {self.total} notebooks graded ({self.done / self.total:.0%})",
                  file=sys.stderr, flush=True)


def _stamped(result):
    """result with the time it was graded and, if not known yet, when it was submitted."""
    result.graded_at = result.graded_at or store.now()
    if result.submitted_at is None and result.path:
        result.submitted_at = submission_time(result.path)
    return result


def grade(*, paths, out, json_path=None, gradescope=None, feedback=None, jobs=1, timeout=None, seed=None,
          key_file=None, unsafe_no_sandbox=False, submission_timeout=None, hidden=(), progress=None,
          assignment=None, feedback_detail="diagnosis", only=(), store_path=None, deadlines=None, scheduler=None):
    """Grade every notebook under paths, merge the results into the store and write the reports;
    returns this run's SubmissionResults.

    feedback_detail: what the student-facing reports (feedback, Gradescope) show of a failed
    hidden case: "diagnosis" (its inputs' shapes and what is wrong) or "values" (also the
    reference's values); results.json always has both.

    assignment: the assignment id of every notebook (default: what each path, or else each
    notebook's metadata, says). only: grade only these students' notebooks. store_path: the
    results store (default <out>.store.json): grades.csv and results.json hold every row of it,
    this run's replacing older ones of the same student and assignment; feedback and Gradescope
    output are written for this run's submissions. progress: "bar" (a terminal's), "lines" (a
    line at every tenth, for logs) or None. deadlines: a deadlines TOML file whose
    lateness the feedback shows. scheduler: a Dask scheduler's address (tcp://HOST:PORT) whose
    workers grade instead of `jobs` local processes."""
    _check_assignment(assignment)
    try:
        isolation = require_sandbox(unsafe_no_sandbox)
        rules = deadline_rules.load(deadlines) if deadlines else None
        store_path = store_path or store.default_path(out)
        stored = store.load(store_path)  # before grading: an unreadable store must not cost a batch
    except (SandboxUnavailable, DeadlineError, store.StoreError) as error:
        raise UsageError(str(error)) from None
    found = _only(collect(paths, assignment=assignment), only, paths)
    if not found:
        raise UsageError(f"no notebooks (.ipynb) found in {', '.join(map(str, paths))}")
    try:
        key = None if seed is not None else load_key(key_file)
    except (ValueError, OSError) as error:
        raise UsageError(str(error)) from None
    limits = Limits(call_seconds=DEFAULT_TIMEOUT if timeout is None else float(timeout),
                    submission_seconds=submission_timeout)
    journal = Journal(out, {"seed": seed, "key": key_id(key) if key else None, "isolation": isolation,
                            "call_seconds": limits.call_seconds, "submission_seconds": submission_timeout,
                            "assignment": assignment})
    fingerprints = {str(f.path): journal.fingerprint(f.path) for f in found}
    earlier = journal.load()
    results = [earlier[fingerprints[str(f.path)]] for f in found if fingerprints[str(f.path)] in earlier]
    todo = [f for f in found if fingerprints[str(f.path)] not in earlier]
    bar = None
    if progress == "bar":
        from tqdm import tqdm
        bar = tqdm(total=len(found), initial=len(results), unit="notebook", file=sys.stderr)
    update = bar.update if bar else ProgressLines(len(found), len(results)) if progress == "lines" else None
    graded = grade_paths(todo, jobs=jobs, seed=seed, key=key, limits=limits, isolation=isolation, hidden=hidden,
                         progress=update, scheduler=scheduler)
    try:
        with contextlib.closing(graded):  # closing it kills the grading processes still running
            for result in graded:
                journal.append(fingerprints[result.path], _stamped(result))
                results.append(result)
    except KeyboardInterrupt:
        raise Interrupted(len(results), len(found), journal.path) from None
    except ClusterError as error:
        raise UsageError(f"{error} (the {len(results)} grades finished are kept in {journal.path})") from None
    finally:
        if bar:
            bar.close()
    merged = store.merge(stored, results)
    store.save(merged, store_path)
    reports.write_grades_csv(merged, out)
    if json_path:
        reports.write_results_json(merged, json_path)
    if gradescope:
        reports.write_gradescope(results, gradescope, detail=feedback_detail == "values")
    if feedback:
        reports.write_feedback(results, feedback, detail=feedback_detail == "values", deadlines=rules)
    journal.remove()
    return results


def _parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description="Grade CNN course notebooks.")
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("grade", help="grade submitted notebooks")
    g.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, or a folder searched for notebooks")
    g.add_argument("--out", required=True, type=Path, help="grades.csv to write")
    g.add_argument("--assignment", metavar="ID",
                   help="the assignment every given notebook is, e.g. ch04_pooling (default: what each path says, "
                        "or else the notebook's metadata)")
    g.add_argument("--json", type=Path, dest="json_path", help="results.json with every test")
    g.add_argument("--gradescope", type=Path, metavar="DIR", help="write Gradescope results.json files here")
    g.add_argument("--feedback", type=Path, metavar="DIR", help="write per-student Markdown feedback here")
    g.add_argument("--feedback-detail", choices=("diagnosis", "values"), default="diagnosis",
                   help="what feedback and Gradescope output show of a failed hidden case: its inputs' shapes and "
                        "the diagnosis (default), or also the reference's values, which give its answer away")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="grade on the workers of this Dask scheduler instead of local processes (pip install .[dask])")
    g.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help=f"wall-clock limit of one call of a student's function (default {DEFAULT_TIMEOUT:g})")
    g.add_argument("--submission-timeout", type=float, default=None, metavar="SECONDS",
                   help="wall-clock limit of one whole submission's grading (default: from its cases)")
    g.add_argument("--key", type=Path, dest="key_file", metavar="FILE",
                   help="the instructor's secret that the hidden inputs derive from (default: "
                        "$CNN_GRADER_KEY or ~/.config/cnns-from-the-ground-up/grader.key, created if missing)")
    g.add_argument("--seed", type=int, default=None,
                   help="seed of the random inputs of every submission, to reproduce a run (default: from --key)")
    g.add_argument("--hide", type=Path, action="append", default=[], metavar="DIR",
                   help="another directory student code must not see, if it lies inside a system directory")
    g.add_argument("--only", action="append", default=[], metavar="STUDENT",
                   help="grade only this student's notebooks (repeatable); the store keeps everyone else's rows")
    g.add_argument("--store", type=Path, dest="store_path", metavar="FILE",
                   help="the results store merged into (default: <out>.store.json); grades.csv and --json "
                        "hold all its rows, the newest result of each student and assignment")
    g.add_argument("--deadlines", type=Path, metavar="FILE",
                   help="due dates, extensions and late penalty (TOML): lateness is shown in the feedback")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade even without bubblewrap: student code then runs with your rights, unconfined "
                        "(recorded in every result)")
    e = commands.add_parser("export", help="Canvas / Moodle gradebook CSV from grades.csv and a roster")
    e.add_argument("grades", type=Path, metavar="GRADES_CSV", help="grades.csv written by grade")
    e.add_argument("--roster", type=Path, required=True,
                   help="CSV: student (the submission folder's name), name, first_name, last_name, canvas_id, "
                        "sis_user_id, sis_login_id, section, email, id_number")
    e.add_argument("--canvas", type=Path, metavar="FILE", help="write Canvas' gradebook import CSV here")
    e.add_argument("--moodle", type=Path, metavar="FILE", help="write Moodle's CSV grade import here")
    e.add_argument("--deadlines", type=Path, metavar="FILE", help="apply the late penalties of this TOML file")
    e.add_argument("--problems", type=Path, metavar="FILE",
                   help="where to list the cells left empty and why (default: beside the first export)")
    r = commands.add_parser("report", help="the class report (HTML): score distributions, pass rates, mistakes")
    r.add_argument("results", type=Path, metavar="RESULTS_JSON", help="results.json written by grade --json")
    r.add_argument("--out", type=Path, required=True, help="the HTML page to write")
    s = commands.add_parser("similarity", help="which students' solution cells share code (HTML, copydetect)")
    s.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, or a folder searched for notebooks")
    s.add_argument("--out", type=Path, required=True, help="the HTML page to write")
    s.add_argument("--assignment", metavar="ID", help="the assignment every given notebook is (as for grade)")
    s.add_argument("--top", type=int, default=20, help="pairs shown per assignment (default 20)")
    z = commands.add_parser("gradescope", help="build a Gradescope autograder zip for one assignment")
    z.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. ch02_convolution")
    z.add_argument("--out", type=Path, required=True, help="the zip to write (autograder.zip)")
    z.add_argument("--key", type=Path, dest="key_file", metavar="FILE",
                   help="the instructor key to ship in the zip (default: as for grade)")
    gr = commands.add_parser("gradescope-run", help="grade one Gradescope submission (what run_autograder runs)")
    gr.add_argument("assignment", metavar="ASSIGNMENT")
    gr.add_argument("--submission", type=Path, required=True, help="the submission folder (/autograder/submission)")
    gr.add_argument("--results", type=Path, required=True, help="results.json to write")
    gr.add_argument("--key", type=Path, dest="key_file", metavar="FILE", help="the instructor key")
    gr.add_argument("--container-isolation", action="store_true",
                    help="when bubblewrap cannot run, grade without it: the container is the isolation")
    return parser


def _stop(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the batch like Ctrl-C: every process it started is killed


def _grade_command(args, parser):
    """`grade`: grade, write the reports, print the summary of this run."""
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    for name in ("timeout", "submission_timeout"):
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    signal.signal(signal.SIGTERM, _stop)
    results = grade(paths=args.paths, out=args.out, json_path=args.json_path, gradescope=args.gradescope,
                    feedback=args.feedback, jobs=args.jobs, timeout=args.timeout, seed=args.seed,
                    key_file=args.key_file, unsafe_no_sandbox=args.unsafe_no_sandbox,
                    submission_timeout=args.submission_timeout, hidden=args.hide,
                    progress="bar" if sys.stderr.isatty() else "lines", assignment=args.assignment,
                    feedback_detail=args.feedback_detail, only=args.only, store_path=args.store_path,
                    deadlines=args.deadlines, scheduler=args.scheduler)
    print(reports.summary_table(results))
    print(f"wrote {args.out}" + "".join(f", {p}" for p in (args.json_path, args.gradescope, args.feedback) if p))


def _export_command(args, parser):
    """`export`: Canvas and Moodle gradebook files from grades.csv and a roster."""
    from . import lms

    if not (args.canvas or args.moodle):
        parser.error("give --canvas FILE, --moodle FILE or both")
    try:
        rules = deadline_rules.load(args.deadlines) if args.deadlines else None
        roster, grades = lms.read_roster(args.roster), lms.read_grades(args.grades)
        cells, assignments, problems = lms.table(roster, grades, rules)
        if args.canvas:
            lms.write_canvas(roster, cells, assignments, args.canvas)
        if args.moodle:
            lms.write_moodle(roster, cells, assignments, args.moodle)
    except (lms.ExportError, DeadlineError) as error:
        raise UsageError(str(error)) from None
    problems_path = args.problems or Path(args.canvas or args.moodle).with_suffix(".problems.csv")
    lms.write_problems(problems, problems_path)
    print(f"{len(roster)} students, {len(assignments)} assignments"
          + (f", late penalties from {args.deadlines}" if args.deadlines else ""))
    for student, assignment, problem in problems:
        print(f"  {student} ({assignment}): {problem}")
    print("wrote " + ", ".join(str(p) for p in (args.canvas, args.moodle, problems_path) if p)
          + (f" ({len(problems)} cells left empty or unmatched: see {problems_path})" if problems else ""))


def _report_command(args, parser):
    """`report`: the class report, an offline HTML page, from results.json."""
    from . import class_report

    try:
        class_report.write(args.results, args.out)
    except class_report.ReportError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {args.out}")


def _gradescope_command(args, parser):
    """`gradescope`: build the Gradescope autograder zip of one assignment."""
    from . import gradescope

    _check_assignment(args.assignment)
    try:
        gradescope.build(args.assignment, args.out, key_file=args.key_file)
    except (ValueError, OSError) as error:
        raise UsageError(str(error)) from None
    print(f"wrote {args.out}: upload it as the autograder of {args.assignment} in Gradescope")


def _gradescope_run_command(args, parser):
    """`gradescope-run`: what run_autograder runs on one Gradescope submission."""
    from . import gradescope

    _check_assignment(args.assignment)
    try:
        result = gradescope.run(args.assignment, args.submission, args.results, key_file=args.key_file,
                                container_isolation=args.container_isolation)
    except SandboxUnavailable as error:
        raise UsageError(str(error)) from None
    print(f"wrote {args.results}" + (f": {result.score:g} of {result.max_score:g} ({result.status}, isolation "
                                     f"{result.isolation})" if result else ": no notebook to grade")
          + f"; graded by the course code in {Path(__file__).resolve().parent.parent}")


def _similarity_command(args, parser):
    """`similarity`: the similarity report of the notebooks under the paths."""
    from . import similarity

    if args.top < 1:
        parser.error("--top must be at least 1")
    _check_assignment(args.assignment)
    pairs = similarity.report(args.paths, args.out, assignment=args.assignment, top=args.top)
    if not pairs:
        raise UsageError(f"no assignment with two gradable notebooks in {', '.join(map(str, args.paths))}")
    for assignment, found in pairs.items():
        best = f": most similar {found[0].first} and {found[0].second} ({max(found[0].similarity):.0%})" if found else ""
        print(f"{assignment}: {len(found)} pairs{best}")
    print(f"wrote {args.out}")


COMMANDS = {"grade": _grade_command, "export": _export_command, "report": _report_command,
            "similarity": _similarity_command,
            "gradescope": _gradescope_command, "gradescope-run": _gradescope_run_command}


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command](args, parser)
    except UsageError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 130
    except Exception as error:  # a grader fault: one line, not a traceback
        print(f"autograder: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0
