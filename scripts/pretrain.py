"""Pretrain the course's small CNN on digits 0-4 and write the weights file the course ships.

    python scripts/pretrain.py [--out exercises/ch08_fine_tuning/pretrained.npz]

Deterministic: the seed fixes the initialisation and the batch order, and BLAS runs on one
thread so that sums are added in the same order on every run. tests/test_scripts.py checks
that the shipped file is what this script produces.
"""
import argparse
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from solutions.fine_tuning import save_params, source_split
from solutions.training import accuracy, small_cnn, train

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "exercises" / "ch08_fine_tuning" / "pretrained.npz"
SEED = 0
STEPS = 600
BATCH_SIZE = 32
LR = 0.05
MOMENTUM = 0.9
# The shipped network must classify held-out digits 0-4 at least this well.
MIN_HELDOUT_ACCURACY = 0.97


def pretrain(progress=None):
    """Train small_cnn on the source split; return (network, held-out accuracy on digits 0-4)."""
    x_train, y_train, x_heldout, y_heldout = source_split()
    with threadpool_limits(1):
        net = small_cnn(n_classes=5, seed=SEED)
        train(net, x_train, y_train, steps=STEPS, batch_size=BATCH_SIZE, lr=LR, momentum=MOMENTUM,
              seed=SEED, progress=progress)
        return net, accuracy(net, x_heldout, y_heldout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="where to write the .npz file")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    net, acc = pretrain()
    if acc < MIN_HELDOUT_ACCURACY:
        sys.exit(f"held-out accuracy {acc:.3f} is below {MIN_HELDOUT_ACCURACY}: not writing {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_params(args.out, net.params())
    print(f"held-out accuracy on digits 0-4: {acc:.4f}; wrote {args.out} "
          f"in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
