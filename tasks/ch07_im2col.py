"""Chapter 7, im2col: im2col, col2im, and the fast conv layer (values and speed).

Everything the course knows about each graded function is its Task record below; the
notebook's cells are EXERCISE, in order.
"""
import textwrap

import numpy as np

from autograder.baselines import BASELINES
from autograder.cases import Case, normal, only_where_windows_overlap, window_coverage
from autograder.checks import Speed
import solutions as ref

from . import CONV_BACKWARD_EXAMPLES, CONV_FORWARD_EXAMPLES, Code, Example, Exercise, Markdown, Task, randn
from .ch02_convolution import (CONV_FORWARD_EXPLAINED, CONV_FORWARD_MISTAKES, CONV_GRID, conv_case_name,
                               conv_forward_cases, conv_situations)
from .ch06_backprop import CONV_BACKWARD_EXPLAINED, CONV_BACKWARD_MISTAKES, conv_backward_cases


SPEED_X, SPEED_W = (8, 16, 16, 16), (16, 16, 3, 3)


# The speed rule: at least this many times faster than the per-output-value baseline.
SPEED_RATIO = 10.0


def _row_order(x, HH, WW, stride=1, pad=0):
    cols = ref.im2col(x, HH, WW, stride, pad)
    C = x.shape[1]
    return cols.reshape(C, HH, WW, -1).transpose(1, 2, 0, 3).reshape(cols.shape)


def _col_order(x, HH, WW, stride=1, pad=0):
    cols = ref.im2col(x, HH, WW, stride, pad)
    N = x.shape[0]
    Hout, Wout = (x.shape[2] + 2 * pad - HH) // stride + 1, (x.shape[3] + 2 * pad - WW) // stride + 1
    return cols.reshape(-1, N, Hout, Wout).transpose(0, 2, 3, 1).reshape(cols.shape)


def _col2im_assign(cols, x_shape, HH, WW, stride=1, pad=0):
    N, C, H, W = x_shape
    Hout, Wout = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    blocks = cols.reshape(C, HH, WW, N, Hout, Wout)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for i in range(Hout):
        for j in range(Wout):
            dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] = \
                blocks[:, :, :, :, i, j].transpose(3, 0, 1, 2)
    return dxp[:, :, pad:pad + H, pad:pad + W]


def _col2im_overlap(cols, x_shape, HH, WW, stride=1, pad=0):
    return only_where_windows_overlap(ref.col2im(cols, x_shape, HH, WW, stride, pad),
                                      window_coverage(x_shape[2], x_shape[3], HH, WW, stride, pad))


def _im2col(rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID:
        x = normal(rng, x_shape, dtype)
        cases.append(Case("im2col", conv_case_name(x_shape, w_shape, stride, pad, dtype),
                          (x, w_shape[2], w_shape[3]), {"stride": stride, "pad": pad},
                          mistakes=[("row_order", _row_order), ("col_order", _col_order)], outputs=("cols",),
                          situations=conv_situations(stride, pad, dtype)))
    return cases


def _col2im(rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID:
        HH, WW = w_shape[2:]
        Hout, Wout = (x_shape[2] + 2 * pad - HH) // stride + 1, (x_shape[3] + 2 * pad - WW) // stride + 1
        cols = normal(rng, (x_shape[1] * HH * WW, x_shape[0] * Hout * Wout), dtype)
        cases.append(Case("col2im", conv_case_name(x_shape, w_shape, stride, pad, dtype),
                          (cols, x_shape, HH, WW), {"stride": stride, "pad": pad}, crop=pad, outputs=("dx",),
                          mistakes=[("col2im_assign", _col2im_assign), ("col2im_assign", _col2im_overlap)],
                          situations=conv_situations(stride, pad, dtype)))
    return cases


def _speed_args(function, rng):
    args = (normal(rng, SPEED_X), normal(rng, SPEED_W), normal(rng, SPEED_W[:1]))
    if function == "conv_backward_im2col":
        args = (normal(rng, (SPEED_X[0], SPEED_W[0]) + SPEED_X[2:]),) + args
    return args


def speed_case(function, rng):
    """The contract's speed test: >= SPEED_RATIO times the per-output-value baseline, best of 3
    timings, each on new inputs."""
    args = _speed_args(function, rng)
    check = Speed(SPEED_RATIO, BASELINES[function], timing=[_speed_args(function, rng) for _ in range(3)])
    forward = function == "conv_forward_im2col"
    return Case(function, "speed_x8x16x16x16_w16x16x3x3_s1_p1", args, {"stride": 1, "pad": 1}, check=check,
                outputs=("out",) if forward else ("dx", "dw", "db"),
                mistakes=CONV_FORWARD_MISTAKES if forward else CONV_BACKWARD_MISTAKES,
                situations=("speed", "pad"), reference=getattr(ref, function))


# The visible speed check of the two conv functions: first the fixture checks, then a timing,
# best of 3, against the per-output-value loop of autograder/baselines.py (written out here for
# stride 1, the only stride the speed rule times: the release cannot import the course's
# packages). Only the forward loop is shipped: a backward loop would be most of chapter 6's
# conv_backward_naive, and every release is public. The backward baseline makes two numpy
# calls per output value where the forward loop makes one, and the loops' time is those calls'
# overhead, so the backward check estimates its baseline as twice the forward loop's time.
# Below the rule it times again, up to 5 times, and fails only when even the best ratio is
# clearly below the rule, under SPEED_RATIO / 2: a busy machine (where numpy's BLAS threads wait
# for each other) does not fail correct code.
FORWARD_LOOP = """
def _loop_conv_forward(x, w, b, pad):
    \"\"\"The grader's baseline at stride 1: out[n, f, i, j] = np.sum(window * w[f]) + b[f],
    one np.sum per output value.\"\"\"
    padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    F, _, HH, WW = w.shape
    Hout, Wout = padded.shape[2] - HH + 1, padded.shape[3] - WW + 1
    out = np.empty((x.shape[0], F, Hout, Wout), dtype=x.dtype)
    for n in range(out.shape[0]):
        for f in range(F):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, f, i, j] = np.sum(padded[n, :, i:i + HH, j:j + WW] * w[f]) + b[f]
    return out
"""

SPEED_CHECK = '''
# Visible checks: your {name} against the reference solution's results,
# then its speed against the loop the grader compares it with (one numpy operation per output
# value). The grader times your function with one BLAS thread; here numpy may use several.
import os
import time

check_against_fixtures({name})


{loop}


def _speed_ratio_{name}():
    """Best of 3 for {name} and for the loop, each on new inputs of the graded shapes."""
    rng = np.random.default_rng(7)
    fast = slow = float("inf")
    for _ in range(3):
        x, w = rng.standard_normal({x}), rng.standard_normal({w})
        args = {args}
        start = time.perf_counter()
        {name}(*args, stride=1, pad=1)
        fast = min(fast, time.perf_counter() - start)
        start = time.perf_counter()
        {loop_name}(*args[-3:], pad=1)
        slow = min(slow, time.perf_counter() - start)
    return {loop_calls} * slow / max(fast, 1e-9)


def _check_speed_{name}(rule={rule!r}, floor={floor!r}, rounds={rounds!r}):
    """Say how much faster than the loop it is. Below the rule, time again (the machine may be
    busy) up to `rounds` times; fail only when even the best stays clearly below: under `floor`."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        return  # nbgrader's run: the hidden tests time it as the grader does
    advice = {advice}
    try:
        ratio, timed = _speed_ratio_{name}(), 1
        while ratio < rule and timed < rounds:
            ratio, timed = max(ratio, _speed_ratio_{name}()), timed + 1
    except Exception as error:
        return report(f"{name} raised {{type(error).__name__}} on x {x}, "
                      f"w {w}: {{error}}")
    said = (f"{name} is {estimated}{{ratio:.1f}}x faster than the {loop_what} here "
            f"(the grader requires {{rule:g}}x on x {x}, w {w})")
    if ratio >= rule:
        print(said + ".")
    elif ratio >= floor:
        print(f"{{said}}: below it here, at the best of {{timed}} rounds of 3 timings, but timings "
              f"vary on a busy machine, so this check fails only below {{floor:g}}x. If it stays "
              f"below {{rule:g}}x on an idle machine, {{advice}}.")
    else:
        report(f"{{said}}: clearly below it (this check fails below {{floor:g}}x, half the rule, "
               f"at the best of {{timed}} rounds of 3 timings): {{advice}}.")


_check_speed_{name}()
'''


def _string_literal(text, indent, width=88):
    """text as a Python string literal, split over lines of at most `width` characters."""
    chunks = textwrap.wrap(text, width - indent - 3, drop_whitespace=False)
    if len(chunks) == 1:
        return repr(text)
    return "(" + ("\n" + " " * (indent + 1)).join(repr(chunk) for chunk in chunks) + ")"


def speed_check(function, advice):
    """The visible check of an im2col conv function: fixtures, then its speed against the loop."""
    loop = FORWARD_LOOP.strip()
    backward = function == "conv_backward_im2col"
    args = f"(x, w, rng.standard_normal({SPEED_W[0]}))"
    if function == "conv_backward_im2col":   # dout first, of the output's shape
        args = f"(rng.standard_normal({(SPEED_X[0], SPEED_W[0]) + SPEED_X[2:]}), x, w, rng.standard_normal({SPEED_W[0]}))"
    return SPEED_CHECK.format(name=function, loop=loop, loop_name=loop.split("(")[0].removeprefix("def "),
                              args=args, x=SPEED_X, w=SPEED_W, rule=SPEED_RATIO, floor=SPEED_RATIO / 2, rounds=5,
                              advice=_string_literal(advice, len("    advice = ")), loop_calls=2 if backward else 1,
                              estimated="about " if backward else "",
                              loop_what="backward loop (estimated as twice the forward loop above)" if backward
                              else "loop")


FORWARD_TOO_SLOW = 'use one matrix product over im2col columns instead of Python loops over output positions'
BACKWARD_TOO_SLOW = ('compute dw and dx with matrix products over im2col columns (and col2im) instead of Python '
                     'loops over output positions')


EXERCISE = Exercise(
    assignment="ch07_im2col",
    title="im2col: convolution as one matrix product",
    intro="""
A Python loop per output value is slow. `im2col` copies every window of the input into a
column of one big matrix, so that the whole convolution becomes a single matrix product that
numpy hands to an optimised BLAS routine; `col2im`, its adjoint, brings gradients back. The
two conv functions here are graded for speed too: at least 10 times faster than the
per-output-value loop shown below, on `x (8, 16, 16, 16)`, `w (16, 16, 3, 3)`, stride 1, pad 1.
""",
    cells=(
        Task(
            name="im2col",
            points=4,
            task="""
Zero-pad `x` by `pad`, then lay every `HH x WW` window out as a column:

`cols[(c*HH + i)*WW + j, (n*Hout + oh)*Wout + ow] = xpad[n, c, oh*stride + i, ow*stride + j]`,

so rows are ordered `(c, i, j)` and columns `(n, oh, ow)`, both in C order, and `cols` has
shape `(C*HH*WW, N*Hout*Wout)`. With this order `w.reshape(F, -1) @ cols` is the convolution.
Avoid a Python loop over output positions: loop over the `HH*WW` kernel offsets at most, or use
`np.lib.stride_tricks.sliding_window_view`.
""",
            examples=(
                Example("x (1, 1, 3, 3), 2x2 windows", lambda r: (randn(r, 1, 1, 3, 3), 2, 2)),
                Example("x (2, 3, 5, 4), 3x2 windows, stride 2, pad 1", lambda r: (randn(r, 2, 3, 5, 4), 3, 2, 2, 1)),
                Example("float32 x (2, 2, 4, 4), 3x3 windows, pad 1",
                     lambda r: (randn(r, 2, 2, 4, 4, dtype="float32"), 3, 3, 1, 1)),
            ),
            hidden=_im2col,
            mistakes={
                'row_order': 'rows are ordered (i, j, c): the row index is (c, i, j) in C order',
                'col_order': 'columns are ordered (oh, ow, n): the column index is (n, oh, ow) in C order',
                "shape_hw_swapped": "the matrix is transposed: cols is (C*HH*WW, N*Hout*Wout), one column per"
                                    " window",
            },
        ),
        Task(
            name="col2im",
            points=4,
            task="""
`col2im` is the adjoint (transpose) of `im2col`: for every entry of `cols`, add it to the
position of the padded input it was copied from; where windows overlap the contributions add
up; finally crop the padding and return an array of shape `x_shape`. (Adjoint means
`np.sum(im2col(x, ...) * cols) == np.sum(x * col2im(cols, x.shape, ...))` for all `x`, `cols`.)
""",
            examples=(
                Example("x_shape (1, 1, 3, 3), 2x2 windows", lambda r: (randn(r, 4, 4), (1, 1, 3, 3), 2, 2)),
                Example("x_shape (2, 3, 5, 4), 3x2 windows, stride 2, pad 1",
                     lambda r: (randn(r, 18, 2 * 3 * 3), (2, 3, 5, 4), 3, 2, 2, 1)),
            ),
            hidden=_col2im,
            mistakes={
                "col2im_assign": "matches overwriting where windows overlap: col2im adds overlapping values "
                                 "up",
            },
        ),
        Task(
            name="conv_forward_im2col",
            points=5,
            task="""
The conv layer of chapter 2 (same inputs, same output), computed as
`w.reshape(F, -1) @ im2col(x, HH, WW, stride, pad)` plus the bias, reshaped from
`(F, N*Hout*Wout)` to `(N, F, Hout, Wout)`. Graded for speed as well as correctness.
""",
            examples=CONV_FORWARD_EXAMPLES,
            visible=speed_check("conv_forward_im2col", FORWARD_TOO_SLOW),
            hidden=lambda rng: conv_forward_cases("conv_forward_im2col", rng) + [
                speed_case("conv_forward_im2col", rng)],
            mistakes={**CONV_FORWARD_EXPLAINED, "too_slow": FORWARD_TOO_SLOW},
        ),
        Task(
            name="conv_backward_im2col",
            points=5,
            task="""
Backward pass of `conv_forward_im2col`, returning `(dx, dw, db)` as in chapter 6. With
`cols = im2col(x, ...)` and `dout_row = dout` rearranged to `(F, N*Hout*Wout)` (columns in
`(n, oh, ow)` order): `dw = (dout_row @ cols.T).reshape(w.shape)`,
`dx = col2im(w.reshape(F, -1).T @ dout_row, x.shape, HH, WW, stride, pad)`,
`db = dout.sum(axis=(0, 2, 3))`. Graded for speed as well as correctness.
""",
            examples=CONV_BACKWARD_EXAMPLES,
            visible=speed_check("conv_backward_im2col", BACKWARD_TOO_SLOW),
            hidden=lambda rng: conv_backward_cases("conv_backward_im2col", rng) + [
                speed_case("conv_backward_im2col", rng)],
            mistakes={**CONV_BACKWARD_EXPLAINED, "too_slow": BACKWARD_TOO_SLOW},
        ),
        Code("""
# Naive vs im2col on the graded benchmark: x (8, 16, 16, 16), w (16, 16, 3, 3), stride 1, pad 1.
# The baseline is the grader's: one np.sum(window * w[f]) per output value.
import time


def conv_per_output_value(x, w, b, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, F, HH, WW = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    Hout, Wout = xp.shape[2] - HH + 1, xp.shape[3] - WW + 1
    out = np.empty((N, F, Hout, Wout))
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    out[n, f, i, j] = np.sum(xp[n, :, i:i + HH, j:j + WW] * w[f]) + b[f]
    return out


def best_of(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


rng = np.random.default_rng(0)
x, w, b = rng.standard_normal((8, 16, 16, 16)), rng.standard_normal((16, 16, 3, 3)), rng.standard_normal(16)
try:
    fast, out = best_of(3, lambda: conv_forward_im2col(x, w, b, 1, 1))
except NotImplementedError:
    print("Implement im2col and conv_forward_im2col to time them.")
else:
    slow, expected = best_of(1, lambda: conv_per_output_value(x, w, b, 1))
    print(f"per output value: {slow * 1e3:8.1f} ms\\nim2col:           {fast * 1e3:8.1f} ms  "
          f"({slow / fast:.0f}x faster; the grader asks for 10x)")
    print("same result:", np.allclose(out, expected))
"""),
    ),
)
