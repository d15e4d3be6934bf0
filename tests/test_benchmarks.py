"""Smoke test of benchmarks/bench_kernels.py on tiny shapes: it runs, checks every
implementation against the reference, and writes its table, JSON and plot.

No timing is asserted: timings on shared CI cores say nothing about correctness.
"""
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_kernels.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_kernels", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    report = bench.main(["--quick", "--no-torch", "--repeats", "1", "--naive-seconds", "0.05",
                         "--algo-repeats", "1", "--out-dir", str(out)])
    return report, out


@pytest.mark.slow
def test_quick_run_times_every_op_shape_and_dtype(bench, quick_run):
    report, _ = quick_run
    cells = {(r["op"], r["shape"], r["dtype"]) for r in report["rows"]}
    assert cells == {(op, shape, dtype) for op in bench.OPS for shape in bench.QUICK_SHAPES
                     for dtype in ("float32", "float64")}


@pytest.mark.slow
def test_quick_run_reports_positive_times_for_ref_naive_and_scipy(quick_run):
    report, _ = quick_run
    for row in report["rows"]:
        if row["op"] == "conv_fwd_algos":
            continue
        assert row["ref_s"] > 0 and row["naive_s"] > 0
        assert 0 < row["naive_fraction"] <= 1
        if row["op"].startswith("conv"):
            assert row["scipy_s"] > 0


@pytest.mark.slow
def test_quick_run_times_winograd_on_3x3_stride_1_layers_only_and_fft_everywhere(bench, quick_run):
    report, _ = quick_run
    for row in (r for r in report["rows"] if r["op"] == "conv_fwd_algos"):
        _, w, stride, *_ = bench.QUICK_SHAPES[row["shape"]]
        assert row["fft_s"] > 0 and row["ref_s"] > 0
        assert (row["winograd_s"] is not None) == (w[2:] == (3, 3) and stride == 1)


@pytest.mark.slow
def test_quick_run_sweeps_kernel_sizes_and_measures_bandwidth(bench, quick_run):
    report, out = quick_run
    assert [r["k"] for r in report["fft_sweep"] if r["dtype"] == "float32"] == bench.QUICK_SWEEP["kernels"]
    assert all(r["ref_s"] > 0 and r["fft_s"] > 0 for r in report["fft_sweep"])
    assert report["bandwidth_gbs"]["one_thread"] > 0 and report["bandwidth_gbs"]["all_threads"] > 0
    assert "FFT crossover" in (out / "kernels.md").read_text()


@pytest.mark.slow
def test_quick_run_without_torch_reports_no_torch_ratio(quick_run):
    report, _ = quick_run
    assert all(row["torch_s"] is None and row["ref_over_torch"] is None for row in report["rows"])


@pytest.mark.slow
def test_quick_run_measures_the_gemm_peak_and_the_forward_gemm_rate(quick_run):
    report, _ = quick_run
    assert report["peak_gflops"]["float32"] > 0 and report["peak_gflops"]["float64"] > 0
    forward = [r for r in report["rows"] if r["op"] == "conv_fwd"]
    assert forward and all(r["gemm_gflops"] > 0 and r["conv_fwd_gflops"] > 0 for r in forward)


@pytest.mark.slow
def test_quick_run_writes_table_json_and_plot(quick_run):
    report, out = quick_run
    table = (out / "kernels.md").read_text()
    assert "| op | shape | dtype | ref ms | naive / ref | scipy / ref |" in table
    assert len([line for line in table.splitlines() if line.startswith("| conv_fwdbwd |")]) == 4
    assert json.loads((out / "kernels.json").read_text())["rows"] == json.loads(json.dumps(report["rows"]))
    assert (out / "kernels.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_capped_extrapolates_from_the_units_it_ran(bench):
    ran = []
    total, fraction = bench.capped(ran.append, list(range(10)), seconds=0.0)
    assert ran == [0] and fraction == pytest.approx(0.1) and total >= 0


def test_check_rejects_an_implementation_that_disagrees_with_ref(bench):
    import numpy as np

    with pytest.raises(AssertionError, match="naive disagrees with ref"):
        bench._check("naive", [np.ones(3)], [np.zeros(3)], np.float64)


def test_committed_results_cover_every_op_shape_and_dtype(bench):
    report = json.loads((bench.RESULTS / "kernels.json").read_text())
    cells = {(r["op"], r["shape"], r["dtype"]) for r in report["rows"]}
    # the main run predates conv_fwd_algos, which has its own recorded runs (next test)
    assert cells == {(op, shape, dtype) for op in bench.OPS if op != "conv_fwd_algos"
                     for shape in bench.SHAPES for dtype in ("float32", "float64")}


@pytest.mark.parametrize("folder, threads", [("beyond_im2col", None), ("beyond_im2col_1thread", 1)])
def test_committed_beyond_im2col_runs_have_pytorch_every_algorithm_the_sweep_and_both_roofs(bench, folder,
                                                                                           threads):
    """Chapter 7's roofline, Winograd and FFT sections read these two runs."""
    report = json.loads((bench.RESULTS / folder / "kernels.json").read_text())
    assert report["threads"] == threads and report["machine"]["torch"]
    algos = {(r["shape"], r["dtype"]): r for r in report["rows"] if r["op"] == "conv_fwd_algos"}
    assert set(algos) == {(s, d) for s in bench.SHAPES for d in ("float32", "float64")}
    for (shape, _), r in algos.items():
        _, w, stride, *_ = bench.SHAPES[shape]
        assert r["torch_s"] and r["fft_s"] and (r["winograd_s"] is not None) == (w[2:] == (3, 3) and stride == 1)
    assert [r["k"] for r in report["fft_sweep"] if r["dtype"] == "float32"] == bench.SWEEP["kernels"]
    assert report["bandwidth_gbs"]["all_threads"] > 0 and report["peak_gflops"]["float32"] > 0
    assert (bench.RESULTS / folder / "kernels.md").read_text() == bench.markdown(report)


def test_committed_table_is_the_committed_json_rendered(bench):
    report = json.loads((bench.RESULTS / "kernels.json").read_text())
    assert (bench.RESULTS / "kernels.md").read_text() == bench.markdown(report)
