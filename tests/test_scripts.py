"""The files chapter 8 ships are what scripts/pretrain.py and scripts/fine_tuning_experiment.py
produce: re-run them (or a subset of their runs) and compare."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from solutions.fine_tuning import load_params, source_split
from solutions.training import accuracy, small_cnn

ROOT = Path(__file__).resolve().parents[1]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pretrain = load_script("pretrain")
experiment = load_script("fine_tuning_experiment")
norm_experiment = load_script("normalization_experiment")


@pytest.fixture(scope="module")
def cached():
    return json.loads(experiment.RESULTS.read_text())


@pytest.fixture(scope="module")
def cached_norm():
    return json.loads(norm_experiment.RESULTS.read_text())


def test_shipped_weights_reach_the_stated_accuracy_on_held_out_digits_0_to_4():
    _, _, x_heldout, y_heldout = source_split()
    net = small_cnn(n_classes=5).load(load_params(pretrain.WEIGHTS))
    assert accuracy(net, x_heldout, y_heldout) >= pretrain.MIN_HELDOUT_ACCURACY


@pytest.mark.slow
def test_pretrain_script_reproduces_the_shipped_weights(tmp_path):
    out = tmp_path / "pretrained.npz"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain.py"), "--out", str(out)],
                   check=True, capture_output=True, cwd=tmp_path)
    produced, shipped = load_params(out), load_params(pretrain.WEIGHTS)
    assert produced.keys() == shipped.keys()
    # One BLAS thread makes the run bit-identical on one machine; the tolerance leaves room
    # for another CPU's BLAS kernels adding in a different order.
    for name in shipped:
        np.testing.assert_allclose(produced[name], shipped[name], rtol=0, atol=1e-8, err_msg=name)


def test_cached_results_were_made_with_the_scripts_current_configuration(cached):
    assert cached["config"] == json.loads(json.dumps(experiment.CONFIG))


def test_cached_tables_summarise_the_cached_runs(cached):
    assert cached["transfer_table"] == json.loads(json.dumps(
        experiment.summarize(cached["transfer_runs"], ("method", "per_class"))))
    assert cached["paired"] == json.loads(json.dumps(experiment.paired(cached["transfer_runs"])))
    assert cached["sensitivity_table"] == json.loads(json.dumps(
        experiment.summarize(cached["sensitivity_runs"], ("lr", "batch_size"))))


def test_paired_differences_and_their_interval_by_hand():
    """Two seeds, differences 0.1 and 0.3: mean 0.2, sd 0.1414, t(0.975, 1) = 12.706."""
    runs = [{"method": m, "per_class": 10, "seed": s, "final_acc": a}
            for m, s, a in [("scratch", 0, 0.5), ("scratch", 1, 0.6), ("arm", 0, 0.6), ("arm", 1, 0.9)]]
    (row,) = experiment.paired(runs, comparisons=[("arm", "scratch")])
    assert row["mean_diff"] == pytest.approx(0.2) and row["sd_diff"] == pytest.approx(0.1414, abs=1e-4)
    assert row["ci_high"] - row["mean_diff"] == pytest.approx(12.706 * 0.1 , abs=1e-3)
    assert row["t"] == pytest.approx(2.0)


def test_cached_experiment_ran_within_ten_minutes_on_two_cores(cached, cached_norm):
    for timing in (cached["timing"], cached_norm["timing"]):
        assert timing["workers"] <= 2 and timing["wall_seconds"] < 600


def test_cached_normalization_results_match_the_script(cached_norm):
    assert cached_norm["config"] == json.loads(json.dumps(norm_experiment.CONFIG))
    runs = cached_norm["runs"]
    assert len(runs) == len(norm_experiment.jobs(norm_experiment.CONFIG))
    for study, keys in {"lr_scale": ("norm", "lr", "scale"), "small_batch": ("norm", "batch_size"),
                        "placement": ("place", "lr")}.items():
        assert cached_norm["tables"][study] == json.loads(json.dumps(
            norm_experiment.summarize([r for r in runs if r["study"] == study], keys)))


@pytest.mark.slow
def test_a_reduced_experiment_reproduces_the_cached_runs_it_covers(cached):
    config = json.loads(json.dumps(experiment.CONFIG))
    config["transfer"].update(arms=["scratch", "probe_conv2", "discriminative", "probe_then_fine_tune",
                                    "scratch_augmented", "copy1_frozen"], per_class=[10], seeds=[1])
    config["sensitivity"].update(lrs=[0.03], batch_sizes=[32], seeds=[0])
    fresh = experiment.experiment(config, progress=False)
    one_image = 1 / cached["n_heldout"]

    def find(runs, run, keys):
        return next(r for r in runs if all(r[k] == run[k] for k in keys))

    for run in fresh["transfer_runs"]:
        old = find(cached["transfer_runs"], run, ("method", "per_class", "seed"))
        np.testing.assert_allclose(run["eval_acc"], old["eval_acc"], rtol=0, atol=one_image + 1e-12)
        if old["source_acc"] is not None:
            assert run["source_acc"] == pytest.approx(old["source_acc"], abs=1 / cached["n_source_heldout"] + 1e-12)
    for run in fresh["sensitivity_runs"]:
        old = find(cached["sensitivity_runs"], run, ("lr", "batch_size", "seed"))
        assert run["final_acc"] == pytest.approx(old["final_acc"], abs=one_image + 1e-12)
    assert len(fresh["transfer_runs"]) == 6 and len(fresh["sensitivity_runs"]) == 1


@pytest.mark.slow
def test_a_reduced_normalization_experiment_reproduces_the_cached_runs_it_covers(cached_norm):
    config = json.loads(json.dumps(norm_experiment.CONFIG))
    config["lr_scale"].update(norms=["batch"], lrs=[0.3], scales=[3.0], seeds=[1])
    config["small_batch"].update(norms=["group"], batch_sizes=[32], seeds=[0])
    config["placement"].update(places=["after"], lrs=[0.03], seeds=[2])
    fresh = norm_experiment.experiment(config, progress=False)
    assert len(fresh["runs"]) == 3
    for run in fresh["runs"]:
        keys = [k for k in run if k not in ("final_acc", "final_loss", "diverged", "batch_stats_acc")]
        old = next(r for r in cached_norm["runs"] if all(r.get(k) == run[k] for k in keys))
        assert run["diverged"] == old["diverged"]
        if not run["diverged"]:
            assert run["final_acc"] == pytest.approx(old["final_acc"], abs=1 / 250 + 1e-12)
