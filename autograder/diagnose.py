"""Turn a wrong answer into a message a student can act on, naming a catalogue id.

First the function's known mistakes (transforms of the reference, from the case) are tried:
if the wrong result equals what a mistake produces, that mistake is named. Otherwise a
generic diagnosis: shape (H and W swapped, off by one, still padded), dtype, NaN, a constant
factor or sign, and finally where the first wrong element is and the largest error.
"""
import copy

import numpy as np

from .cases import Signature
from .compare import compare, rtol_for, values_close

EXPLAIN = {
    "flipped_kernel": "matches the reference computed with the kernel flipped: a layer's convolution is a "
                      "cross-correlation, do not flip w",
    "missing_bias": "matches the reference without the bias: add b[f] to every output of filter f",
    "stride_ignored": "matches the reference computed at stride 1: move the window by `stride`",
    "pad_ignored": "matches the reference without padding: zero-pad H and W by `pad` on each side first",
    "not_flipped": "matches a cross-correlation: a true convolution flips the kernel on both axes, k[::-1, ::-1]",
    "weight_transposed": "matches the reference with w transposed: w is (F, C) and out[:, f] = sum_c w[f, c] * x[:, c]",
    "dilate_d_zeros": "matches inserting d zeros between elements: dilation d inserts d - 1 zeros",
    "output_size_ceil": "matches rounding up: the size is floor((n + 2*pad - dilation*(k-1) - 1) / stride) + 1",
    "output_size_no_plus_one": "matches floor(...) without the + 1: count the window's first position too",
    "extra_before": "matches putting the odd extra zero before: for an even kernel the extra zero goes after",
    "same_extra_before": "'same' matches putting the odd extra zero before: pad as same_padding(len(k)), "
                         "the extra zero after",
    "full_pads_k": "'full' matches padding len(k) zeros on each side: full pads len(k) - 1",
    "ignores_stride": "matches adding k - 1 per layer: each layer adds (k - 1) times the product of the strides "
                      "of the layers below it",
    "multiplies_kernels": "matches multiplying kernel sizes: receptive fields grow by adding (k - 1) * jump",
    "pads_all_axes": "matches padding every axis: pad only H and W (axes 2 and 3), never N and C",
    "tie_all": "matches sending the gradient to every tied maximum: only the first maximum (row-major) gets it",
    "tie_last": "matches sending the gradient to the last tied maximum: use the first one in row-major order",
    "overlap_overwrite": "matches overwriting where windows overlap: gradients of overlapping windows add up (+=)",
    "avg_no_divide": "matches forgetting the division: each cell of a window gets dout / pool**2",
    "wrong_axes": "matches statistics (or a reduction) over the wrong axes: check the axes you reduce over",
    "wrong_corner": "matches putting each value in the wrong cell of its block: bed of nails uses the top-left cell",
    "unpool_top_left": "matches putting each value in its window's top-left cell: put it where the window's "
                       "maximum was in x",
    "unbiased_var": "matches the unbiased variance (ddof=1): normalising uses the biased variance (divide by n)",
    "eps_outside_sqrt": "matches (x - mean) / (sqrt(var) + eps): eps goes inside the root, sqrt(var + eps)",
    "per_pixel_stats": "matches statistics over N only (one per pixel): spatial batch norm averages over N, H "
                       "and W for each channel",
    "group_interleaved": "matches groups made of channels c % G: a group is a contiguous block of C // G channels",
    "momentum_flipped": "matches the Keras convention: PyTorch's rule is new = (1 - momentum) * running + "
                        "momentum * batch",
    "biased_running_var": "matches the biased batch variance: the running variance uses var * n / (n - 1)",
    "uses_batch_stats": "matches normalising with the batch's own statistics: inference uses running_mean and "
                        "running_var",
    "dx_ignores_stats": "matches dx = dout * gamma / std: the mean and variance depend on x as well; add their "
                        "gradient terms",
    "dgamma_is_dbeta": "matches dbeta: dgamma is the sum of dout * xhat, not of dout",
    "dbeta_mean": "matches a mean: dbeta is the sum of dout over the batch (and pixels)",
    "forward_difference": "matches one-sided differences (L(x+h) - L(x)) / h: use centred differences "
                          "(L(x+h) - L(x-h)) / (2h)",
    "x_not_restored": "x is not bit-identical after the call: put back the exact old value of every element "
                      "you perturb",
    "ignores_dout": "matches the gradient of sum(f(x)): the loss is sum(f(x) * dout)",
    "dw_last_sample": "is the reference dw of the last sample only: accumulate over the batch (+=)",
    "dw_mean_batch": "matches dw divided by N: sum over the batch, do not average",
    "db_mean": "matches a mean: db sums dout over the batch and every output position",
    "dx_overwrite": "matches overwriting dx where windows overlap: their contributions add up (+=)",
    "backward_ignores_stride": "matches windows moved by 1 instead of stride: output (i, j) reads rows "
                               "i*stride to i*stride + HH - 1",
    "dx_not_cropped": "dx still includes the padding: crop pad rows and columns from each side",
    "transpose_kernel_flipped": "matches the kernel flipped: a transposed conv stamps w as it is",
    "transpose_no_crop": "matches the output before cropping: crop pad rows and columns from each side",
    "row_order": "rows are ordered (i, j, c): the row index is (c, i, j) in C order",
    "col_order": "columns are ordered (oh, ow, n): the column index is (n, oh, ow) in C order",
    "col2im_assign": "matches overwriting where windows overlap: col2im adds overlapping values up",
    "matrix_transposed": "matches M.T: M has one row per output value (F*Hout*Wout) and one column per input "
                         "value (C*H*W)",
    "shared_bias": "matches one bias per output channel: without weight sharing every output unit has its own bias",
    "bias_ignored": "matches the count without biases: add the biases when bias=True",
    "hwc_order": "matches reading W as (K, H, W, C): inputs were flattened from (C, H, W) in C order, so reshape "
                 "to (K, C, H, W)",
}


def _component(value, index):
    if index is None:
        return value
    if isinstance(value, (tuple, list)) and index < len(value):
        return value[index]
    return None


def _shape(value):
    return tuple(value.shape) if isinstance(value, np.ndarray) else None


def _matching_mistake(case, args, got_part, component):
    """The catalogue id of the first mistake whose output equals got_part (the failing component)."""
    for mistake, fn in case.mistakes:
        try:
            wrong = fn(*copy.deepcopy(args), **copy.deepcopy(case.kwargs))
        except Exception:  # a mistake that cannot happen on these inputs
            continue
        wrong_part = _component(wrong, component)
        if isinstance(wrong_part, Signature):
            if wrong_part.test(got_part):
                return mistake
            continue
        if isinstance(wrong_part, np.ndarray) and isinstance(got_part, np.ndarray) and got_part.dtype.kind == "f":
            wrong_part = wrong_part.astype(got_part.dtype, copy=False)
        if wrong_part is not None and compare(got_part, wrong_part) is None:
            return mistake
    return None


def _shape_message(case, got, expected):
    g, e = got.shape, expected.shape
    text = f"shape {g}, expected {e}"
    if len(g) == len(e) >= 2 and g[:-2] == e[:-2] and g[-2:] == e[-2:][::-1]:
        return "shape_hw_swapped", f"{text}: H and W swapped? Keep (N, C, H, W) order, height before width"
    pad = case.pad
    if pad and len(g) == len(e) and g[:-2] == e[:-2] and all(a == b + 2 * pad for a, b in zip(g[-2:], e[-2:])):
        return "shape_padded", f"{text}: the result still includes the padding; crop {pad} from each side of H and W"
    if len(g) == len(e) and all(abs(a - b) <= 1 for a, b in zip(g, e)):
        return "shape_off_by_one", (f"{text}: off by one; an output has floor((n + 2*pad - k) / stride) + 1 "
                                    "positions along each axis")
    return "wrong_shape", text


def _factor_message(case, got, expected):
    """(id, text) if got is a constant multiple of expected, else None."""
    g, e = np.asarray(got, dtype=np.float64).ravel(), np.asarray(expected, dtype=np.float64).ravel()
    norm = float(e @ e)
    if norm == 0:
        return None
    c = float(g @ e) / norm
    if not values_close(g, c * e, rtol_for(expected) * 10).all():
        return None
    if np.isclose(c, -1.0, rtol=1e-3):
        return "sign_flipped", "the values have the opposite sign of the reference's: check a minus sign"
    if np.isclose(c, 0.0, atol=1e-9):
        return None
    names = [name for name, value in case.factors.items() if np.isclose(c, value, rtol=1e-3)]
    names += [f"1/{name}" for name, value in case.factors.items()
              if value and not name.startswith("1/") and np.isclose(c, 1 / value, rtol=1e-3)]
    hint = f" (= {' = '.join(names)})" if names else ""
    return "scaled", f"the values are {c:.4g} times the reference's{hint}: a missing or extra constant factor"


def _values_message(got, expected):
    if not isinstance(expected, np.ndarray):
        return f"returned {got!r}, expected {expected!r}"
    close = values_close(got, expected, rtol_for(expected))
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    error = np.abs(got.astype(np.float64) - expected) / max(np.abs(expected).max(initial=0.0), 1e-300)
    return (f"{(~close).sum()} of {close.size} values are wrong (largest error {error.max():.2g} relative to the "
            f"largest value); first at index {first}: got {got[first]:.6g}, expected {expected[first]:.6g}")


def explain(case, args, got, expected, problem):
    """The student-facing diagnosis of `problem`, as "[id] text" (prefixed by the output's name)."""
    component = problem.component if len(case.outputs) > 1 else None
    prefix = f"{case.outputs[component]}: " if component is not None else ""
    got_part, expected_part = _component(got, component), _component(expected, component)
    if problem.kind == "none":
        return f"{prefix}[returns_none] returned None: did the function end without `return`?"
    if problem.kind in ("type", "length"):
        return f"{prefix}[wrong_type] {problem.detail}"
    if problem.kind in ("shape", "values", "nonfinite"):
        mistake = _matching_mistake(case, args, got_part, component)
        if mistake:
            return f"{prefix}[{mistake}] {EXPLAIN[mistake]}"
    if problem.kind == "shape":
        return prefix + "[%s] %s" % _shape_message(case, got_part, expected_part)
    if problem.kind == "dtype":
        return (f"{prefix}[dtype_changed] dtype {got_part.dtype}, expected {expected_part.dtype}: keep the inputs' "
                "float dtype (e.g. np.zeros(shape, dtype=x.dtype), np.zeros_like(x))")
    if problem.kind == "nonfinite":
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got_part))[0])
        return (f"{prefix}[nan_or_inf] the result has NaN or inf (first at index {bad}) where the reference is "
                "finite: a division by zero or an overflow?")
    if isinstance(expected_part, np.ndarray) and expected_part.size > 1:
        factor = _factor_message(case, got_part, expected_part)
        if factor:
            return prefix + "[%s] %s" % factor
    return f"{prefix}[wrong_values] {_values_message(got_part, expected_part)}"


def diagnose(case, args, got, expected):
    """None if got is right for this case, else the diagnosis message."""
    problem = compare(got, expected, case.outputs)
    return None if problem is None else explain(case, args, got, expected, problem)
