"""One realistic student mistake per catalogue id of AUTOGRADER_API.md, as data.

Each chapter module holds MUTANTS = {name: (function, catalogue_id, source)}: the submission
is the correct one of that assignment with the cell of `function` replaced by `source`.
Most mistakes are small edits of the correct cell, written with edit() so they stay next to
the code they break.
"""
import importlib

from ..build import ASSIGNMENTS, correct_cells


def edit(assignment, function, *replacements):
    """The correct cell of `function` with each (old, new) applied; old must occur once."""
    source = correct_cells(assignment)[function]
    for old, new in replacements:
        if source.count(old) != 1:
            raise ValueError(f"{old!r} occurs {source.count(old)} times in {assignment}.{function}")
        source = source.replace(old, new)
    return source


def mutants(assignment):
    """MUTANTS of one assignment."""
    return importlib.import_module(f"{__name__}.{assignment}").MUTANTS


def all_mutants():
    """{(assignment, name): (function, catalogue_id, source)} over every assignment."""
    return {(a, name): m for a in ASSIGNMENTS for name, m in mutants(a).items()}


def mutant_cells(assignment, name):
    """The cells of the mutated submission: correct cells, one replaced."""
    function, _, source = mutants(assignment)[name]
    cells = correct_cells(assignment)
    cells[function] = source
    return cells
