"""Run corpus cells in-process, the way the grader's worker runs solution cells."""
import numpy as np


def exec_cells(cells):
    """Execute {grade_id: source} in order in one namespace that starts with `np`."""
    namespace = {"np": np, "__name__": "__submission__"}
    for grade_id, source in cells.items():
        exec(compile(source, f"<cell {grade_id}>", "exec"), namespace)
    return namespace
