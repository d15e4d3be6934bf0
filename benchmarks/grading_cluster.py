"""Throughput of the grader on local processes against a Dask cluster, on >= 1,000 submissions.

Generates a class from the test corpus (tests/corpus: for each assignment its correct
submission, the release stubs and every mutant, cycled over generated students), then grades
it twice on this machine, one after the other:

  local         `python -m autograder grade submitted --jobs J`
  dask cluster  the same with `--scheduler` of a distributed.LocalCluster of W worker
                processes (one thread each) started here

and prints notebooks per minute for each, and a projection for N machines: the cluster's
throughput per worker process times N machines of W workers each. It is a projection, not a
measurement: it assumes every machine is like this one and that the scheduler and the
network (a notebook is a few tens of kB each way) are not the bottleneck.

    python benchmarks/grading_cluster.py [--notebooks 1008] [--jobs 2] [--workers 2]
        [--assignments ch01_motivation ...] [--json FILE]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from corpus.build import build_notebook, correct_cells, stub_cells  # noqa: E402
from corpus.mutants import mutant_cells, mutants  # noqa: E402

# ch08's fine-tuning case trains a network for each submission: a different benchmark
DEFAULT_ASSIGNMENTS = ["ch01_motivation", "ch02_convolution", "ch03_padding_stride", "ch04_pooling",
                       "ch05_normalization", "ch06_backprop", "ch07_im2col"]


def variants(assignment):
    """Every submission the corpus has for an assignment: correct, stubs, each mutant."""
    return [correct_cells(assignment), stub_cells(assignment)] + [mutant_cells(assignment, m)
                                                                   for m in mutants(assignment)]


def generate(root, count, assignments):
    """Write `count` submissions under root/submitted, cycling over assignments and their variants."""
    pool = {a: variants(a) for a in assignments}
    for i in range(count):
        assignment = assignments[i % len(assignments)]
        cells = pool[assignment][(i // len(assignments)) % len(pool[assignment])]
        build_notebook(cells, assignment, root / "submitted" / f"s{i // len(assignments):05d}" / assignment /
                       f"{assignment}.ipynb")
    return root / "submitted"


def grade(submitted, out, *extra):
    """Seconds of one `python -m autograder grade` of the folder."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
                           "--seed", "1", *extra], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"grading failed: {done.stderr[-2000:]}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=1008)
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the local run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the LocalCluster")
    parser.add_argument("--assignments", nargs="+", default=DEFAULT_ASSIGNMENTS)
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args(argv)

    import dask
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory(prefix="grading-cluster-") as tmp:
        submitted = generate(Path(tmp), args.notebooks, args.assignments)
        local = grade(submitted, Path(tmp) / "local.csv", "--jobs", str(args.jobs))
        with dask.config.set({"distributed.worker.daemon": False}):  # as README says to start workers
            with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                clustered = grade(submitted, Path(tmp) / "cluster.csv", "--scheduler", cluster.scheduler_address)
        differ = differences(_rows(Path(tmp) / "local.csv"), _rows(Path(tmp) / "cluster.csv"))

    n = args.notebooks
    per_worker = 60 * n / clustered / args.workers
    print(f"{n} notebooks ({', '.join(args.assignments)}), {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| road | seconds | notebooks/min |")
    print("|---|---:|---:|")
    print(f"| local, --jobs {args.jobs} | {local:.1f} | {60 * n / local:.0f} |")
    print(f"| Dask LocalCluster, {args.workers} worker processes | {clustered:.1f} | {60 * n / clustered:.0f} |")
    print(f"\nrows of grades.csv that differ between the roads: {len(differ)}")
    for student, assignment, here, there in differ[:10]:
        print(f"  {student} {assignment}: local {_brief(here)}; cluster {_brief(there)}")
    print(f"\nProjection (not measured): N machines like this one, {args.workers} Dask workers each, "
          f"at the cluster's {per_worker:.0f} notebooks/min per worker:")
    for machines in (1, 4, 16, 64):
        rate = per_worker * args.workers * machines
        print(f"  {machines:>3} machines: ~{rate:,.0f} notebooks/min, 10,000 submissions in ~{10000 / rate:.0f} min")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"notebooks": n, "cores": os.cpu_count(), "jobs": args.jobs,
                                         "workers": args.workers, "seconds": {"local": local, "cluster": clustered},
                                         "differing_rows": differ, "assignments": args.assignments}, indent=1))


def _brief(row):
    return "missing" if row is None else f"{row['score']} ({row['status']}) {row['problem'][:80]}"


def _rows(path):
    """{(student, assignment): grades.csv row without graded_at (which differs between runs)}."""
    with open(path, newline="") as f:
        return {(r["student"], r["assignment"]): {k: v for k, v in r.items() if k != "graded_at"}
                for r in csv.DictReader(f)}


def differences(local, cluster):
    """[(student, assignment, local row, cluster row)] of the rows that differ."""
    return [(*key, local.get(key), cluster.get(key)) for key in sorted(set(local) | set(cluster))
            if local.get(key) != cluster.get(key)]


if __name__ == "__main__":
    main()
