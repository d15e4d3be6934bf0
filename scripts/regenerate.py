"""Regenerate every artifact derived from the task records, rewriting only what is stale.

    python scripts/regenerate.py            # bring everything up to date
    python scripts/regenerate.py --check    # exit 1 naming what is stale; write nothing

In order, because each step reads the one before:
1. the nbgrader source notebooks, exercises/<id>/<id>.ipynb (scripts/build_exercises.py);
2. the files each notebook ships: fixtures.npz and data files (scripts/make_fixtures.py), and
   compare.py, a copy of autograder/compare.py that runs the visible checks. A fixture counts as stale only when a value moved by more than
   rounding, so a refactor of solutions/ that changes results by 1e-15 rewrites nothing;
3. the bundled example submissions, autograder/examples/submitted/ (tests/corpus/make_examples.py);
4. the student releases the book offers, book/releases/<id>.zip (scripts/make_releases.py),
   which runs nbgrader and so takes about half a minute;
5. the explorables' snippets, static figures and sources.js (scripts/make_explorables.py).
A file whose content is already right is not touched (its bytes and time stay as they are).
"""
import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

import build_exercises  # noqa: E402
import make_explorables  # noqa: E402
import make_fixtures  # noqa: E402
import make_releases  # noqa: E402
from corpus import make_examples  # noqa: E402
from tasks import ASSIGNMENTS  # noqa: E402


def write_if_changed(path, data):
    """Write bytes or text `data` to path unless it already holds exactly that; True if written."""
    data = data.encode() if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def notebooks(check):
    """Stale notebooks (written unless check)."""
    stale = []
    for assignment in ASSIGNMENTS:
        path, text = build_exercises.path_of(assignment), build_exercises.render(build_exercises.build(assignment))
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not check:
            write_if_changed(path, text)
    return stale


COMPARE = ROOT / "autograder" / "compare.py"


def shipped_compare(assignment):
    """exercises/<id>/compare.py: the grader's comparison module, shipped with the notebook."""
    return ROOT / "exercises" / assignment / "compare.py"


def shipped_files(check):
    """Stale fixtures, data files and comparison modules (written unless check)."""
    stale = []
    for assignment in ASSIGNMENTS:
        path = shipped_compare(assignment)
        if not path.exists() or path.read_bytes() != COMPARE.read_bytes():
            stale.append(path)
            if not check:
                write_if_changed(path, COMPARE.read_bytes())
        for path, build in make_fixtures.files(assignment).items():
            if make_fixtures.differs(path, build) is None:
                continue
            stale.append(path)
            if not check:
                make_fixtures.write(path, build)
    return stale


def examples(check):
    """Stale or extra example notebooks (written or removed unless check)."""
    out = make_examples.EXAMPLES
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        fresh = {p.relative_to(fresh_root): p.read_bytes() for p in make_examples.make_examples(out=fresh_root)}
    have = {p.relative_to(out) for p in out.rglob("*.ipynb")} if out.exists() else set()
    stale = [out / rel for rel in sorted(have - fresh.keys())]
    stale += [out / rel for rel, data in sorted(fresh.items())
              if not (out / rel).exists() or (out / rel).read_bytes() != data]
    if not check:
        for rel, data in fresh.items():
            write_if_changed(out / rel, data)
        for rel in have - fresh.keys():
            (out / rel).unlink()
    return stale


def releases(check):
    """Stale release zips (rewritten unless check)."""
    out = make_releases.RELEASES
    with tempfile.TemporaryDirectory(prefix="course-") as tmp:
        release = make_releases.generate(Path(tmp) / "course")
        problems = make_releases.stale(release, out)
        if not check:
            for name, _ in problems:
                folder = release / Path(name).stem
                if folder.is_dir():
                    make_releases.write_zip(make_releases.release_members(folder), out / name)
                else:
                    (out / name).unlink()
    return [out / name for name, _ in problems]


STEPS = (("notebooks", notebooks), ("fixtures, data and compare.py", shipped_files),
         ("example submissions", examples), ("release zips", releases))
# the explorables' snippets, static figures and sources.js (scripts/make_explorables.py)
STEPS += (("explorables", make_explorables.stale),)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1); write nothing")
    parser.add_argument("--skip-releases", action="store_true",
                        help="leave the release zips alone (they need nbgrader and take longest)")
    args = parser.parse_args(argv)
    stale = []
    for name, step in STEPS:
        if args.skip_releases and step is releases:
            continue
        found = step(args.check)
        stale += found
        verb = "stale" if args.check else "rewrote"
        print(f"{name}: " + (f"{verb} {len(found)}" if found else "up to date"))
        for path in found:
            print(f"  {path.relative_to(ROOT)}")
    if args.check and stale:
        print("run: python scripts/regenerate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
