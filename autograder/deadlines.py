"""Due dates, extensions and the late penalty, from a small TOML file; submission times.

    timezone = "Europe/Berlin"      # of the dates below written without an offset (default UTC)

    [penalty]
    per_day = 0.10                  # share of the score earned taken off per day late, or part of one
    grace_minutes = 15              # later than the due date by less than this is on time (default 0)
    max_days = 7                    # later than this many days scores 0 (default: no limit)

    [due]
    ch01_motivation = 2026-10-02T23:59:00
    ch02_convolution = 2026-10-09T23:59:00

    [extensions.ada]                # per student: a new due date, or days added to the class's
    ch02_convolution = 2026-10-12T23:59:00
    [extensions.ben]
    ch02_convolution = 3

The penalty is applied on export (autograder.lms) and shown in feedback; grades.csv and the
store keep the score the notebook earned, so a changed rule or a late extension needs no
regrade. A submission's time is nbgrader's timestamp.txt beside the notebook when there is
one, else the notebook file's modification time.
"""
import math
import os
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser

from .points import POINTS


class DeadlineError(Exception):
    """The deadlines file is missing or malformed: reported in one line."""


@dataclass
class Lateness:
    """How late one submission is: due (None: no due date), days late (started days, 0 when on
    time) and the share of its score it loses."""
    due: datetime | None
    submitted: datetime | None
    days: int = 0
    penalty: float = 0.0

    def describe(self):
        """One line for feedback and exports."""
        if self.due is None or self.submitted is None:
            return ""
        when = f"submitted {_show(self.submitted)}, due {_show(self.due)}"
        if not self.days:
            return f"{when}: on time"
        return f"{when}: {self.days} day{'s' * (self.days != 1)} late, {self.penalty:.0%} late penalty"


def _show(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class Deadlines:
    """The rules of one deadlines file; see the module docstring."""
    due_dates: dict
    extensions: dict
    per_day: float = 0.0
    grace: timedelta = timedelta(0)
    max_days: int | None = None

    def due(self, student, assignment):
        """The due date of this student's assignment (their extension if they have one), or None."""
        base = self.due_dates.get(assignment)
        extension = self.extensions.get(student, {}).get(assignment)
        if isinstance(extension, datetime):
            return extension
        if extension is not None and base is not None:
            return base + timedelta(days=extension)
        return base

    def lateness(self, student, assignment, submitted):
        """The Lateness of a submission made at `submitted` (an aware datetime or None)."""
        due = self.due(student, assignment)
        if due is None or submitted is None or submitted <= due + self.grace:
            return Lateness(due, submitted)
        days = math.ceil((submitted - due) / timedelta(days=1))
        penalty = 1.0 if self.max_days is not None and days > self.max_days else min(1.0, self.per_day * days)
        return Lateness(due, submitted, days, penalty)


def _moment(value, zone, where):
    """A TOML date or datetime as an aware datetime (a bare date: the end of that day)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=zone)
    raise DeadlineError(f"{where} must be a date or date-time like 2026-10-09T23:59:00, not {value!r}")


def _assignment(name, where):
    if name not in POINTS:
        raise DeadlineError(f"{where}: {name!r} is not an assignment of this course; use one of: {', '.join(POINTS)}")
    return name


def _number(table, name, kind, minimum=0):
    value = table.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise DeadlineError(f"penalty.{name} must be a {kind} of at least {minimum}, not {value!r}")
    return value


def load(path):
    """The Deadlines of a TOML file; DeadlineError (one line) if it is missing or malformed."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise DeadlineError(f"the deadlines file {path} cannot be read: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise DeadlineError(f"the deadlines file {path} is not valid TOML: {error}") from None
    unknown = set(data) - {"timezone", "penalty", "due", "extensions"}
    if unknown:
        raise DeadlineError(f"{path}: unknown keys {sorted(unknown)}; expected timezone, penalty, due, extensions")
    try:
        zone = ZoneInfo(data.get("timezone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise DeadlineError(f"{path}: unknown timezone {data.get('timezone')!r} (e.g. 'UTC', 'Europe/Berlin')") from None
    due = {_assignment(a, f"{path} [due]"): _moment(v, zone, f"due.{a}") for a, v in data.get("due", {}).items()}
    extensions = {}
    for student, table in data.get("extensions", {}).items():
        if not isinstance(table, dict):
            raise DeadlineError(f"{path}: [extensions.{student}] must be a table of assignment = date or days")
        extensions[str(student)] = {
            _assignment(a, f"{path} [extensions.{student}]"):
                v if isinstance(v, (int, float)) and not isinstance(v, bool) else _moment(v, zone, f"extensions.{student}.{a}")
            for a, v in table.items()}
    penalty = data.get("penalty", {})
    max_days = _number(penalty, "max_days", "whole number of days")
    return Deadlines(due, extensions, per_day=_number(penalty, "per_day", "number") or 0.0,
                     grace=timedelta(minutes=_number(penalty, "grace_minutes", "number") or 0),
                     max_days=int(max_days) if max_days is not None else None)


def parse_time(text):
    """An ISO or nbgrader timestamp as an aware datetime (naive ones are UTC, as nbgrader writes
    them), or None when text is empty or not a time."""
    if not text:
        return None
    try:
        moment = dateparser.parse(str(text).strip())
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def submission_time(path):
    """When the notebook at path was submitted, ISO 8601 in UTC: nbgrader's timestamp.txt in its
    folder if it holds a time, else the file's modification time (None if neither is there)."""
    stamp = Path(path).parent / "timestamp.txt"
    try:
        moment = parse_time(stamp.read_text(encoding="utf-8")[:100]) if stamp.is_file() else None
    except (OSError, UnicodeDecodeError):
        moment = None
    if moment is None:
        try:
            moment = datetime.fromtimestamp(os.lstat(path).st_mtime, timezone.utc)
        except OSError:
            return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
