"""Exercise spec: chapter 3, padding and stride."""
import numpy as np

from . import Case, Code, Exercise, Graded, Markdown, randn

EXERCISE = Exercise(
    assignment="ch03_padding_stride",
    title="Padding and stride",
    intro="""
Padding decides what happens at the border, stride how far the window moves, dilation how
spread out it is. Together they fix every output size in a network, and, stacked, how much of
the input one deep unit can see: its receptive field.
""",
    cells=(
        Graded(
            name="conv_output_size",
            task="""
Return, as an `int`, the number of positions of a window of `k` taps, dilated by `dilation`
(it spans `dilation*(k-1) + 1` inputs), moved by `stride` along an axis of `n` values padded
by `pad` on both sides:

$$n_{out} = \\left\\lfloor \\frac{n + 2\\,pad - dilation\\,(k-1) - 1}{stride} \\right\\rfloor + 1.$$

If the window does not fit (`n_out < 1`), raise `ValueError`; likewise for `stride < 1`,
`pad < 0`, `k < 1` or `dilation < 1`.
""",
            cases=(
                Case("n 32, k 3, pad 1", lambda r: (32, 3, 1, 1)),
                Case("n 7, k 3, stride 2", lambda r: (7, 3, 2)),
                Case("n 224, k 7, stride 2, pad 3", lambda r: (224, 7, 2, 3)),
                Case("n 10, k 3, dilation 2", lambda r: (10, 3, 1, 0, 2)),
                Case("n 8, k 2, stride 3", lambda r: (8, 2, 3)),
            ),
        ),
        Graded(
            name="same_padding",
            task="""
"Same" padding keeps the output as long as the input at stride 1: it needs `dilation*(k-1)`
zeros in total. Return them as a tuple of ints `(before, after)`, split evenly; when the total
is odd (an even kernel) the extra zero goes *after* (as in TensorFlow).
Examples: `same_padding(3)` is `(1, 1)`, `same_padding(4)` is `(1, 2)`.
""",
            cases=(
                Case("k 3", lambda r: (3,)),
                Case("k 4", lambda r: (4,)),
                Case("k 1", lambda r: (1,)),
                Case("k 3, dilation 2", lambda r: (3, 2)),
            ),
        ),
        Graded(
            name="zero_pad",
            task="""
Pad the two spatial axes of `x` (N, C, H, W) with zeros: `pad_h` rows above and below,
`pad_w` columns left and right, where `pad` is an int (both the same) or a pair
`(pad_h, pad_w)`. The batch and channel axes are not padded. Keep `x`'s dtype.
""",
            cases=(
                Case("x (1, 1, 2, 3), pad 1", lambda r: (randn(r, 1, 1, 2, 3), 1)),
                Case("x (2, 3, 3, 3), pad (2, 0)", lambda r: (randn(r, 2, 3, 3, 3), (2, 0))),
                Case("float32 x (1, 2, 2, 2), pad 0", lambda r: (randn(r, 1, 2, 2, 2, dtype="float32"), 0)),
            ),
        ),
        Graded(
            name="corr1d",
            task="""
Cross-correlate a 1D signal `x` (n,) with a kernel `k` (m,) after zero-padding `x` according
to `mode`: `"valid"` pads nothing, `"same"` pads `same_padding(m)` (extra zero after),
`"full"` pads `m - 1` zeros on each side; then `y[i] = sum_j x_padded[i + j] * k[j]`.
Any other mode is a `ValueError`. Example with `x = [1., 2., 3.]`, `k = [1., 1., 1.]`:
valid `[6.]`, same `[3., 6., 5.]`, full `[1., 3., 6., 5., 3.]`.
""",
            cases=(
                Case("x [1, 2, 3], k [1, 1, 1], valid",
                     lambda r: (np.array([1.0, 2.0, 3.0]), np.ones(3), "valid")),
                Case("x of 7, k of 3, same", lambda r: (randn(r, 7), randn(r, 3), "same")),
                Case("x of 6, k of 4 (even), same", lambda r: (randn(r, 6), randn(r, 4), "same")),
                Case("x of 5, k of 3, full", lambda r: (randn(r, 5), randn(r, 3), "full")),
            ),
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
        Graded(
            name="receptive_field",
            task="""
`layers` lists the (kernel, stride) of a stack of conv/pool layers, from the input upward.
Return a list of ints: entry `i` is the width of the input window that one unit after layer
`i + 1` depends on. With the *jump* `J_i = s_1 * ... * s_i` (distance, in input pixels,
between neighbouring units after layer `i`): `r_0 = k_1`, `r_i = r_{i-1} + (k_{i+1} - 1) * J_i`.
Example: `receptive_field([(3, 1), (3, 1)])` is `[3, 5]`; `receptive_field([(2, 2), (3, 1)])` is `[2, 6]`.
""",
            cases=(
                Case("two 3x3 convs", lambda r: ([(3, 1), (3, 1)],)),
                Case("2x2 pool stride 2, then 3x3 conv", lambda r: ([(2, 2), (3, 1)],)),
                Case("a VGG-like block stack", lambda r: ([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)],)),
                Case("7x7 stride 2, 3x3 pool stride 2", lambda r: ([(7, 2), (3, 2)],)),
            ),
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
