"""Cases of ch02_convolution: corr2d, convolve2d, conv layer forward, 1x1 conv, dilation."""
import numpy as np

import solutions as ref

from . import Case, normal

CONV_GRID = [  # x shape, w shape, stride, pad, dtype: non-square, stride > 1, pad > 0, even kernels
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, 0, np.float64),
    ((2, 2, 9, 8), (3, 2, 3, 3), 2, 1, np.float64),
    ((1, 3, 6, 7), (2, 3, 2, 2), 1, 2, np.float32),
    ((3, 2, 8, 9), (2, 2, 4, 3), 3, 1, np.float64),
    ((2, 4, 5, 6), (3, 4, 1, 2), 2, 0, np.float32),
]

CONV_FORWARD_MISTAKES = [
    ("flipped_kernel", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, stride, pad)),
    ("missing_bias", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w, np.zeros_like(b), stride, pad)),
    ("stride_ignored", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w, b, 1, pad)),
    ("pad_ignored", lambda x, w, b, stride=1, pad=0: ref.conv_forward_naive(x, w, b, stride, 0)),
]


def conv_case_name(x_shape, w_shape, stride, pad, dtype):
    return (f"x{'x'.join(map(str, x_shape))}_w{'x'.join(map(str, w_shape))}"
            f"_s{stride}_p{pad}_{np.dtype(dtype)}")


def conv_inputs(rng, x_shape, w_shape, dtype):
    return normal(rng, x_shape, dtype), normal(rng, w_shape, dtype), normal(rng, w_shape[:1], dtype)


def conv_forward_cases(function, rng):
    cases = []
    for x_shape, w_shape, stride, pad, dtype in CONV_GRID:
        x, w, b = conv_inputs(rng, x_shape, w_shape, dtype)
        cases.append(Case(function, conv_case_name(x_shape, w_shape, stride, pad, dtype), (x, w, b),
                          {"stride": stride, "pad": pad}, mistakes=CONV_FORWARD_MISTAKES, pad=pad,
                          factors={"HH*WW": w_shape[2] * w_shape[3], "C": x_shape[1]},
                          reference=getattr(ref, function)))
    return cases


def _plane_grid(rng, function, mistakes):
    grid = [((5, 7), (3, 2), np.float64), ((6, 6), (3, 3), np.float64),
            ((8, 5), (2, 4), np.float32), ((4, 9), (1, 3), np.float64)]
    return [Case(function, f"x{h}x{w}_k{kh}x{kw}_{np.dtype(dt)}", (normal(rng, (h, w), dt), normal(rng, (kh, kw), dt)),
                 mistakes=mistakes, factors={"HH*WW": kh * kw})
            for (h, w), (kh, kw), dt in grid]


def _corr2d(rng):
    return _plane_grid(rng, "corr2d", [("flipped_kernel", lambda x, k: ref.corr2d(x, k[::-1, ::-1]))])


def _convolve2d(rng):
    return _plane_grid(rng, "convolve2d", [("not_flipped", ref.corr2d)])


def _conv1x1(rng):
    # F == C in two cases: only then does using w.T instead of w run without an error.
    grid = [((2, 3, 4, 5), 4, np.float64), ((1, 4, 3, 3), 4, np.float64), ((2, 5, 2, 3), 5, np.float32)]
    cases = []
    for x_shape, F, dtype in grid:
        x, w, b = normal(rng, x_shape, dtype), normal(rng, (F, x_shape[1]), dtype), normal(rng, (F,), dtype)
        cases.append(Case("conv1x1", f"x{'x'.join(map(str, x_shape))}_F{F}_{np.dtype(dtype)}", (x, w, b),
                          mistakes=[("weight_transposed", lambda x, w, b: ref.conv1x1(x, w.T, b))],
                          factors={"C": x_shape[1]}))
    return cases


def _dilate(rng):
    grid = [((3, 4), 2, np.float64), ((2, 3, 4, 5), 3, np.float64), ((2, 2, 3, 3), 1, np.float64),
            ((1, 1, 4, 2), 2, np.float32)]
    return [Case("dilate", f"a{'x'.join(map(str, s))}_d{d}_{np.dtype(dt)}", (normal(rng, s, dt), d),
                 mistakes=[("dilate_d_zeros", lambda a, d: ref.dilate(a, d + 1))])
            for s, d, dt in grid]


BUILDERS = {"corr2d": _corr2d, "convolve2d": _convolve2d,
            "conv_forward_naive": lambda rng: conv_forward_cases("conv_forward_naive", rng),
            "conv1x1": _conv1x1, "dilate": _dilate}

# Arguments the task says are a ValueError: (why, args, kwargs) built from the case's generator.
INVALID = {
    "corr2d": lambda rng: [("the kernel is larger than the image", (normal(rng, (3, 3)), normal(rng, (4, 2))), {})],
    "conv_forward_naive": lambda rng: [
        ("w and x disagree on C", (normal(rng, (2, 3, 5, 5)), normal(rng, (4, 2, 3, 3)), normal(rng, (4,))), {}),
        ("stride < 1", (normal(rng, (1, 2, 5, 5)), normal(rng, (3, 2, 3, 3)), normal(rng, (3,))), {"stride": 0}),
        ("pad < 0", (normal(rng, (1, 2, 5, 5)), normal(rng, (3, 2, 3, 3)), normal(rng, (3,))), {"pad": -1}),
        ("the output would be empty", (normal(rng, (1, 1, 2, 2)), normal(rng, (1, 1, 3, 3)), normal(rng, (1,))), {}),
    ],
    "dilate": lambda rng: [("d < 1", (normal(rng, (2, 3, 3, 3)), 0), {})],
}
