"""Generate exercises/<id>/fixtures.npz (the reference solution's results on the visible cases)
and the data files a notebook ships (Exercise.data, e.g. chapter 8's digits).

A step of `python scripts/regenerate.py`, which rewrites the files that are stale.

The cases are the `examples` of each Task record in tasks/. Every case's
inputs come from a generator seeded by (assignment, function, case index), so the files are
reproducible. Layout of a file: "__cases__" is a JSON list of {function, description, names,
args, outputs (their names), and output or, for invalid arguments, raises and raises_why};
args/output are trees of {"array": key} (an array stored under that key), {"tuple": [...]},
{"list": [...]} and {"literal": repr} (read back with ast.literal_eval). "__hidden__" is a JSON
object {function: sentence}: what the grader's hidden tests of that function cover, generated
from its hidden case grid (hidden_coverage), which a student reads once the visible checks pass.
The notebook reads them with compare.py (autograder/compare.py), numpy only.
"""
import json
import zlib
from pathlib import Path

import numpy as np

import solutions
from autograder.cases import build_cases
from tasks import load

ROOT = Path(__file__).resolve().parent.parent


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


# How the pass message names the situations of autograder.cases.Case.situations, in the order
# it lists them. A hidden grid with a situation missing here fails the tests (test_exercises).
SITUATIONS = {
    "ties": "tied maxima",
    "overlap": "overlapping windows",
    "leftover": "leftover rows or columns",
    "stride": "stride > 1",
    "pad": "padding",
    "pad 0": "pad 0",
    "pair": "a (pad_h, pad_w) pair",
    "dilation": "dilation > 1",
    "odd total": "an odd total of zeros",
    "same": "'same' mode",
    "full": "'full' mode",
    "even kernel": "even kernels",
    "d 1": "d = 1",
    "2-D": "a 2-D array",
    "factor 1": "factor 1",
    "bias": "with biases",
    "no bias": "without biases",
    "NCHW": "NCHW inputs",
    "one group": "one group",
    "a channel per group": "a channel per group",
    "small spread": "a batch with a small spread",
    "default h": "the default h",
    "float32": "float32",
}


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def _and(parts):
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _speed_part(task, case):
    """"a speed test (at least 10x as fast as the grader's loop ... on x (8, 16, 16, 16), ...)"."""
    check = case.check
    # the arrays that fix the work: dout's shape follows from x and w
    shapes = [f"{name} {tuple(arg.shape)}" for name, arg in zip(task.parameters, case.args)
              if isinstance(arg, np.ndarray) and arg.ndim >= 2 and name != "dout"]
    shapes += [f"{name} {value!r}" for name, value in case.kwargs.items()]
    return (f"a speed test (at least {check.ratio:g}x as fast as the grader's loop {check.baseline.__name__}, "
            f"best of {len(check.timing)}, on {', '.join(shapes)})")


def hidden_coverage(assignment, task):
    """What the grader's hidden tests of `task` cover, in one sentence built from its case grid
    (autograder.cases.build_cases): how many cases and the situations they exercise, speed
    tests, outcome tests and the argument checks."""
    cases = build_cases(assignment, 0, {task.name})
    kinds = {kind: [c for c in cases if c.kind == kind] for kind in ("value", "speed", "outcome", "invalid")}
    unknown = {c.kind for c in cases} - set(kinds)
    if unknown:
        raise ValueError(f"{task.name}: hidden cases of kind {sorted(unknown)} have no wording")
    if kinds["outcome"]:
        (case,) = kinds["outcome"]
        return f"The hidden test calls {case.describe()} and scores what it returns on held-out data."
    parts = []
    if kinds["value"]:
        seen = {s for c in kinds["value"] for s in c.situations}
        named = [phrase for situation, phrase in SITUATIONS.items() if situation in seen]
        named += sorted(seen - set(SITUATIONS))
        parts.append(_plural(len(kinds["value"]), "more case") + (f" ({', '.join(named)})" if named else ""))
    parts += [_speed_part(task, case) for case in kinds["speed"]]
    if kinds["invalid"]:
        whys = "; ".join(case.check.why for case in kinds["invalid"])
        parts.append(f"{_plural(len(kinds['invalid']), 'argument check')} ({whys})")
    return f"The hidden tests run {_and(parts)}."


def _raises_value_error(reference, args):
    try:
        reference(*args)
    except ValueError:
        return True
    return False


def fixtures(assignment):
    """{key: array} of one assignment's fixture file, "__cases__" and "__hidden__" included."""
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
                if not _raises_value_error(reference, tuple(_copy(a) for a in args)):
                    raise ValueError(f"{graded.name}: the reference does not raise ValueError on the invalid "
                                     f"example {case.description!r}")
                stored.update(raises="ValueError", raises_why=case.invalid)
            else:
                stored["output"] = _encode(reference(*(_copy(a) for a in args)), f"{key}.out", arrays)
            cases.append(stored)
    arrays["__cases__"] = np.array(json.dumps(cases, indent=1))
    arrays["__hidden__"] = np.array(json.dumps({graded.name: hidden_coverage(assignment, graded)
                                                for graded in load(assignment).graded}, indent=1))
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
