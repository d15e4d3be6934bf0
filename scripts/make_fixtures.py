"""Generate exercises/<id>/fixtures.npz (the reference solution's results on the visible cases)
and the data files a notebook ships (Exercise.data, e.g. chapter 8's digits).

    python scripts/make_fixtures.py            # rewrite the fixture files that are stale
    python scripts/make_fixtures.py --check    # exit 1 if a committed fixture file is stale

The cases are the `examples` of each Task record in tasks/. Every case's
inputs come from a generator seeded by (assignment, function, case index), so the files are
reproducible. Layout of a file: "__cases__" is a JSON list of {function, description, names,
args, outputs (their names), and output or, for invalid arguments, raises and raises_why};
args/output are trees of {"array": key} (an array stored under that key), {"tuple": [...]},
{"list": [...]} and {"literal": repr} (read back with ast.literal_eval). The notebook reads
them with compare.py (autograder/compare.py), numpy only.
"""
import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import solutions  # noqa: E402
from tasks import ASSIGNMENTS, load  # noqa: E402


def _encode(value, key, arrays):
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"array": key}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, f"{key}.{i}", arrays) for i, v in enumerate(value)]}
    if isinstance(value, list) and any(isinstance(v, np.ndarray) for v in value):
        return {"list": [_encode(v, f"{key}.{i}", arrays) for i, v in enumerate(value)]}
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    if type(value) not in (int, float, bool, str, list, tuple) or eval(text, {}) != value:
        raise TypeError(f"{key}: cannot store {value!r} as a literal")
    return {"literal": text}


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def output_names(task):
    """The names of a task's outputs, as its hidden cases name them: ("dx", "dw", "db")."""
    hidden = task.hidden(np.random.default_rng(0)) if task.hidden else []
    return list(hidden[0].outputs) if hidden else ["out"]


def fixtures(assignment):
    """{key: array} of one assignment's fixture file, "__cases__" included."""
    arrays, cases = {}, []
    for graded in load(assignment).graded:
        for index, case in enumerate(graded.examples):
            reference = getattr(solutions, graded.name)
            rng = np.random.default_rng(zlib.crc32(f"{assignment}/{graded.name}/{index}".encode()))
            args = tuple(case.args(rng))
            if len(args) > len(graded.parameters):
                raise ValueError(f"{graded.name}: case {case.description!r} has too many arguments")
            key = f"{graded.name}.{index}"
            stored = {
                "function": graded.name, "description": case.description,
                "names": graded.parameters[:len(args)],
                "args": [_encode(a, f"{key}.{name}", arrays) for name, a in zip(graded.parameters, args)],
                "outputs": output_names(graded),
            }
            if case.invalid:
                stored.update(raises="ValueError", raises_why=case.invalid)
            else:
                stored["output"] = _encode(reference(*(_copy(a) for a in args)), f"{key}.out", arrays)
            cases.append(stored)
    arrays["__cases__"] = np.array(json.dumps(cases, indent=1))
    return arrays


def files(assignment):
    """{path: () -> {key: array}}: fixtures.npz and the data files the notebook ships."""
    folder = ROOT / "exercises" / assignment
    made = {folder / "fixtures.npz": lambda: fixtures(assignment)}
    made.update({folder / name: build for name, build in load(assignment).data.items()})
    return made


def differs(path, build):
    """A reason why the committed file differs from a fresh build, or None."""
    if not path.exists():
        return "missing"
    fresh = build()
    with np.load(path) as stored:
        if set(stored.files) != set(fresh):
            return f"keys differ: {sorted(set(stored.files) ^ set(fresh))}"
        for key, value in fresh.items():
            old = stored[key]
            if old.dtype != value.dtype or old.shape != value.shape:
                return f"{key} differs in dtype or shape"
            # a refactor of solutions/ may move results by rounding: that is not stale
            same = (np.allclose(old, value, rtol=1e-9, atol=1e-12) if value.dtype.kind == "f"
                    else np.array_equal(old, value))
            if not same:
                return f"{key} differs"
    return None


def write(path, build):
    """Write the .npz file at path from build() -> {key: array}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **build())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    args = parser.parse_args(argv)
    stale = []
    for assignment in args.assignments:
        for path, build in files(assignment).items():
            reason = differs(path, build)
            if reason is None:
                continue
            if args.check:
                stale.append(f"{path.relative_to(ROOT)}: {reason}")
                continue
            write(path, build)
            print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes): {reason}")
    if stale:
        print("stale (run python scripts/make_fixtures.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
