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


@pytest.fixture(scope="module")
def cached():
    return json.loads(experiment.RESULTS.read_text())


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
    assert cached["sensitivity_table"] == json.loads(json.dumps(
        experiment.summarize(cached["sensitivity_runs"], ("lr", "batch_size"))))


@pytest.mark.slow
def test_a_reduced_experiment_reproduces_the_cached_runs_it_covers(cached):
    config = json.loads(json.dumps(experiment.CONFIG))
    config["transfer"].update(methods=["scratch", "linear_probe", "fine_tune_all"], per_class=[10], seeds=[1])
    config["sensitivity"].update(lrs=[0.03], batch_sizes=[32], seeds=[0])
    fresh = experiment.experiment(config, progress=False)
    one_image = 1 / cached["n_heldout"]

    def find(runs, run, keys):
        return next(r for r in runs if all(r[k] == run[k] for k in keys))

    for run in fresh["transfer_runs"]:
        old = find(cached["transfer_runs"], run, ("method", "per_class", "seed"))
        np.testing.assert_allclose(run["eval_acc"], old["eval_acc"], rtol=0, atol=one_image + 1e-12)
    for run in fresh["sensitivity_runs"]:
        old = find(cached["sensitivity_runs"], run, ("lr", "batch_size", "seed"))
        assert run["final_acc"] == pytest.approx(old["final_acc"], abs=one_image + 1e-12)
    assert len(fresh["transfer_runs"]) == 3 and len(fresh["sensitivity_runs"]) == 1
