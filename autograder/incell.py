"""The grader's cases run in-process on a function object: nbgrader's hidden test cells.

Used only when an instructor runs the SOURCE notebook (the reference function, trusted
code); students' scores always come from the sandboxed grader.
"""
from threadpoolctl import threadpool_limits

from .cases import build_cases
from .grading import CaseRunner, InProcessCaller


def check(assignment, function, fn, seed=0):
    """Run every case of `function` on fn, print each diagnosis, return the points earned."""
    cases = build_cases(assignment, seed, functions={function})
    if not cases:
        raise ValueError(f"{assignment} grades no function called {function!r}")
    runner = CaseRunner(InProcessCaller({function: fn}))
    # One BLAS thread, as in the sandboxed worker: on a busy 2-core machine a threaded matmul
    # stalls and the im2col speed cases would fail honest code.
    with threadpool_limits(1):
        results = [runner.run(case) for case in cases]
    # rounded as SubmissionResult rounds: cases carry fractions of points (0.8 + ... + 0.2)
    earned = round(sum(r.points for r in results), 6)
    total = round(sum(r.max_points for r in results), 6)
    print(f"{function}: {earned:g} / {total:g} points")
    for result in results:
        if not result.passed:
            print(f"  - {result.message}")
    return earned
