"""The experiments chapter 8 reports, written to book/data/fine_tuning_results.json.

    python scripts/fine_tuning_experiment.py [--out book/data/fine_tuning_results.json] [--workers 2]

1. Transfer: on digits 5-9 with 10, 50 or all (646) labelled images, over ten seeds, the
   ways of reusing the network pretrained on digits 0-4 (scripts/pretrain.py) and the
   controls that decide whether the reuse helps:
   - training from scratch (the baseline every other arm is compared with, paired by seed);
   - linear probes on the features of fc1, of the pooled conv2 maps and of conv1, each on
     pretrained and on random frozen weights;
   - fine-tuning fc1 and the head on frozen convolutions, pretrained or random;
   - fine-tuning everything: at the base learning rate, at a tenth of it, with discriminative
     rates (head at the base rate, the rest at a tenth), and probe-then-fine-tune;
   - scratch and full fine-tuning on data augmented with small shifts and rotations;
   - Yosinski et al.'s layer sweep: the first k layers copied (frozen, or fine-tuned) or
     random and frozen, the layers above them freshly initialised;
   and, for every arm that keeps the pretrained network's body, its accuracy on the
   held-out digits 0-4 with the old head put back (how much of the source task survives).
2. Sensitivity ("training is finicky"): training from scratch on all target labels with a
   grid of learning rates and batch sizes, over a few seeds.

Every run makes the same number of SGD steps. Each run is seeded by its own (arm, labels,
seed) only, so any subset of the runs can be re-run and must give the same numbers
(tests/test_scripts.py does that for a few of them), whatever the number of worker
processes; BLAS runs on one thread in each for the same reason. With two workers the whole
experiment takes a few minutes on two cores.
"""
import argparse
import copy
import json
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage, stats
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from solutions.fine_tuning import few_labels, load_params, source_split, target_split
from solutions.layers import Dense, Flatten, Sequential
from solutions.training import accuracy, freeze_below, he_init, small_cnn, train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "book" / "data" / "fine_tuning_results.json"
WEIGHTS = ROOT / "exercises" / "ch08_fine_tuning" / "pretrained.npz"

# The layers with weights, bottom to top, as small_cnn names them.
WEIGHTED = ("conv1", "conv2", "fc1", "fc2")


@dataclass(frozen=True)
class Arm:
    """One way of getting a digits 5-9 classifier.

    start: "random" or "pretrained" weights for the first `copied` weighted layers (the
    layers above them, and always the head, are freshly initialised); frozen: how many of
    the weighted layers, from the bottom, training leaves alone; lr: the factor of the base
    learning rate for the whole network; body_lr: a further factor for every trainable layer
    but the head; probe_steps: train the head alone, at the base rate, for that many steps
    first, then everything at lr and body_lr; features:
    for a probe on lower layers, the last layer kept below the new head; augment: train on
    shifted and rotated copies of the labelled images; source: measure digits 0-4 with the
    old head put back.
    """
    text: str
    start: str = "random"
    copied: int = 0
    frozen: int = 0
    lr: float = 1.0
    body_lr: float = 1.0
    probe_steps: int = 0
    features: str = ""
    augment: bool = False
    source: bool = False


ARMS = {
    "scratch": Arm("random initialisation, every layer trained"),
    "linear_probe": Arm("new head on frozen pretrained fc1 features (64)", "pretrained", 3, 3, source=True),
    "probe_random": Arm("new head on frozen random fc1 features (64)", "random", 3, 3),
    "probe_conv2": Arm("new head on frozen pretrained conv2 features (pooled, 128)", "pretrained", 2, 2,
                       features="pool"),
    "probe_conv2_random": Arm("new head on frozen random conv2 features (pooled, 128)", "random", 2, 2,
                              features="pool"),
    "probe_conv1": Arm("new head on frozen pretrained conv1 features (16 x 6 x 6)", "pretrained", 1, 1,
                       features="relu1"),
    "probe_conv1_random": Arm("new head on frozen random conv1 features (16 x 6 x 6)", "random", 1, 1,
                              features="relu1"),
    "fine_tune_top": Arm("pretrained, convs frozen, fc1 and a new head trained", "pretrained", 3, 2,
                         source=True),
    "random_convs_top": Arm("random convs frozen, fc1 and a new head trained", "random", 3, 2),
    "fine_tune_all": Arm("pretrained, every layer trained at learning rate / 10", "pretrained", 3, 0,
                         lr=0.1, source=True),
    "fine_tune_all_full_lr": Arm("pretrained, every layer trained at the full learning rate", "pretrained", 3,
                                 0, source=True),
    "discriminative": Arm("pretrained, new head at the full rate, the rest at rate / 10", "pretrained", 3, 0,
                          body_lr=0.1, source=True),
    "probe_then_fine_tune": Arm("pretrained, new head alone for 100 steps, then every layer at rate / 10",
                                "pretrained", 3, 0, lr=0.1, probe_steps=100, source=True),
    "scratch_augmented": Arm("from scratch, on shifted and rotated copies", augment=True),
    "fine_tune_all_augmented": Arm("pretrained, every layer at the full rate, on shifted and rotated copies",
                                   "pretrained", 3, 0, augment=True, source=True),
    # Yosinski et al.'s sweep: the first k layers copied (frozen or fine-tuned) or random and
    # frozen, the layers above them freshly initialised. k = 3 is linear_probe, probe_random and
    # fine_tune_all_full_lr above; k = 2 random is random_convs_top; k = 0 is scratch.
    "copy1_frozen": Arm("conv1 copied and frozen, the rest new", "pretrained", 1, 1),
    "copy1_tuned": Arm("conv1 copied and fine-tuned, the rest new", "pretrained", 1, 0),
    "random1_frozen": Arm("conv1 random and frozen, the rest new", "random", 1, 1),
    "copy2_frozen": Arm("conv1, conv2 copied and frozen, the rest new", "pretrained", 2, 2),
    "copy2_tuned": Arm("conv1, conv2 copied and fine-tuned, the rest new", "pretrained", 2, 0),
}
# k = 2 random and frozen is random_convs_top: with random weights, "copied" and "new" are alike.

# The comparisons the chapter draws, each paired by (labels per class, seed): (arm, baseline).
COMPARISONS = ([(arm, "scratch") for arm in ARMS if arm != "scratch"] + [
    ("linear_probe", "probe_random"), ("probe_conv2", "probe_conv2_random"),
    ("probe_conv1", "probe_conv1_random"), ("fine_tune_top", "random_convs_top"),
    ("copy1_frozen", "random1_frozen"), ("copy2_frozen", "random_convs_top"),
    ("fine_tune_all_full_lr", "fine_tune_all"), ("discriminative", "fine_tune_all"),
    ("probe_then_fine_tune", "fine_tune_all"), ("fine_tune_all_augmented", "scratch_augmented"),
    ("scratch_augmented", "scratch"), ("fine_tune_all_augmented", "fine_tune_all_full_lr")])

CONFIG = {
    "transfer": {
        "arms": list(ARMS),
        "per_class": [10, 50, None],          # None: every training image of the target split
        "seeds": list(range(10)),
        "steps": 300,
        "batch_size": 32,
        "lr": 0.05,
        "momentum": 0.9,
        "eval_every": 25,
        "augment_copies": 8,                 # shifted and rotated copies per labelled image
        "augment_degrees": 15,
        "augment_shift": 1,
    },
    "sensitivity": {
        "lrs": [0.003, 0.01, 0.03, 0.1, 0.3],
        "batch_sizes": [8, 32, 128],
        "seeds": [0, 1, 2],
        "steps": 300,
        "momentum": 0.9,
    },
}


# --- building the networks -------------------------------------------------------------------
class LayerRates(Sequential):
    """A Sequential whose gradients are scaled per layer before the optimiser sees them.

    With SGD and momentum in PyTorch's form (v <- m v + g, p <- p - lr v) and no weight decay,
    scaling a parameter's gradient by c is exactly scaling its learning rate by c.
    """

    def __init__(self, net, factors):
        super().__init__(net.layers.items())
        self.frozen = set(net.frozen)
        self.factors = dict(factors)

    def grads(self):
        return {k: g * self.factors.get(k.split(".")[0], 1.0) for k, g in super().grads().items()}


def build(arm, pretrained, init_seed):
    """The network an arm starts from, with its frozen layers marked."""
    net = small_cnn(n_classes=5, seed=init_seed)      # fresh weights for everything not copied
    if arm.start == "pretrained":
        for layer in WEIGHTED[:arm.copied]:
            for key in net.layers[layer].params:
                net.layers[layer].params[key] = pretrained[f"{layer}.{key}"].astype(np.float64, copy=True)
    if arm.features:
        kept = list(net.layers)[:list(net.layers).index(arm.features) + 1]
        probe = np.zeros((1, 1, 8, 8))
        layers = []
        for name in kept:
            probe = net.layers[name].forward(probe)
            layers.append((name, net.layers[name]))
        width = int(np.prod(probe.shape[1:]))
        rng = np.random.default_rng(init_seed + 500)
        net = Sequential(layers + [("flatten", Flatten()),
                                   ("fc2", Dense(he_init(rng, (5, width)), np.zeros(5)))])
    weighted = [name for name in net.layers if net.layers[name].params]
    freeze_below(net, weighted[arm.frozen])
    if arm.body_lr != 1.0:
        net = LayerRates(net, {name: arm.body_lr for name in weighted[:-1]})
    return net


def augment(x, y, copies, degrees, shift, seed):
    """x plus `copies` rotated (uniform in +-degrees) and shifted (+-shift pixels) copies of it."""
    rng = np.random.default_rng(seed)
    out = [x]
    for _ in range(copies):
        angles = rng.uniform(-degrees, degrees, len(x))
        moves = rng.integers(-shift, shift + 1, size=(len(x), 2))
        batch = np.empty_like(x)
        for i, (image, angle, (dy, dx)) in enumerate(zip(x[:, 0], angles, moves)):
            turned = ndimage.rotate(image, angle, reshape=False, order=1, mode="constant")
            batch[i, 0] = np.clip(ndimage.shift(turned, (dy, dx), order=0, mode="constant"), 0, 1)
        out.append(batch)
    return np.concatenate(out), np.tile(y, copies + 1)


def source_accuracy(net, pretrained, source_heldout):
    """Accuracy on held-out digits 0-4 of net's body under the pretrained 0-4 head."""
    net = copy.deepcopy(net)
    net.layers["fc2"] = Dense(pretrained["fc2.W"], pretrained["fc2.b"])
    return accuracy(net, *source_heldout)


# --- the runs --------------------------------------------------------------------------------
def transfer_run(arm_name, per_class, seed, pretrained, data, source_heldout, cfg):
    """One training run of the transfer experiment; returns its record."""
    arm = ARMS[arm_name]
    x_pool, y_pool, x_heldout, y_heldout = data
    x, y = few_labels(x_pool, y_pool, per_class, seed)
    n_labelled = len(x)
    if arm.augment:
        x, y = augment(x, y, cfg["augment_copies"], cfg["augment_degrees"], cfg["augment_shift"], 3000 + seed)
    # Distinct seeds for the initialisation of what is not copied and for the batch order; the
    # same for every arm, so that arms differ only in what they are.
    init_seed, batch_seed = 1000 + seed, 2000 + seed
    net = build(arm, pretrained, init_seed)
    common = dict(batch_size=cfg["batch_size"], momentum=cfg["momentum"], x_eval=x_heldout,
                  y_eval=y_heldout, eval_every=cfg["eval_every"], progress=False)
    if arm.probe_steps:
        probe_frozen = set(net.frozen)
        freeze_below(net, "fc2")
        history = train(net, x, y, steps=arm.probe_steps, lr=cfg["lr"], seed=batch_seed, **common)
        net.frozen = probe_frozen
        rest = train(net, x, y, steps=cfg["steps"] - arm.probe_steps, lr=cfg["lr"] * arm.lr,
                     seed=batch_seed + 1, **common)
        history["eval_step"] += [arm.probe_steps + s for s in rest["eval_step"][1:]]
        history["eval_acc"] += rest["eval_acc"][1:]
    else:
        history = train(net, x, y, steps=cfg["steps"], lr=cfg["lr"] * arm.lr, seed=batch_seed, **common)
    return {"method": arm_name, "per_class": per_class, "seed": seed, "n_train": n_labelled,
            "final_acc": history["eval_acc"][-1],
            "source_acc": source_accuracy(net, pretrained, source_heldout) if arm.source else None,
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


_STATE = {}


def _worker_init(weights, one_blas_thread=True):
    """Each worker process loads the data once and keeps BLAS on one thread."""
    _STATE["pretrained"] = load_params(weights)
    _STATE["data"] = target_split()
    _STATE["source_heldout"] = source_split()[2:]
    if one_blas_thread:
        _STATE["limits"] = threadpool_limits(1)


def _run(job):
    kind, args, cfg = job
    if kind == "transfer":
        return kind, transfer_run(*args, _STATE["pretrained"], _STATE["data"], _STATE["source_heldout"], cfg)
    return kind, sensitivity_run(*args, _STATE["data"], cfg)


# --- summaries -------------------------------------------------------------------------------
def summarize(runs, keys):
    """Mean, sample standard deviation (ddof 1), min and max of final accuracy over seeds, per
    `keys` group; the mean learning curve and the mean source accuracy where recorded."""
    groups = {}
    for run in runs:
        groups.setdefault(tuple(run[k] for k in keys), []).append(run)
    rows = []
    for key, group in groups.items():
        accs = [r["final_acc"] for r in group if r["final_acc"] is not None]
        row = dict(zip(keys, key), n_seeds=len(group), n_diverged=sum(r.get("diverged", False) for r in group))
        if accs:
            row.update(mean=float(np.mean(accs)), std=float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
                       min=min(accs), max=max(accs))
        if "eval_acc" in group[0]:
            row["eval_step"] = group[0]["eval_step"]
            row["mean_curve"] = np.mean([r["eval_acc"] for r in group], axis=0).tolist()
        source = [r["source_acc"] for r in group if r.get("source_acc") is not None]
        if source:
            row["source_mean"] = float(np.mean(source))
        rows.append(row)
    return rows


def paired(runs, comparisons=COMPARISONS, level=0.95):
    """Arm minus baseline for each (arm, baseline) of comparisons and each number of labels,
    paired by seed: mean difference, its sample standard deviation, a t confidence interval at
    `level` and the t statistic (comparisons whose arms were not run are skipped)."""
    final = {(r["method"], r["per_class"], r["seed"]): r["final_acc"] for r in runs}
    rows = []
    for (method, baseline), per_class in ((c, n) for c in comparisons
                                          for n in dict.fromkeys(r["per_class"] for r in runs)):
        seeds = sorted(s for (m, n, s) in final if (m, n) == (method, per_class)
                       and (baseline, per_class, s) in final)
        if len(seeds) < 2:
            continue
        d = np.array([final[method, per_class, s] - final[baseline, per_class, s] for s in seeds])
        sd = float(np.std(d, ddof=1))
        half = float(stats.t.ppf(0.5 + level / 2, len(d) - 1) * sd / np.sqrt(len(d)))
        rows.append({"method": method, "baseline": baseline, "per_class": per_class, "n_pairs": len(d),
                     "mean_diff": float(d.mean()),
                     "sd_diff": sd, "ci_low": float(d.mean()) - half, "ci_high": float(d.mean()) + half,
                     "t": float(d.mean() / (sd / np.sqrt(len(d)))) if sd > 0 else None, "level": level})
    return rows


def experiment(config=CONFIG, weights=WEIGHTS, progress=None, workers=1):
    """Run every run of config; returns the results dict that main() writes as JSON."""
    t, s = config["transfer"], config["sensitivity"]
    jobs = [("transfer", (a, n, seed), t) for a in t["arms"] for n in t["per_class"] for seed in t["seeds"]]
    jobs += [("sensitivity", (lr, bs, seed), s) for lr in s["lrs"] for bs in s["batch_sizes"]
             for seed in s["seeds"]]
    bar = dict(total=len(jobs), desc="runs", disable=None if progress is None else not progress)
    if workers > 1:
        with ProcessPoolExecutor(workers, initializer=_worker_init, initargs=(weights,)) as pool:
            done = list(tqdm(pool.map(_run, jobs, chunksize=4), **bar))
    else:
        _worker_init(weights, one_blas_thread=False)
        with threadpool_limits(1):
            done = [_run(job) for job in tqdm(jobs, **bar)]
    transfer = [r for kind, r in done if kind == "transfer"]
    sensitivity = [r for kind, r in done if kind == "sensitivity"]
    data = target_split()
    return {
        "config": config,
        "methods": {name: arm.text for name, arm in ARMS.items()},
        "n_heldout": len(data[3]),
        "n_train_pool": len(data[1]),
        "n_source_heldout": len(source_split()[3]),
        "transfer_table": summarize(transfer, ("method", "per_class")),
        "paired": paired(transfer),
        "sensitivity_table": summarize(sensitivity, ("lr", "batch_size")),
        "transfer_runs": transfer,
        "sensitivity_runs": sensitivity,
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
    for row in results["paired"]:
        print(f"{row['method']:>24} - {row['baseline']:<22} {str(row['per_class']):>5} per class: "
              f"{row['mean_diff']:+.3f} "
              f"[{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]")
    print(f"{len(results['transfer_runs']) + len(results['sensitivity_runs'])} runs in "
          f"{results['timing']['wall_seconds']:.0f} s with {args.workers} workers; wrote {args.out}")


if __name__ == "__main__":
    main()
