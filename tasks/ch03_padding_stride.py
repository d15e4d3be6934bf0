"""Chapter 3, padding and stride: output sizes, same padding, zero_pad, corr1d, receptive fields.

Everything the course knows about each graded function is its Task record below; the
notebook's cells are EXERCISE, in order.
"""
import math

import numpy as np

from autograder.cases import Case, normal
import solutions as ref

from . import Code, Example, Exercise, Markdown, Task, randn


def _output_size(rng):
    # stride > 1 in two cases, both inexact divisions (rounding up shows there), pad > 0 in
    # three, dilation > 1 in two: each weighs about as much as the others.
    grid = [(32, 3, 1, 1, 1), (7, 2, 2, 0, 1), (10, 4, 3, 1, 1), (15, 3, 1, 2, 2), (9, 3, 1, 0, 3), (12, 5, 1, 0, 1)]

    def ceil(n, k, stride=1, pad=0, dilation=1):
        return math.ceil((n + 2 * pad - dilation * (k - 1) - 1) / stride) + 1

    def no_plus_one(n, k, stride=1, pad=0, dilation=1):
        return (n + 2 * pad - dilation * (k - 1) - 1) // stride

    return [Case("conv_output_size", f"n{n}_k{k}_s{s}_p{p}_d{d}", (n, k),
                 {"stride": s, "pad": p, "dilation": d},
                 mistakes=[("output_size_ceil", ceil), ("output_size_no_plus_one", no_plus_one)],
                 situations=("stride",) * (s > 1) + ("pad",) * (p > 0) + ("dilation",) * (d > 1))
            for n, k, s, p, d in grid]


def _same_padding(rng):
    # an odd total dilation*(k-1), whose extra zero goes after, in half the cases
    grid = [(3, 1), (4, 1), (5, 2), (2, 3), (6, 1), (7, 1)]

    def extra_before(k, dilation=1):
        return tuple(reversed(ref.same_padding(k, dilation)))

    return [Case("same_padding", f"k{k}_d{d}", (k,), {"dilation": d}, mistakes=[("extra_before", extra_before)],
                 situations=("odd total",) * (d * (k - 1) % 2) + ("dilation",) * (d > 1))
            for k, d in grid]


def _zero_pad(rng):
    grid = [((2, 3, 4, 5), 1, np.float64), ((1, 2, 3, 6), (2, 1), np.float64),
            ((2, 1, 3, 3), 0, np.float64), ((1, 2, 5, 4), 2, np.float32)]

    def pads_all_axes(x, pad):
        return np.pad(x, pad if isinstance(pad, int) else max(pad))

    return [Case("zero_pad", f"x{'x'.join(map(str, s))}_pad{p}_{np.dtype(dt)}", (normal(rng, s, dt), p),
                 mistakes=[("pads_all_axes", pads_all_axes)],
                 situations=("pair",) * isinstance(p, tuple) + ("pad 0",) * (p == 0)
                 + ("float32",) * (np.dtype(dt) == np.float32))
            for s, p, dt in grid]


def _corr1d_padded(x, k, before, after):
    return ref.corr1d(np.pad(x, (before, after)), k, "valid")


def _same_extra_before(x, k, mode):
    before, after = ref.same_padding(len(k))
    return _corr1d_padded(x, k, after, before) if mode == "same" else ref.corr1d(x, k, mode)


def _full_pads_k(x, k, mode):
    return _corr1d_padded(x, k, len(k), len(k)) if mode == "full" else ref.corr1d(x, k, mode)


def _corr1d(rng):
    grid = [(9, 3, "valid"), (8, 4, "same"), (7, 3, "same"), (6, 2, "full"), (10, 3, "full")]
    return [Case("corr1d", f"x{n}_k{m}_{mode}", (normal(rng, (n,)), normal(rng, (m,)), mode),
                 mistakes=[("same_extra_before", _same_extra_before), ("full_pads_k", _full_pads_k)],
                 situations=(mode,) * (mode != "valid") + ("even kernel",) * (m % 2 == 0))
            for n, m, mode in grid]


def _receptive_field(rng):
    grid = [[(3, 1), (3, 1), (3, 1)], [(7, 2), (3, 2), (3, 1), (5, 2)], [(5, 1), (2, 2), (3, 3)],
            [(3, 2), (3, 2), (3, 2)]]

    def ignores_stride(layers):
        return list(np.cumsum([layers[0][0]] + [k - 1 for k, _ in layers[1:]]).tolist())

    def multiplies_kernels(layers):
        return list(np.cumprod([k for k, _ in layers]).tolist())

    return [Case("receptive_field", "_".join(f"k{k}s{s}" for k, s in layers), (layers,),
                 mistakes=[("ignores_stride", ignores_stride), ("multiplies_kernels", multiplies_kernels)])
            for layers in grid]


EXERCISE = Exercise(
    assignment="ch03_padding_stride",
    title="Padding and stride",
    intro="""
Padding decides what happens at the border, stride how far the window moves, dilation how
spread out it is. Together they fix every output size in a network, and, stacked, how much of
the input one deep unit can see: its receptive field.
""",
    cells=(
        Task(
            name="conv_output_size",
            points=5,
            task="""
Return, as an `int`, the number of positions of a window of `k` taps, dilated by `dilation`
(it spans `dilation*(k-1) + 1` inputs), moved by `stride` along an axis of `n` values padded
by `pad` on both sides:

$$n_{out} = \\left\\lfloor \\frac{n + 2\\,pad - dilation\\,(k-1) - 1}{stride} \\right\\rfloor + 1.$$

If the window does not fit (`n_out < 1`), raise `ValueError`; likewise for `stride < 1`,
`pad < 0`, `k < 1` or `dilation < 1`.
""",
            examples=(
                Example("n 32, k 3, pad 1", lambda r: (32, 3, 1, 1)),
                Example("n 7, k 3, stride 2", lambda r: (7, 3, 2)),
                Example("n 224, k 7, stride 2, pad 3", lambda r: (224, 7, 2, 3)),
                Example("n 10, k 3, dilation 2", lambda r: (10, 3, 1, 0, 2)),
                Example("n 8, k 2, stride 3", lambda r: (8, 2, 3)),
                Example("n 3, k 5", lambda r: (3, 5), invalid="the window does not fit"),
                Example("n 8, k 3, stride 0", lambda r: (8, 3, 0), invalid="stride < 1"),
                Example("n 8, k 3, pad -1", lambda r: (8, 3, 1, -1), invalid="pad < 0"),
                Example("n 8, k 0", lambda r: (8, 0), invalid="k < 1"),
                Example("n 8, k 3, dilation 0", lambda r: (8, 3, 1, 0, 0), invalid="dilation < 1"),
            ),
            hidden=_output_size,
            invalid=lambda rng: [
        ("the window does not fit", (3, 5), {}), ("stride < 1", (8, 3), {"stride": 0}),
        ("pad < 0", (8, 3), {"pad": -1}), ("k < 1", (8, 0), {}), ("dilation < 1", (8, 3), {"dilation": 0}),
    ],
            mistakes={
                "output_size_ceil": "matches rounding up: the size is floor((n + 2*pad - dilation*(k-1) - 1) "
                                    "/ stride) + 1",
                "output_size_no_plus_one": "matches floor(...) without the + 1: count the window's first "
                                           "position too",
            },
        ),
        Task(
            name="same_padding",
            points=5,
            task="""
"Same" padding keeps the output as long as the input at stride 1: it needs `dilation*(k-1)`
zeros in total. Return them as a tuple of ints `(before, after)`, split evenly; when the total
is odd (an even kernel) the extra zero goes *after* (as in TensorFlow).
Examples: `same_padding(3)` is `(1, 1)`, `same_padding(4)` is `(1, 2)`.
""",
            examples=(
                Example("k 3", lambda r: (3,)),
                Example("k 4", lambda r: (4,)),
                Example("k 1", lambda r: (1,)),
                Example("k 3, dilation 2", lambda r: (3, 2)),
            ),
            hidden=_same_padding,
            mistakes={
                'extra_before': 'matches putting the odd extra zero before: when dilation*(k-1) is odd the extra zero '
                                'goes after',
            },
        ),
        Task(
            name="zero_pad",
            points=4,
            task="""
Pad the two spatial axes of `x` (N, C, H, W) with zeros: `pad_h` rows above and below,
`pad_w` columns left and right, where `pad` is an int (both the same) or a pair
`(pad_h, pad_w)`. The batch and channel axes are not padded. Keep `x`'s dtype.
""",
            examples=(
                Example("x (1, 1, 2, 3), pad 1", lambda r: (randn(r, 1, 1, 2, 3), 1)),
                Example("x (2, 3, 3, 3), pad (2, 0)", lambda r: (randn(r, 2, 3, 3, 3), (2, 0))),
                Example("float32 x (1, 2, 2, 2), pad 0", lambda r: (randn(r, 1, 2, 2, 2, dtype="float32"), 0)),
            ),
            hidden=_zero_pad,
            mistakes={
                'pads_all_axes': 'matches padding every axis: pad only H and W (axes 2 and 3), never N and C',
                'shape_off_by_one': 'off by one: the result is (N, C, H + 2*pad_h, W + 2*pad_w), pad_h zeros above and '
                                    'below, pad_w left and right',
            },
        ),
        Task(
            name="corr1d",
            points=5,
            task="""
Cross-correlate a 1D signal `x` (n,) with a kernel `k` (m,) after zero-padding `x` according
to `mode`: `"valid"` pads nothing, `"same"` pads `same_padding(m)` (extra zero after),
`"full"` pads `m - 1` zeros on each side; then `y[i] = sum_j x_padded[i + j] * k[j]`.
Any other mode is a `ValueError`. Example with `x = [1., 2., 3.]`, `k = [1., 1., 1.]`:
valid `[6.]`, same `[3., 6., 5.]`, full `[1., 3., 6., 5., 3.]`.
""",
            examples=(
                Example("x [1, 2, 3], k [1, 1, 1], valid",
                     lambda r: (np.array([1.0, 2.0, 3.0]), np.ones(3), "valid")),
                Example("x of 7, k of 3, same", lambda r: (randn(r, 7), randn(r, 3), "same")),
                Example("x of 6, k of 4 (even), same", lambda r: (randn(r, 6), randn(r, 4), "same")),
                Example("x of 5, k of 3, full", lambda r: (randn(r, 5), randn(r, 3), "full")),
                Example("x of 6, k of 3, mode 'causal'", lambda r: (randn(r, 6), randn(r, 3), "causal"),
                        invalid="an unknown mode"),
            ),
            hidden=_corr1d,
            invalid=lambda rng: [("an unknown mode", (normal(rng, (6,)), normal(rng, (3,)), "causal"), {})],
            mistakes={
                "same_extra_before": "'same' matches putting the odd extra zero before: pad as "
                                     "same_padding(len(k)), the extra zero after",
                'full_pads_k': "'full' matches padding len(k) zeros on each side: full pads len(k) - 1",
                'shape_off_by_one': "off by one: with x of n and k of m values, 'valid' gives n - m + 1 values, "
                                    "'same' n and 'full' n + m - 1",
            },
        ),
        Code("""
# The three modes side by side on a step signal, smoothed by a box of 5.
step = np.r_[np.zeros(10), np.ones(10)]
box = np.ones(5) / 5
try:
    results = {mode: corr1d(step, box, mode) for mode in ("valid", "same", "full")}
except NotImplementedError:
    print("Implement corr1d to compare the three modes.")
else:
    for mode, y in results.items():
        print(f"{mode:>5}: {len(y):2d} values  {np.round(y, 1)}")
"""),
        Task(
            name="receptive_field",
            points=4,
            task="""
`layers` lists the (kernel, stride) of a stack of conv/pool layers, from the input upward.
Return a list of ints: entry `i` is the width of the input window that one unit after layer
`i + 1` depends on. With the *jump* `J_i = s_1 * ... * s_i` (distance, in input pixels,
between neighbouring units after layer `i`): `r_0 = k_1`, `r_i = r_{i-1} + (k_{i+1} - 1) * J_i`.
Example: `receptive_field([(3, 1), (3, 1)])` is `[3, 5]`; `receptive_field([(2, 2), (3, 1)])` is `[2, 6]`.
""",
            examples=(
                Example("two 3x3 convs", lambda r: ([(3, 1), (3, 1)],)),
                Example("2x2 pool stride 2, then 3x3 conv", lambda r: ([(2, 2), (3, 1)],)),
                Example("a VGG-like block stack", lambda r: ([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)],)),
                Example("7x7 stride 2, 3x3 pool stride 2", lambda r: ([(7, 2), (3, 2)],)),
            ),
            hidden=_receptive_field,
            mistakes={
                "ignores_stride": "matches adding k - 1 per layer: each layer adds (k - 1) times the product "
                                  "of the strides of the layers below it",
                "multiplies_kernels": "matches multiplying kernel sizes: receptive fields grow by adding (k -"
                                      " 1) * jump",
            },
        ),
        Code("""
# How fast does the receptive field of a VGG-like network grow? Pools (stride 2) speed it up.
vgg = [(3, 1), (3, 1), (2, 2)] * 2 + [(3, 1), (3, 1), (3, 1), (2, 2)] * 3
try:
    fields = receptive_field(vgg)
except NotImplementedError:
    print("Implement receptive_field to see its growth.")
else:
    plt.plot(range(1, len(fields) + 1), fields, marker="o")
    plt.xlabel("layer")
    plt.ylabel("receptive field (input pixels)")
    plt.title("receptive field of a VGG-like stack")
    plt.show()
"""),
    ),
)
