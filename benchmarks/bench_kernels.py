"""Time the reference kernels of `solutions` against naive loops, scipy.signal and PyTorch.

One process, side by side, reported as ratios: conv forward, conv forward+backward, max pool
forward+backward and batch norm forward+backward, in float32 and float64, on four layer
shapes (a CIFAR stem, a small mid-network conv, a ResNet stage-1 conv, AlexNet conv1). Max
pool and batch norm run on the output of that shape's conv layer, as in a network.

    python benchmarks/bench_kernels.py                 # full run, writes benchmarks/results/
    python benchmarks/bench_kernels.py --quick --out-dir /tmp/b   # seconds, tiny shapes

Implementations compared:
- ref:   the reference kernels of `solutions` (im2col + matrix products, strided views).
- naive: plain loops with one numpy call per output value (the ch07 speed baseline). They are
         slow, so each one runs for at most --naive-seconds and its time is extrapolated
         linearly from the work units (one (image, channel) pair each) it finished; every
         unit does the same work, so the extrapolation is fair, and it is labelled as such.
- scipy: per-channel scipy.signal.correlate2d / convolve2d, as in common teaching code
         (conv only), with the same time cap and extrapolation.
- torch: PyTorch CPU (torch.nn.functional) when it is importable; never required.

ref and torch are timed best-of-`--repeats`, interleaved round by round so that load from
other processes hits both alike. The matrix-multiply peak (GFLOP/s) is measured in the same
run with a large matmul, before and after, and the conv forward's GEMM is reported as a
fraction of it. Every implementation's result is checked against ref before it is timed.

Beyond im2col (chapter 7): the op `conv_fwd_algos` races the im2col forward against
Winograd F(2x2, 3x3) (3x3 stride-1 layers only), FFT convolution (solutions/fast_conv.py)
and PyTorch; a sweep over kernel sizes finds where FFT convolution overtakes im2col; and the
machine's memory bandwidth (a large array copy, one thread and all cores) is measured next
to its GEMM peak, the two roofs of a roofline. `--threads 1` runs everything (BLAS, PyTorch,
the chunk threads of solutions) on one thread.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.signal

import solutions as S
from solutions import _parallel
from solutions.fast_conv import conv_forward_fft, conv_forward_winograd, winograd_filters

RESULTS = Path(__file__).resolve().parent / "results"

# (x shape, w shape, stride, pad, pool window and stride for the max pool after it)
SHAPES = {
    "cifar-stem": ((64, 3, 32, 32), (32, 3, 3, 3), 1, 1, 2, 2),
    "mid-3x3": ((64, 32, 16, 16), (64, 32, 3, 3), 1, 1, 2, 2),
    "resnet-3x3": ((16, 64, 56, 56), (64, 64, 3, 3), 1, 1, 2, 2),
    "alexnet-conv1": ((8, 3, 227, 227), (96, 3, 11, 11), 4, 0, 3, 2),
}
QUICK_SHAPES = {
    "tiny-3x3": ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1, 2, 2),
    "tiny-5x5-s2": ((2, 3, 15, 15), (4, 3, 5, 5), 2, 0, 3, 2),
}
OPS = ("conv_fwd", "conv_fwdbwd", "maxpool_fwdbwd", "batchnorm_fwdbwd", "conv_fwd_algos")
# The FFT crossover sweep: kernel sizes on one layer, x (N, C, S, S), F filters, stride 1,
# pad k // 2 (the output keeps the input's size).
SWEEP = {"x": (8, 16, 32, 32), "F": 16, "kernels": [1, 3, 5, 7, 9, 11, 13, 15]}
QUICK_SWEEP = {"x": (2, 3, 12, 12), "F": 4, "kernels": [1, 3, 5]}
# Issue 7's targets for ref / torch (None: no target for that row).
TARGETS = {("conv_fwdbwd", "float32"): 1.5, ("conv_fwdbwd", "float64"): 1.0,
           ("maxpool_fwdbwd", "float32"): 1.5, ("maxpool_fwdbwd", "float64"): 1.5,
           ("batchnorm_fwdbwd", "float32"): 1.5, ("batchnorm_fwdbwd", "float64"): 1.5}
EPS = 1e-5


# --- timing ---------------------------------------------------------------------------------
def race(fns, repeats):
    """Best wall time (s) of each function, calling them round-robin `repeats` times.

    Each turn starts with one untimed call: the thread pool of the library that ran last
    (OpenBLAS, or PyTorch's OpenMP) keeps spinning for a while after it, and would otherwise
    be charged to whichever function runs next.
    """
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            fn()
            start = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - start)
    return best


def capped(unit_fn, units, seconds):
    """Run unit_fn(u) for u in units until `seconds` have passed (at least one unit).

    Returns (estimated seconds for all units, fraction of units that ran).
    """
    start = time.perf_counter()
    done = 0
    for u in units:
        unit_fn(u)
        done += 1
        if time.perf_counter() - start > seconds:
            break
    elapsed = time.perf_counter() - start
    return elapsed * len(units) / done, done / len(units)


def memory_bandwidth(mib=256, repeats=5, workers=1):
    """GB/s of the best of `repeats` copies of a `mib` MiB array (read + write counted), the
    copy split into `workers` parts run by as many threads (numpy releases the GIL)."""
    n = mib * 2**20 // 8
    src, dst = np.ones(n), np.empty(n)
    parts = [slice(i * n // workers, (i + 1) * n // workers) for i in range(workers)]
    if workers == 1:
        def copy():
            np.copyto(dst, src)
    else:
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(workers)

        def copy():
            list(pool.map(lambda sl: np.copyto(dst[sl], src[sl]), parts))
    copy()
    return 2 * n * 8 / race([copy], repeats)[0] / 1e9


def gemm_peak(dtype, n=2048, repeats=10):
    """GFLOP/s of the best of `repeats` n x n matmuls: the machine's practical GEMM peak."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    a @ b
    return 2 * n**3 / race([lambda: a @ b], repeats)[0] / 1e9


# --- naive loops: one numpy call per output value --------------------------------------------
def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def naive_conv_fwd_unit(xp, w, b, stride, out, n, f):
    """out[n, f] one value at a time: np.sum(window * w[f]) + b[f]."""
    _, _, HH, WW = w.shape
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[n, f, i, j] = np.sum(window * w[f]) + b[f]


def naive_conv_bwd_unit(dout, xp, w, stride, dxp, dw, n, f):
    """The contributions of dout[n, f] to dx and dw, one output value at a time."""
    _, _, HH, WW = w.shape
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
            dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]


def naive_maxpool_unit(x, dout, pool, stride, out, dx, n, c):
    """Forward and backward of channel (n, c), one window at a time."""
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
            out[n, c, i, j] = window.max()
            a, b = divmod(int(window.argmax()), pool)
            dx[n, c, i * stride + a, j * stride + b] += dout[n, c, i, j]


def naive_batchnorm_unit(x, gamma, beta, dout, out, dx, c):
    """Forward and backward of channel c: statistics, then a Python loop over every value."""
    values, grads = x[:, c].ravel().tolist(), dout[:, c].ravel().tolist()
    m = len(values)
    mean = sum(values) / m
    var = sum((v - mean) ** 2 for v in values) / m
    inv_std = 1.0 / (var + EPS) ** 0.5
    xhat = [(v - mean) * inv_std for v in values]
    out[:, c] = np.reshape([gamma[c] * h + beta[c] for h in xhat], out[:, c].shape)
    dbeta = sum(grads)
    dgamma = sum(g * h for g, h in zip(grads, xhat))
    k = gamma[c] * inv_std / m
    dx[:, c] = np.reshape([k * (m * g - dbeta - h * dgamma) for g, h in zip(grads, xhat)], dx[:, c].shape)


# --- scipy.signal, per channel, as in common teaching code ----------------------------------
def scipy_conv_fwd_unit(xp, w, b, stride, out, n, f):
    """out[n, f] = b[f] + sum_c correlate2d(xpad[n, c], w[f, c], 'valid'), subsampled by stride."""
    acc = sum(scipy.signal.correlate2d(xp[n, c], w[f, c], mode="valid") for c in range(w.shape[1]))
    out[n, f] = acc[::stride, ::stride][:out.shape[2], :out.shape[3]] + b[f]


def scipy_conv_bwd_unit(dout, xp, w, stride, dxp, dw, n, f):
    """dw[f, c] += correlate2d(xpad[n, c], dout[n, f] dilated); dxpad[n, c] += convolve2d(dout, w[f, c], 'full')."""
    _, C, HH, WW = w.shape
    g = S.dilate(dout[n, f], stride) if stride > 1 else dout[n, f]
    for c in range(C):
        dw[f, c] += scipy.signal.correlate2d(xp[n, c], g, mode="valid")[:HH, :WW]
        full = scipy.signal.convolve2d(g, w[f, c], mode="full")
        dxp[n, c, :full.shape[0], :full.shape[1]] += full


# --- the cases --------------------------------------------------------------------------------
def _check(name, got, want, dtype):
    tol = 2e-3 if dtype == np.float32 else 1e-8
    for g, r in zip(got, want):
        scale = max(1.0, float(np.abs(r).max()))
        if not np.allclose(g, r, rtol=tol, atol=tol * scale):
            raise AssertionError(f"{name} disagrees with ref: max |diff| {np.abs(g - r).max():.3g}")


def _units_slice(arr, units_done):
    """The (n, c)-ordered prefix of arr covered by the first `units_done` units."""
    flat = arr.reshape(arr.shape[0] * arr.shape[1], *arr.shape[2:])
    return flat[:units_done]


def run_case(op, shape_name, geometry, dtype, args, torch):
    """Time one (op, shape, dtype) row; return its dict of timings and ratios."""
    (xs, ws, stride, pad, pool, pstride) = geometry
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(dtype)
    w = (rng.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    y = S.conv_forward_im2col(x, w, b, stride, pad)
    row = {"op": op, "shape": shape_name, "dtype": np.dtype(dtype).name}
    tfns, naive, scipy_fns, floor = None, None, None, None

    if op in ("conv_fwd", "conv_fwdbwd"):
        row["geometry"] = f"x{xs} w{ws} s{stride} p{pad}"
        dout = rng.standard_normal(y.shape).astype(dtype)
        xp = _pad(x, pad)
        N, F = y.shape[:2]
        units = [(n, f) for n in range(N) for f in range(F)]
        backward = op == "conv_fwdbwd"
        if backward:
            def ref():
                S.conv_forward_im2col(x, w, b, stride, pad)
                return S.conv_backward_im2col(dout, x, w, b, stride, pad)
        else:
            def ref():
                return S.conv_forward_im2col(x, w, b, stride, pad)

        def loops(fwd_unit, bwd_unit):
            out, dxp, dw = np.zeros_like(y), np.zeros_like(xp), np.zeros_like(w)

            def unit(u):
                fwd_unit(xp, w, b, stride, out, *u)
                if backward:
                    bwd_unit(dout, xp, w, stride, dxp, dw, *u)
            return unit, (out, dxp, dw)
        if backward:
            floor = matmul_floor(x, w, dout, stride, pad)
        naive = loops(naive_conv_fwd_unit, naive_conv_bwd_unit)
        scipy_fns = loops(scipy_conv_fwd_unit, scipy_conv_bwd_unit)
        if torch is not None:
            tx, tw, tb = (torch.from_numpy(a).requires_grad_(backward) for a in (x, w, b))
            tdout = torch.from_numpy(dout)

            def tfns():
                if not backward:
                    with torch.no_grad():
                        return torch.nn.functional.conv2d(tx, tw, tb, stride, pad)
                tx.grad = tw.grad = tb.grad = None
                torch.nn.functional.conv2d(tx, tw, tb, stride, pad).backward(tdout)
                return tx.grad, tw.grad, tb.grad
    elif op == "maxpool_fwdbwd":
        row["geometry"] = f"x{y.shape} pool {pool} stride {pstride}"
        x = y
        pooled = S.max_pool_forward(x, pool, pstride)
        dout = rng.standard_normal(pooled.shape).astype(dtype)
        units = [(n, c) for n in range(x.shape[0]) for c in range(x.shape[1])]

        def ref():
            S.max_pool_forward(x, pool, pstride)
            return S.max_pool_backward(dout, x, pool, pstride),
        out, dx = np.zeros_like(pooled), np.zeros_like(x)
        naive = (lambda u: naive_maxpool_unit(x, dout, pool, pstride, out, dx, *u)), (out, dx)
        if torch is not None:
            tx, tdout = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

            def tfns():
                tx.grad = None
                torch.nn.functional.max_pool2d(tx, pool, pstride).backward(tdout)
                return tx.grad,
    elif op == "conv_fwd_algos":
        return algos_case(row, geometry, x, w, b, y, args, torch)
    else:  # batchnorm_fwdbwd
        row["geometry"] = f"x{y.shape}"
        x = y
        gamma, beta = rng.standard_normal((2, x.shape[1])).astype(dtype)
        dout = rng.standard_normal(x.shape).astype(dtype)
        units = [(c,) for c in range(x.shape[1])]

        def ref():
            S.spatial_batchnorm_forward(x, gamma, beta, EPS)
            return S.spatial_batchnorm_backward(dout, x, gamma, EPS)
        out, dx = np.zeros_like(x), np.zeros_like(x)
        naive = (lambda u: naive_batchnorm_unit(x, gamma, beta, dout, out, dx, *u)), (out, dx)
        if torch is not None:
            tx, tg, tb = (torch.from_numpy(a).requires_grad_() for a in (x, gamma, beta))
            tdout = torch.from_numpy(dout)

            def tfns():
                tx.grad = tg.grad = tb.grad = None
                torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=EPS).backward(tdout)
                return tx.grad, tg.grad, tb.grad

    expected = ref()
    if torch is not None:
        got = tfns()
        _check("torch", [got.numpy()] if op == "conv_fwd" else [t.numpy() for t in got],
               [expected] if op == "conv_fwd" else expected, dtype)

    # The reference, PyTorch and the matrix products alone, interleaved.
    fns = [ref] + ([tfns] if torch is not None else []) + ([floor] if floor is not None else [])
    times = dict(zip(["ref"] + (["torch"] if torch is not None else []) + (["floor"] if floor is not None else []),
                     race(fns, args.repeats)))
    row["ref_s"], row["torch_s"], row["matmuls_s"] = times["ref"], times.get("torch"), times.get("floor")

    # The capped loops, checked on the part they computed.
    for name, impl in (("naive", naive), ("scipy", scipy_fns)):
        if impl is None or (name == "naive" and args.no_naive) or (name == "scipy" and args.no_scipy):
            row[f"{name}_s"] = row[f"{name}_fraction"] = None
            continue
        unit, results = impl
        total, fraction = capped(unit, units, args.naive_seconds)
        row[f"{name}_s"], row[f"{name}_fraction"] = total, fraction
        done = round(fraction * len(units))
        if op.startswith("conv"):
            _check(name, [_units_slice(results[0], done)], [_units_slice(S.conv_forward_im2col(x, w, b, stride, pad), done)], dtype)
            if fraction == 1.0 and op == "conv_fwdbwd":
                H, W = xs[2:]
                _check(name, [results[1][:, :, pad:pad + H, pad:pad + W], results[2]], expected[:2], dtype)
        elif op == "maxpool_fwdbwd":
            _check(name, [_units_slice(results[1], done)], [_units_slice(expected[0], done)], dtype)
        else:
            _check(name, [results[1][:, :done]], [expected[0][:, :done]], dtype)

    if op == "conv_fwd":
        row.update(gemm_rate(x, w, stride, pad, y.shape, args.repeats))
    target = TARGETS.get((op, row["dtype"]))
    row["target_ref_over_torch"] = target
    ratio = row["ref_s"] / row["torch_s"] if row["torch_s"] else None
    row["ref_over_torch"] = ratio
    row["meets_target"] = None if target is None or ratio is None else ratio <= target
    return row


def algos_case(row, geometry, x, w, b, y, args, torch):
    """im2col, Winograd (3x3 stride 1 only), FFT and PyTorch forward passes, one race."""
    (xs, ws, stride, pad, _, _) = geometry
    row["geometry"] = f"x{xs} w{ws} s{stride} p{pad}"
    fns = {"ref": lambda: S.conv_forward_im2col(x, w, b, stride, pad),
           "fft": lambda: conv_forward_fft(x, w, b, stride, pad)}
    if ws[2:] == (3, 3) and stride == 1:
        U = winograd_filters(w)                      # a trained layer's filters: transformed once
        fns["winograd"] = lambda: conv_forward_winograd(x, w, b, pad, transformed=U)
        # Winograd's floor: its 16 matrix products alone, on transformed tiles made beforehand
        # (values do not matter for the time, only shapes: 16 x (F, C) @ (C, tiles)).
        tiles = xs[0] * -(-y.shape[2] // 2) * -(-y.shape[3] // 2)
        V = np.random.default_rng(1).standard_normal((16, xs[1], tiles)).astype(x.dtype)
        floor = lambda: np.matmul(U, V)
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))

        def forward():
            with torch.no_grad():
                return torch.nn.functional.conv2d(tx, tw, tb, stride, pad)
        fns["torch"] = forward
    for name, fn in fns.items():
        got = fn()
        _check(name, [got.numpy() if hasattr(got, "numpy") else got], [y], x.dtype.type)
    if "winograd" in fns:
        fns["winograd_matmuls"] = floor
    times = dict(zip(fns, race(list(fns.values()), args.algo_repeats)))
    N, F, Hout, Wout = y.shape
    K = ws[1] * ws[2] * ws[3]
    row.update(ref_s=times["ref"], torch_s=times.get("torch"), winograd_s=times.get("winograd"),
               winograd_matmuls_s=times.get("winograd_matmuls"),
               fft_s=times["fft"], gflop=2 * N * F * K * Hout * Wout / 1e9,
               gemm_bytes=x.itemsize * (F * K + K * N * Hout * Wout + F * N * Hout * Wout),
               layer_bytes=x.itemsize * (x.size + w.size + y.size),
               cols_bytes=2 * x.itemsize * K * N * Hout * Wout,   # cols written, then read
               matmuls_s=None, naive_s=None, naive_fraction=None, scipy_s=None, scipy_fraction=None,
               target_ref_over_torch=None, meets_target=None,
               ref_over_torch=times["ref"] / times["torch"] if "torch" in times else None)
    return row


def fft_sweep(sweep, dtype, repeats, torch):
    """im2col, FFT and PyTorch forward times for each kernel size of the sweep (same input)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(sweep["x"]).astype(dtype)
    C, F = sweep["x"][1], sweep["F"]
    rows = []
    for k in sweep["kernels"]:
        w = (rng.standard_normal((F, C, k, k)) / np.sqrt(C * k * k)).astype(dtype)
        b = np.zeros(F, dtype)
        pad = k // 2
        fns = {"ref": lambda: S.conv_forward_im2col(x, w, b, 1, pad),
               "fft": lambda: conv_forward_fft(x, w, b, 1, pad)}
        if torch is not None:
            tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))

            def forward():
                with torch.no_grad():
                    return torch.nn.functional.conv2d(tx, tw, tb, 1, pad)
            fns["torch"] = forward
        y = fns["ref"]()
        for name, fn in fns.items():
            got = fn()
            _check(name, [got.numpy() if hasattr(got, "numpy") else got], [y], dtype)
        times = dict(zip(fns, race(list(fns.values()), repeats)))
        rows.append({"k": k, "dtype": np.dtype(dtype).name, "ref_s": times["ref"], "fft_s": times["fft"],
                     "torch_s": times.get("torch")})
    return rows


def matmul_floor(x, w, dout, stride, pad):
    """The conv forward+backward's three matrix products alone, on operands built beforehand.

    w_row @ cols, dout_row @ cols.T and w_row.T @ dout_row over the whole batch: an im2col
    layer cannot take less time than these, whatever it does around them.
    """
    F = w.shape[0]
    cols = S.im2col(x, w.shape[2], w.shape[3], stride, pad)
    w_rows = w.reshape(F, -1)
    dout_rows = np.ascontiguousarray(dout.transpose(1, 0, 2, 3).reshape(F, -1))

    def products():
        return w_rows @ cols, dout_rows @ cols.T, w_rows.T @ dout_rows
    return products


def gemm_rate(x, w, stride, pad, out_shape, repeats):
    """GFLOP/s of the forward's matrix products alone (one (F, K) @ (K, P) per image) and of
    the whole conv forward, from the same flop count 2 * N * F * K * P."""
    N, F = out_shape[:2]
    cols = np.stack([S.im2col(x[n:n + 1], w.shape[2], w.shape[3], stride, pad) for n in range(N)])
    w_rows = w.reshape(F, -1)
    flops = 2 * N * F * cols.shape[1] * cols.shape[2]
    b = np.zeros(F, x.dtype)
    gemm_s, conv_s = race([lambda: np.matmul(w_rows, cols), lambda: S.conv_forward_im2col(x, w, b, stride, pad)], repeats)
    return {"gflop": flops / 1e9, "gemm_gflops": flops / gemm_s / 1e9, "conv_fwd_gflops": flops / conv_s / 1e9}


# --- reporting ---------------------------------------------------------------------------------
def fmt_ratio(value, extrapolated=False):
    if value is None:
        return "n/a"
    text = f"{value:,.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"
    return f"~{text}" if extrapolated else text


def _ms(t):
    return "" if t is None else f"{t * 1e3:.1f}"


def _over(a, b):
    return a / b if a is not None and b else None


def markdown(report):
    lines = [
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores; numpy "
        f"{report['machine']['numpy']} ({report['machine']['blas']}), scipy {report['machine']['scipy']}, "
        f"torch {report['machine']['torch'] or 'not installed'}"
        + (f" ({report['machine']['torch_threads']} threads)" if report['machine']['torch'] else "") + ".",
        f"GEMM peak ({report['peak_matmul_size']}^3 matmul, best of runs before, between and after the rows): float32 "
        f"{report['peak_gflops']['float32']:.0f} GFLOP/s, float64 {report['peak_gflops']['float64']:.0f} GFLOP/s. "
        f"Load average at start/end: {report['load_average'][0]:.1f}/{report['load_average'][1]:.1f}.",
        "",
        "Times are best of %d (ref, torch interleaved). `naive / ref` and `scipy / ref`: how many "
        "times slower they are (`~`: extrapolated from the part run within %.1f s). `ref / torch`: "
        "the target of issue 7 is this ratio. `matmuls` (conv forward+backward rows): the layer's three "
        "matrix products alone, timed in the same race; no im2col layer on this BLAS can be faster."
        % (report["repeats"], report["naive_seconds"]),
        "",
        "| op | shape | dtype | ref ms | naive / ref | scipy / ref | torch ms | ref / torch | target | met "
        "| matmuls ms | matmuls / torch |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in report["rows"]:
        naive = r["naive_s"] / r["ref_s"] if r["naive_s"] else None
        sp = r["scipy_s"] / r["ref_s"] if r["scipy_s"] else None
        met = "" if r["meets_target"] is None else ("yes" if r["meets_target"] else "**no**")
        torch_ms = "n/a" if r["torch_s"] is None else f"{r['torch_s'] * 1e3:.1f}"
        lines.append(
            f"| {r['op']} | {r['shape']} | {r['dtype']} | {r['ref_s'] * 1e3:.1f} | "
            f"{fmt_ratio(naive, (r['naive_fraction'] or 1) < 1)} | {fmt_ratio(sp, (r['scipy_fraction'] or 1) < 1)} | "
            f"{torch_ms} | "
            f"{fmt_ratio(r['ref_over_torch'])} | {r['target_ref_over_torch'] or ''} | {met} | "
            f"{_ms(r.get('matmuls_s'))} | {fmt_ratio(_over(r.get('matmuls_s'), r['torch_s'])) if r.get('matmuls_s') else ''} |")
    algos = [r for r in report["rows"] if r["op"] == "conv_fwd_algos"]
    if algos:
        lines += ["", "Beyond im2col, conv forward (`conv_fwd_algos`): time in ms and as a ratio to PyTorch's "
                  "in the same race.", "",
                  "| shape | dtype | im2col ms | Winograd ms | its 16 products ms | FFT ms | torch ms | "
                  "im2col / torch | Winograd / torch | FFT / torch |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in algos:
            def ratio(key, r=r):
                return fmt_ratio(_over(r[key], r["torch_s"])) if r[key] and r["torch_s"] else "n/a"
            lines.append(f"| {r['shape']} | {r['dtype']} | {_ms(r['ref_s'])} | {_ms(r['winograd_s']) or 'n/a'} | "
                         f"{_ms(r['winograd_matmuls_s']) or 'n/a'} | "
                         f"{_ms(r['fft_s'])} | {_ms(r['torch_s']) or 'n/a'} | {ratio('ref_s')} | "
                         f"{ratio('winograd_s')} | {ratio('fft_s')} |")
    if report.get("fft_sweep"):
        sw = report["sweep_geometry"]
        lines += ["", f"FFT crossover: x {tuple(sw['x'])}, {sw['F']} filters of k x k, stride 1, pad k // 2; "
                  "ms per forward pass.", "", "| k | dtype | im2col ms | FFT ms | torch ms | FFT / im2col |",
                  "|---:|---|---:|---:|---:|---:|"]
        for r in report["fft_sweep"]:
            lines.append(f"| {r['k']} | {r['dtype']} | {_ms(r['ref_s'])} | {_ms(r['fft_s'])} | "
                         f"{_ms(r['torch_s']) or 'n/a'} | {fmt_ratio(r['fft_s'] / r['ref_s'])} |")
    if report.get("bandwidth_gbs"):
        bw = report["bandwidth_gbs"]
        lines += ["", f"Memory bandwidth (copy of a {report['bandwidth_mib']} MiB array, read + write): "
                  f"{bw['one_thread']:.1f} GB/s on one thread, {bw['all_threads']:.1f} GB/s on "
                  f"{report['machine']['cores']}."]
    lines += ["", "Conv forward, matrix products only and whole layer, as a fraction of the GEMM peak:", "",
              "| shape | dtype | GFLOP | GEMM GFLOP/s | of peak | conv fwd GFLOP/s | of peak |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for r in report["rows"]:
        if r["op"] == "conv_fwd":
            peak = report["peak_gflops"][r["dtype"]]
            lines.append(f"| {r['shape']} | {r['dtype']} | {r['gflop']:.2f} | {r['gemm_gflops']:.0f} | "
                         f"{r['gemm_gflops'] / peak:.0%} | {r['conv_fwd_gflops']:.0f} | {r['conv_fwd_gflops'] / peak:.0%} |")
    return "\n".join(lines) + "\n"


def _seconds(t):
    return f"{t * 1e3:.0f} ms" if t < 1 else f"{t:.1f} s"


def plot(report, path):
    """Bar chart for the im2col chapter: conv forward+backward time per implementation, float32."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["rows"] if r["op"] == "conv_fwdbwd" and r["dtype"] == "float32"]
    impls = [("naive", "naive loops", "#bbbbbb"), ("scipy", "scipy.signal per channel", "#8da0cb"),
             ("ref", "im2col + matmul (solutions)", "#e78ac3"), ("torch", "PyTorch CPU", "#66c2a5")]
    impls = [impl for impl in impls if any(r[f"{impl[0]}_s"] is not None for r in rows)]
    fig, ax = plt.subplots(figsize=(8, 1.4 + 1.1 * len(rows)))
    height = 0.8 / len(impls)
    for k, (key, label, colour) in enumerate(impls):
        shown = [(i, r) for i, r in enumerate(rows) if r[f"{key}_s"] is not None]
        ys = [i + (k - (len(impls) - 1) / 2) * height for i, _ in shown]
        ts = [r[f"{key}_s"] for _, r in shown]
        ax.barh(ys, ts, height=height, color=colour, label=label)
        for y, t, (_, r) in zip(ys, ts, shown):
            extrapolated = key in ("naive", "scipy") and r[f"{key}_fraction"] < 1
            ax.text(t * 1.1, y, _seconds(t) + (" (extrapolated)" if extrapolated else ""),
                    va="center", fontsize=7)
    labels = []
    for r in rows:
        x, w, stride, pad = next(g[:4] for name, g in {**SHAPES, **QUICK_SHAPES}.items() if name == r["shape"])
        labels.append(f"{r['shape']}\nx {'x'.join(map(str, x))}\nw {'x'.join(map(str, w))}, s{stride} p{pad}")
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(right=ax.get_xlim()[1] * 10)
    ax.set_xlabel("time of one forward + backward pass (log scale)")
    ax.set_title(f"Conv layer forward + backward, float32, {report['machine']['cores']} CPU cores", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.1 / len(rows)), ncol=len(impls))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine_info(torch):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{i['internal_api']} {i['version']} {i['num_threads']} threads"
                         for i in threadpool_info() if i["user_api"] == "blas")
    except ImportError:
        blas = "BLAS unknown"
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "blas": blas,
            "torch": torch.__version__ if torch else None,
            "torch_threads": torch.get_num_threads() if torch else None}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny shapes, for a smoke test")
    p.add_argument("--ops", nargs="+", choices=OPS, default=list(OPS))
    p.add_argument("--shapes", nargs="+", help="names of shapes to run (default: all)")
    p.add_argument("--dtypes", nargs="+", choices=["float32", "float64"], default=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=5, help="best of this many runs of ref and torch")
    p.add_argument("--naive-seconds", type=float, default=1.5, help="time cap of each naive / scipy run")
    p.add_argument("--no-naive", action="store_true")
    p.add_argument("--no-scipy", action="store_true")
    p.add_argument("--no-torch", action="store_true", help="do not use PyTorch even if installed")
    p.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: PyTorch's own)")
    p.add_argument("--threads", type=int, help="one limit for BLAS, PyTorch and solutions' chunk threads")
    p.add_argument("--algo-repeats", type=int, default=9, help="best of this many runs in conv_fwd_algos")
    p.add_argument("--no-sweep", action="store_true", help="skip the FFT kernel-size sweep")
    p.add_argument("--out-dir", type=Path, default=RESULTS, help="where kernels.{json,md,png} go")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    p.add_argument("--replot", action="store_true",
                   help="run nothing: rewrite kernels.md and kernels.png from the kernels.json in --out-dir")
    args = p.parse_args(argv)
    if args.replot:
        report = json.loads((args.out_dir / "kernels.json").read_text())
        (args.out_dir / "kernels.md").write_text(markdown(report))
        plot(report, args.out_dir / "kernels.png")
        return report

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: reporting ratios to naive loops and scipy only.")
        if torch is not None and (args.torch_threads or args.threads):
            torch.set_num_threads(args.torch_threads or args.threads)
    limits = None
    if args.threads:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(args.threads)
        _parallel._WORKERS = min(args.threads, _parallel._WORKERS)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    if args.shapes:
        shapes = {k: shapes[k] for k in args.shapes}

    load_start = os.getloadavg()[0]
    peak_size = 1024 if args.quick else 2048
    peaks = {dt: [] for dt in args.dtypes}
    rows = []
    for dtype in args.dtypes:
        # The peak is measured around the rows that use it; other processes only lower it,
        # so the best of these runs is the one reported.
        peaks[dtype].append(gemm_peak(dtype, peak_size))
        for name, geometry in shapes.items():
            for op in args.ops:
                row = run_case(op, name, geometry, np.dtype(dtype).type, args, torch)
                rows.append(row)
                print(f"{op:17s} {name:14s} {dtype}: ref {row['ref_s'] * 1e3:8.1f} ms"
                      + (f"  ref/torch {row['ref_over_torch']:.2f}" if row["ref_over_torch"] else "")
                      + (f"  naive/ref {row['naive_s'] / row['ref_s']:.0f}" if row["naive_s"] else "")
                      + (f"  scipy/ref {row['scipy_s'] / row['ref_s']:.0f}" if row["scipy_s"] else ""),
                      flush=True)
    for dt in args.dtypes:
        peaks[dt].append(gemm_peak(dt, peak_size))
    sweep = QUICK_SWEEP if args.quick else SWEEP
    sweep_rows = [] if args.no_sweep else [
        r for dt in args.dtypes for r in fft_sweep(sweep, np.dtype(dt).type, args.algo_repeats, torch)]
    for r in sweep_rows:
        print(f"fft sweep k={r['k']:2d} {r['dtype']}: im2col {r['ref_s'] * 1e3:7.2f} ms, fft {r['fft_s'] * 1e3:7.2f} ms",
              flush=True)
    bw_mib = 32 if args.quick else 256
    bandwidth = {"one_thread": max(memory_bandwidth(bw_mib) for _ in range(2)),
                 "all_threads": max(memory_bandwidth(bw_mib, workers=_parallel._WORKERS) for _ in range(2))}
    report = {
        "command": " ".join(["python benchmarks/bench_kernels.py"] + (sys.argv[1:] if argv is None else list(argv))),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(torch), "repeats": args.repeats, "naive_seconds": args.naive_seconds,
        "load_average": [load_start, os.getloadavg()[0]],
        "peak_gflops": {dt: max(v) for dt, v in peaks.items()},
        "peak_gflops_runs": peaks, "peak_matmul_size": peak_size,
        "threads": args.threads, "bandwidth_gbs": bandwidth, "bandwidth_mib": bw_mib,
        "sweep_geometry": sweep, "fft_sweep": sweep_rows,
        "rows": rows,
    }
    if limits is not None:
        limits.restore_original_limits()
    for dt in ("float32", "float64"):
        report["peak_gflops"].setdefault(dt, float("nan"))
    table = markdown(report)
    print()
    print(table)
    if not args.no_write:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (args.out_dir / "kernels.json").write_text(json.dumps(report, indent=1) + "\n")
        (args.out_dir / "kernels.md").write_text(table)
        if any(r["op"] == "conv_fwdbwd" and r["dtype"] == "float32" for r in rows):
            plot(report, args.out_dir / "kernels.png")
        print(f"wrote {args.out_dir}/kernels.json, kernels.md" + (", kernels.png" if (args.out_dir / "kernels.png").exists() else ""))
    return report


if __name__ == "__main__":
    main()
