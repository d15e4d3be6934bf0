"""The experiments chapter 8 reports, written to book/data/fine_tuning_results.json.

    python scripts/fine_tuning_experiment.py [--out book/data/fine_tuning_results.json]

1. Transfer: on digits 5-9 with 10, 50 or all (about 130) labelled images per class, over
   several seeds, compare training from scratch, linear probes (on random and on pretrained
   features), fine-tuning the last two layers, and fine-tuning the whole network with the
   pretraining learning rate and with one ten times lower. Every run makes the same number of
   SGD steps and records held-out accuracy along the way (its learning curve).
2. Sensitivity ("training is finicky"): training from scratch on all target labels with a
   grid of learning rates and batch sizes, over a few seeds.

Each run is seeded by its own (method, labels per class, seed), independently of the others,
so any subset of the runs can be re-run and must give the same numbers
(tests/test_scripts.py does that for a few of them). BLAS runs on one thread for the same reason.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from solutions.fine_tuning import few_labels, load_params, target_split
from solutions.training import accuracy, freeze_below, replace_head, small_cnn, train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "book" / "data" / "fine_tuning_results.json"
WEIGHTS = ROOT / "exercises" / "ch08_fine_tuning" / "pretrained.npz"

# method: (what it is, start from pretrained weights?, first trainable layer, lr factor)
METHODS = {
    "scratch": ("random initialisation, every layer trained", False, "conv1", 1.0),
    "probe_random": ("linear probe: new head on frozen random features", False, "fc2", 1.0),
    "linear_probe": ("linear probe: new head on frozen pretrained features", True, "fc2", 1.0),
    "fine_tune_top": ("pretrained, convs frozen, fc1 and a new head trained", True, "fc1", 1.0),
    "fine_tune_all": ("pretrained, every layer trained, learning rate / 10", True, "conv1", 0.1),
    "fine_tune_all_full_lr": ("pretrained, every layer trained, full learning rate", True, "conv1", 1.0),
}

CONFIG = {
    "transfer": {
        "methods": list(METHODS),
        "per_class": [10, 50, None],          # None: every training image of the target split
        "seeds": [0, 1, 2, 3, 4],
        "steps": 300,
        "batch_size": 32,
        "lr": 0.05,
        "momentum": 0.9,
        "eval_every": 25,
    },
    "sensitivity": {
        "lrs": [0.003, 0.01, 0.03, 0.1, 0.3],
        "batch_sizes": [8, 32, 128],
        "seeds": [0, 1, 2],
        "steps": 300,
        "momentum": 0.9,
    },
}


def transfer_run(method, per_class, seed, pretrained, data, cfg):
    """One training run of the transfer experiment; returns its record."""
    _, from_pretrained, first_trainable, lr_factor = METHODS[method]
    x_pool, y_pool, x_heldout, y_heldout = data
    x, y = few_labels(x_pool, y_pool, per_class, seed)
    # Distinct seeds for the head's (or network's) initialisation and for the batch order.
    init_seed, batch_seed = 1000 + seed, 2000 + seed
    if from_pretrained:
        net = replace_head(small_cnn(n_classes=5).load(pretrained), 5, seed=init_seed)
    else:
        net = small_cnn(n_classes=5, seed=init_seed)
    freeze_below(net, first_trainable)
    history = train(net, x, y, steps=cfg["steps"], batch_size=cfg["batch_size"],
                    lr=cfg["lr"] * lr_factor, momentum=cfg["momentum"], seed=batch_seed,
                    x_eval=x_heldout, y_eval=y_heldout, eval_every=cfg["eval_every"], progress=False)
    return {"method": method, "per_class": per_class, "seed": seed, "n_train": len(x),
            "final_acc": history["eval_acc"][-1], "final_loss": history["loss"][-1],
            "eval_step": history["eval_step"], "eval_acc": history["eval_acc"]}


def sensitivity_run(lr, batch_size, seed, data, cfg):
    """Train from scratch on every target label with one (lr, batch size); returns its record."""
    x, y, x_heldout, y_heldout = data
    net = small_cnn(n_classes=5, seed=1000 + seed)
    record = {"lr": lr, "batch_size": batch_size, "seed": seed}
    try:
        # Overflow is how a too-large learning rate shows up first: count it as divergence.
        with np.errstate(over="raise", invalid="raise"):
            history = train(net, x, y, steps=cfg["steps"], batch_size=batch_size, lr=lr,
                            momentum=cfg["momentum"], seed=2000 + seed, progress=False)
    except FloatingPointError:
        return {**record, "diverged": True, "final_acc": None, "final_loss": None}
    return {**record, "diverged": False, "final_acc": accuracy(net, x_heldout, y_heldout),
            "final_loss": history["loss"][-1]}


def summarize(runs, keys):
    """Mean, standard deviation, min and max of final accuracy over seeds, per `keys` group."""
    groups = {}
    for run in runs:
        groups.setdefault(tuple(run[k] for k in keys), []).append(run)
    rows = []
    for key, group in groups.items():
        accs = [r["final_acc"] for r in group if r["final_acc"] is not None]
        row = dict(zip(keys, key), n_seeds=len(group), n_diverged=sum(r.get("diverged", False) for r in group))
        if accs:
            row.update(mean=float(np.mean(accs)), std=float(np.std(accs)), min=min(accs), max=max(accs))
        if "eval_acc" in group[0]:
            row["eval_step"] = group[0]["eval_step"]
            row["mean_curve"] = np.mean([r["eval_acc"] for r in group], axis=0).tolist()
        rows.append(row)
    return rows


def experiment(config=CONFIG, weights=WEIGHTS, progress=None):
    """Run every run of config; returns the results dict that main() writes as JSON."""
    pretrained = load_params(weights)
    data = target_split()
    t, s = config["transfer"], config["sensitivity"]
    jobs = [("transfer", (m, n, seed)) for m in t["methods"] for n in t["per_class"] for seed in t["seeds"]]
    jobs += [("sensitivity", (lr, bs, seed)) for lr in s["lrs"] for bs in s["batch_sizes"] for seed in s["seeds"]]
    transfer, sensitivity = [], []
    with threadpool_limits(1):
        for kind, args in tqdm(jobs, desc="runs", disable=None if progress is None else not progress):
            if kind == "transfer":
                transfer.append(transfer_run(*args, pretrained, data, t))
            else:
                sensitivity.append(sensitivity_run(*args, data, s))
    return {
        "config": config,
        "methods": {name: spec[0] for name, spec in METHODS.items()},
        "n_heldout": len(data[3]),
        "n_train_pool": len(data[1]),
        "transfer_table": summarize(transfer, ("method", "per_class")),
        "sensitivity_table": summarize(sensitivity, ("lr", "batch_size")),
        "transfer_runs": transfer,
        "sensitivity_runs": sensitivity,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = experiment(progress=False if args.no_progress else None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    for row in results["transfer_table"]:
        print(f"{row['method']:>22} {str(row['per_class']):>5} per class: "
              f"{row['mean']:.3f} +- {row['std']:.3f}")
    print(f"{len(results['transfer_runs']) + len(results['sensitivity_runs'])} runs in "
          f"{time.perf_counter() - start:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
