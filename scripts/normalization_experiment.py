"""The batch-norm experiments chapter 5 reports, written to book/data/normalization_results.json.

    python scripts/normalization_experiment.py [--out book/data/normalization_results.json] [--workers 2]

All runs train chapter 8's digit network (solutions.training.small_cnn) from scratch on the
digits 5-9 pool and measure held-out accuracy in inference mode; the normalised versions put
a layer after each convolution (solutions.normalization_layers.with_norm).

1. Learning rate x initial scale: without and with batch norm, a grid of learning rates and
   of factors multiplying every He-initialised weight.
2. Small batches: no normalisation, batch norm and group norm, for batch sizes from 1 to 32,
   every run seeing the same number of images.
3. Placement: batch norm before or after the ReLU.

Each run is seeded by its own settings only, so any subset can be re-run and must give the
same numbers whatever the number of workers; BLAS runs on one thread.
"""
import argparse
import json
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from solutions.fine_tuning import target_split
from solutions.normalization_layers import set_training, with_norm
from solutions.training import accuracy, train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "book" / "data" / "normalization_results.json"

CONFIG = {
    "lr_scale": {"norms": [None, "batch"], "lrs": [0.01, 0.03, 0.1, 0.2, 0.3, 1.0], "scales": [0.3, 1.0, 3.0],
                 "seeds": [0, 1, 2], "steps": 300, "batch_size": 32, "momentum": 0.9},
    "small_batch": {"norms": [None, "batch", "group"], "batch_sizes": [1, 2, 4, 32], "images": 3200,
                    "lr": 0.01, "seeds": [0, 1, 2, 3, 4], "momentum": 0.9, "groups": 4},
    "placement": {"places": ["before", "after"], "lrs": [0.03, 0.3], "seeds": [0, 1, 2, 3, 4], "steps": 300,
                  "batch_size": 32, "momentum": 0.9},
}


def run(study, settings, cfg, data):
    """One training run; returns its record (settings, accuracy, divergence, last losses)."""
    x, y, x_heldout, y_heldout = data
    seed = settings["seed"]
    norm, place, scale = settings.get("norm", "batch"), settings.get("place", "before"), settings.get("scale", 1.0)
    batch_size = settings.get("batch_size", cfg.get("batch_size"))
    steps = cfg["steps"] if "steps" in cfg else cfg["images"] // batch_size
    lr = settings.get("lr", cfg.get("lr"))
    net = with_norm(norm, place, seed=1000 + seed, scale=scale, groups=cfg.get("groups", 4))
    record = {"study": study, **settings, "steps": steps}
    try:
        with np.errstate(over="raise", invalid="raise"):
            history = train(net, x, y, steps=steps, batch_size=batch_size, lr=lr, momentum=cfg["momentum"],
                            seed=2000 + seed, progress=False)
            set_training(net, False)
            acc = accuracy(net, x_heldout, y_heldout)
            # Batch norm's other choice at test time: the statistics of test batches of the
            # training batch size (what the layer saw while training), not the running ones.
            batch_stats_acc = None
            if norm == "batch" and study == "small_batch":
                set_training(net, True)
                predicted = np.concatenate([net.forward(x_heldout[i:i + batch_size]).argmax(axis=1)
                                            for i in range(0, len(x_heldout), batch_size)])
                batch_stats_acc = float(np.mean(predicted == y_heldout))
    except FloatingPointError:
        return {**record, "diverged": True, "final_acc": None, "final_loss": None}
    return {**record, "diverged": False, "final_acc": acc,
            "final_loss": float(np.mean(history["loss"][-20:])), "batch_stats_acc": batch_stats_acc}


def jobs(config):
    c = config["lr_scale"]
    out = [("lr_scale", {"norm": n, "lr": lr, "scale": s, "seed": seed}, c)
           for n in c["norms"] for lr in c["lrs"] for s in c["scales"] for seed in c["seeds"]]
    c = config["small_batch"]
    # The slow small-batch runs first, so that two workers finish together.
    out += [("small_batch", {"norm": n, "batch_size": bs, "seed": seed}, c)
            for bs in c["batch_sizes"] for n in c["norms"] for seed in c["seeds"]]
    c = config["placement"]
    out += [("placement", {"place": p, "lr": lr, "seed": seed}, c)
            for p in c["places"] for lr in c["lrs"] for seed in c["seeds"]]
    return out


_DATA = {}


def _init(one_blas_thread=True):
    _DATA["data"] = target_split()
    if one_blas_thread:
        _DATA["limits"] = threadpool_limits(1)


def _run(job):
    study, settings, cfg = job
    return run(study, settings, cfg, _DATA["data"])


def summarize(runs, keys):
    """Per group of `keys`: seeds, divergences, mean / min / max accuracy of the runs that finished."""
    groups = {}
    for r in runs:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    rows = []
    for key, group in groups.items():
        accs = [r["final_acc"] for r in group if r["final_acc"] is not None]
        row = dict(zip(keys, key), n_seeds=len(group), n_diverged=sum(r["diverged"] for r in group))
        if accs:
            row.update(mean=float(np.mean(accs)), min=min(accs), max=max(accs))
        other = [r["batch_stats_acc"] for r in group if r.get("batch_stats_acc") is not None]
        if other:
            row["batch_stats_mean"] = float(np.mean(other))
        rows.append(row)
    return rows


def experiment(config=CONFIG, progress=None, workers=1):
    all_jobs = jobs(config)
    bar = dict(total=len(all_jobs), desc="runs", disable=None if progress is None else not progress)
    if workers > 1:
        with ProcessPoolExecutor(workers, initializer=_init) as pool:
            runs = list(tqdm(pool.map(_run, all_jobs), **bar))
    else:
        _init(one_blas_thread=False)
        with threadpool_limits(1):
            runs = [_run(job) for job in tqdm(all_jobs, **bar)]
    by_study = {s: [r for r in runs if r["study"] == s] for s in config}
    return {
        "config": config,
        "tables": {"lr_scale": summarize(by_study["lr_scale"], ("norm", "lr", "scale")),
                   "small_batch": summarize(by_study["small_batch"], ("norm", "batch_size")),
                   "placement": summarize(by_study["placement"], ("place", "lr"))},
        "runs": runs,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (results do not depend on it)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = experiment(progress=False if args.no_progress else None, workers=args.workers)
    used = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    results["timing"] = {"wall_seconds": round(time.perf_counter() - start, 1), "workers": args.workers,
                         "cpu_seconds": round(sum(u.ru_utime + u.ru_stime for u in used), 1),
                         "cores": os.cpu_count(), "load_average_end": round(os.getloadavg()[0], 2)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    for study, rows in results["tables"].items():
        for row in rows:
            print(study, {k: v for k, v in row.items() if k not in ("min", "max")})
    print(f"{len(results['runs'])} runs in {results['timing']['wall_seconds']:.0f} s with {args.workers} "
          f"workers; wrote {args.out}")


if __name__ == "__main__":
    main()
