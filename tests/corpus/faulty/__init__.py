"""Faulty submissions: broken files and hostile or careless code the grader must survive.

FAULTY = {name: Faulty}: how to write the submission and what it must earn. Each one is the
correct submission of ASSIGNMENT with one thing broken, so that `lost` (the functions that
must lose points) is exact and every other function must keep full marks.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..build import build_notebook, correct_cells

ASSIGNMENT = "ch03_padding_stride"
SOURCES = Path(__file__).resolve().parent


@dataclass
class Faulty:
    """write(path) creates the submission file. lost: functions that must earn less than full
    marks (None: the whole submission scores 0). messages: {function: words, or a tuple of
    alternative words, one of its failure messages must contain} (case-insensitive).
    earns_nothing: the lost functions earn 0."""
    write: object
    lost: tuple | None
    messages: dict = field(default_factory=dict)
    earns_nothing: bool = True


def _cell_source(name):
    """Source of a hostile cell (or function body), kept as a .txt file: it is not a module."""
    return (SOURCES / f"{name}.txt").read_text()


def _with(**replaced):
    def write(path):
        cells = correct_cells(ASSIGNMENT)
        cells.update(replaced)
        return build_notebook(cells, ASSIGNMENT, path)
    return write


def _raw(text):
    def write(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
        return Path(path)
    return write


def _without_nbgrader_metadata(path):
    build_notebook(correct_cells(ASSIGNMENT), ASSIGNMENT, path)
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        cell["metadata"].pop("nbgrader", None)
    nb["metadata"].pop("nbgrader", None)
    Path(path).write_text(json.dumps(nb, indent=1, sort_keys=True) + "\n")
    return Path(path)


def _prepend(function, text):
    return correct_cells(ASSIGNMENT)[function].replace(f"def {function}(", f"{text}def {function}(", 1)


def _body(function, body):
    """The correct cell with `body` run at the start of the function."""
    source = correct_cells(ASSIGNMENT)[function]
    head, _, rest = source.partition('"""\n')  # after the one-line docstring
    return f"{head}\"\"\"\n{body}{rest}"


FAULTY = {
    "corrupt_json": Faulty(_raw('{"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "zero_p'),
                           None),
    "empty_file": Faulty(_raw(""), None),
    # notebook editors that drop cell metadata do this; the message must point at the metadata
    "no_nbgrader_metadata": Faulty(_without_nbgrader_metadata, None, {"zero_pad": ("metadata", "grade_id")}),
    "missing_cell": Faulty(_with(receptive_field=None), ("receptive_field",),
                           {"receptive_field": "missing_function"}),
    "syntax_error": Faulty(_with(zero_pad=correct_cells(ASSIGNMENT)["zero_pad"].replace(
        "ph = pw = pad", "ph = pw = pad)")), ("zero_pad",), {"zero_pad": "SyntaxError"}),
    "raises_at_import": Faulty(_with(conv_output_size=_prepend(
        "conv_output_size", 'table = np.loadtxt("my_output_sizes.csv")\n\n\n')), ("conv_output_size",),
        {"conv_output_size": "FileNotFoundError"}),
    "infinite_loop": Faulty(_with(receptive_field=_body("receptive_field", "    while True:\n        pass\n")),
                            ("receptive_field",), {"receptive_field": "timeout"}),
    # touching gigabytes can take longer than the per-call timeout (page faults are slow on some
    # machines), so this one may end either way; the untouched reservation must hit the limit
    "memory_bomb": Faulty(_with(zero_pad=_body("zero_pad", _cell_source("memory_bomb"))), ("zero_pad",),
                          {"zero_pad": ("memory", "timeout")}),
    "address_space_bomb": Faulty(_with(corr1d=_body("corr1d", _cell_source("address_space_bomb"))), ("corr1d",),
                                 {"corr1d": "memory"}),
    "sys_exit": Faulty(_with(conv_output_size=_body("conv_output_size", "    import sys\n    sys.exit(0)\n")),
                       ("conv_output_size",), {"conv_output_size": "exit"}),
    "os_exit": Faulty(_with(zero_pad=_body("zero_pad", "    import os\n    os._exit(0)\n")), ("zero_pad",),
                      {"zero_pad": "exit"}),
    "patches_numpy": Faulty(_with(conv_output_size=correct_cells(ASSIGNMENT)["conv_output_size"]
                                  + "\n\n" + _cell_source("patch_numpy"),
                                  zero_pad=_cell_source("zero_pad_mutating"),
                                  corr1d=_cell_source("corr1d_zeros")),
                            ("zero_pad", "corr1d"), {"zero_pad": "mutates_input"}),
    "reads_course_code": Faulty(_with(conv_output_size=_cell_source("reads_course_code")), ("conv_output_size",)),
    "prints_20mb": Faulty(_with(same_padding=_cell_source("print_20mb") + "\n\n"
                                + _body("same_padding", '    print("same_padding called " * 1000)\n')), ()),
    "stderr_and_warnings": Faulty(_with(corr1d=_body("corr1d", _cell_source("stderr_and_warnings"))), ()),
}
