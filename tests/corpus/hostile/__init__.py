"""Hostile submissions: what a dishonest student pastes into solution cells (issue 11).

One attack per finding of issue 11. The cells are kept as .txt files (they are not modules)
and are written to be generic: they find the grader's pipe by trying file descriptors 3..64
and speak its framing inline (length-prefixed JSON header plus .npy payloads), with objects
found through gc only as a second route; they import nothing of the grader.

HOSTILE = {name: Hostile}: the finding it reproduces, the assignment, and write(path) that
builds the submission notebook. tests/test_hostile.py states what must hold against each.
"""
import json
from dataclasses import dataclass
from pathlib import Path

from ..build import build_notebook, correct_cells

SOURCES = Path(__file__).resolve().parent


def cell_source(name):
    """The source of a hostile cell (or helper), kept as <name>.txt."""
    return (SOURCES / f"{name}.txt").read_text()


def channel():
    """The raw callback channel: framing, fd discovery, _h_send, _h_request, _h_ask."""
    return cell_source("channel")


def oracle_cells(assignment):
    """{function: source} with no solution code at all: every graded function asks the
    grader's callback channel for the answer of its own name (cached per input)."""
    helper = channel() + "\n\n" + cell_source("oracle") + "\n\n"
    return {name: helper + f"def {name}(*args, **kwargs):\n    return _h_oracle({name!r}, args, kwargs)\n"
            for name in correct_cells(assignment)}


def _with(assignment, **replaced):
    """Write the correct submission of assignment with some cells replaced."""
    def write(path):
        cells = correct_cells(assignment)
        unknown = set(replaced) - set(cells)
        if unknown:
            raise ValueError(f"{assignment} has no cell {sorted(unknown)}")
        cells.update(replaced)
        return build_notebook(cells, assignment, path)
    return write


def _oracle(assignment):
    def write(path):
        return build_notebook(oracle_cells(assignment), assignment, path)
    return write


def _claiming(assignment, claimed):
    """The correct submission of assignment whose notebook metadata claims another assignment."""
    def write(path):
        build_notebook(correct_cells(assignment), assignment, path)
        nb = json.loads(Path(path).read_text())
        nb["metadata"]["nbgrader"]["assignment"] = claimed
        Path(path).write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        return Path(path)
    return write


@dataclass
class Hostile:
    """finding: the issue's finding number; write(path) builds the notebook; attacked: the
    functions whose cells are hostile (every other one is the correct corpus code)."""
    finding: int
    assignment: str
    write: object
    attacked: tuple
    doc: str


HOSTILE = {
    **{f"oracle_{a}": Hostile(1, a, _oracle(a), tuple(correct_cells(a)),
                              "no code; every function asks the grader for its own answer")
       for a in ("ch02_convolution", "ch03_padding_stride", "ch07_im2col")},
    "jam": Hostile(4, "ch02_convolution", _with("ch02_convolution", convolve2d=channel() + "\n\n" + cell_source("jam")),
                   ("convolve2d",), "asks for a 72 MB answer and never reads it"),
    "amplify_cpu": Hostile(5, "ch02_convolution",
                           _with("ch02_convolution", convolve2d=channel() + "\n\n" + cell_source("amplify_cpu")),
                           ("convolve2d",), "asks the grader for minutes of corr2d"),
    "amplify_memory": Hostile(5, "ch07_im2col",
                              _with("ch07_im2col",
                                    conv_forward_im2col=channel() + "\n\n" + cell_source("amplify_memory")),
                              ("conv_forward_im2col",), "asks the grader for a 4 GiB im2col, 20 times"),
    "speed_forgery": Hostile(6, "ch07_im2col", _with("ch07_im2col", conv_forward_im2col=cell_source("speed_forgery")),
                             ("conv_forward_im2col",), "per-value loop; patches the clocks and the baseline"),
    "scipy_corr2d": Hostile(7, "ch02_convolution", _with("ch02_convolution", corr2d=cell_source("scipy_corr2d")),
                            ("corr2d",), "corr2d by scipy.signal.correlate2d"),
    "forged_feedback": Hostile(9, "ch01_motivation",
                               _with("ch01_motivation", dense_param_count=cell_source("forged_feedback")),
                               ("dense_param_count",), "prints and raises Markdown headings"),
    "grader_error_spoof": Hostile(9, "ch01_motivation",
                                  _with("ch01_motivation", dense_param_count=cell_source("grader_error_spoof")),
                                  ("dense_param_count",), "an exception message with [grader_error]"),
    "claims_other_assignment": Hostile(9, "ch01_motivation", _claiming("ch01_motivation", "ch03_padding_stride"),
                                       (), "a ch01 notebook whose metadata says ch03"),
}
