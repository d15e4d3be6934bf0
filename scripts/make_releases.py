"""Write the student releases the book offers for download: book/releases/<id>.zip.

    python scripts/make_releases.py            # (re)write every zip
    python scripts/make_releases.py --check    # exit 1 naming the zips that are stale

nbgrader makes the student version: `nbgrader generate_assignment "*"` runs in a temporary
course directory holding a copy of exercises/ and nbgrader_config.py (so no gradebook.db or
release/ folder appears in the repository), and writes release/<id>/: the notebook without
solutions and hidden tests, plus its data files. Each zip holds that folder as <id>/..., so
unzipping gives one folder to open the notebook from.

The zips are deterministic (members sorted, fixed timestamps and permissions), so rewriting
them when nothing changed gives the same bytes. --check compares member names and contents,
not bytes, so a different zlib that compresses differently does not count as stale.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
CONFIG = ROOT / "nbgrader_config.py"
RELEASES = ROOT / "book" / "releases"
# The earliest time a zip can store; any fixed value makes the bytes reproducible.
EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644


def assignments(exercises=EXERCISES):
    """Assignment ids: the folders of exercises/ that hold a notebook named after the folder."""
    return sorted(d.name for d in exercises.iterdir() if (d / f"{d.name}.ipynb").is_file())


def generate(course, exercises=EXERCISES, config=CONFIG):
    """Run nbgrader generate_assignment for every assignment in the course directory `course`
    (created here); return its release/ folder."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copytree(exercises, course / "exercises")
    shutil.copy(config, course / "nbgrader_config.py")
    # nbgrader runs alembic as a command, so the venv's bin/ must come first on PATH. An empty
    # user config folder keeps a developer's ~/.jupyter/nbgrader_config.py out of the release.
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NBGRADER_EXECUTION")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_CONFIG_DIR"] = str(course / ".jupyter")
    done = subprocess.run([str(bin_dir / "nbgrader"), "generate_assignment", "*", "--force"],
                          cwd=course, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return course / "release"


def release_members(folder):
    """{member name: bytes} of a release folder release/<id>/, names "<id>/<relative path>"."""
    return {f"{folder.name}/{p.relative_to(folder).as_posix()}": p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_zip(members, path):
    """Write {name: bytes} to the zip at path, reproducibly: sorted, fixed time and mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3            # Unix, so that external_attr means a file mode
            info.external_attr = (0o100000 | FILE_MODE) << 16
            archive.writestr(info, members[name], compresslevel=9)


def zip_members(path):
    """{member name: bytes} of the zip at path."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def stale(release, out):
    """Problems of the zips in `out` against the fresh release folder: [(file name, reason)]."""
    problems = []
    expected = {f"{d.name}.zip": release_members(d) for d in sorted(release.iterdir()) if d.is_dir()}
    for name, members in expected.items():
        path = out / name
        if not path.exists():
            problems.append((name, "missing"))
            continue
        have = zip_members(path)
        if have.keys() != members.keys():
            extra, lacking = sorted(have.keys() - members.keys()), sorted(members.keys() - have.keys())
            problems.append((name, f"members differ (extra {extra}, missing {lacking})"))
        else:
            changed = sorted(m for m in members if have[m] != members[m])
            if changed:
                problems.append((name, f"content differs: {', '.join(changed)}"))
    for path in sorted(out.glob("*.zip")):
        if path.name not in expected:
            problems.append((path.name, "no such assignment in exercises/"))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a zip is stale; write nothing")
    parser.add_argument("--out", type=Path, default=RELEASES, help=f"folder of the zips (default {RELEASES})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="course-") as tmp:
        release = generate(Path(tmp) / "course")
        made = sorted(d.name for d in release.iterdir() if d.is_dir())
        if made != assignments():
            raise RuntimeError(f"nbgrader released {made}, but exercises/ holds {assignments()}")
        if args.check:
            problems = stale(release, args.out)
            for name, reason in problems:
                print(f"stale: {args.out / name}: {reason}", file=sys.stderr)
            if problems:
                print("run: python scripts/make_releases.py", file=sys.stderr)
                return 1
            print(f"{len(made)} releases up to date in {args.out}")
            return 0
        for name in made:
            write_zip(release_members(release / name), args.out / f"{name}.zip")
            print(f"wrote {args.out / name}.zip")
        for path in sorted(args.out.glob("*.zip")):
            if path.stem not in made:
                path.unlink()
                print(f"removed {path}: no such assignment in exercises/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
