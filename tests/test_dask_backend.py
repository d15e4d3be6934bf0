"""autograder.dask_backend: `grade --scheduler` on a real distributed.LocalCluster gives the
grades of `--jobs 2`, survives a lost worker, refuses workers that cannot sandbox, and without
--scheduler Dask is not even imported."""
import contextlib
import csv
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import cli, dask_backend
from autograder.batch import grade_paths
from autograder.notebook import collect
from corpus.build import build_notebook, stub_cells
from corpus.hostile import HOSTILE

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "autograder" / "examples" / "submitted"
SEED = 20261130


@contextlib.contextmanager
def _cluster(workers, daemon=False):
    """A LocalCluster of `workers` worker processes, one thread each (daemon=False as the README
    says to start workers: a daemonic worker cannot start grading processes). The setting holds
    for the cluster's life: a nanny reads it again when it restarts a lost worker."""
    with dask.config.set({"distributed.worker.daemon": daemon}):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as cluster:
            yield cluster


def _grades(path):
    """grades.csv without the column that differs between runs (when each row was graded)."""
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k != "graded_at"} for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """The bundled examples and the hostile corpus, as one class."""
    root = tmp_path_factory.mktemp("class") / "submitted"
    shutil.copytree(EXAMPLES, root)
    for name, hostile in HOSTILE.items():
        hostile.write(root / name / hostile.assignment / f"{hostile.assignment}.ipynb")
    return root


@pytest.fixture(scope="module")
def local_grades(submitted, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "grades.csv"
    cli.grade(paths=[submitted], out=out, jobs=2, seed=SEED)
    return _grades(out)


def test_without_scheduler_dask_is_not_imported(tmp_path):
    build_notebook(stub_cells("ch01_motivation"), "ch01_motivation",
                   tmp_path / "submitted" / "ada" / "ch01_motivation" / "ch01_motivation.ipynb")
    program = textwrap.dedent(f"""
        import sys
        from autograder import cli
        cli.grade(paths=[{str(tmp_path / 'submitted')!r}], out={str(tmp_path / 'g.csv')!r}, unsafe_no_sandbox=True)
        print(sorted(m for m in ("dask", "distributed", "autograder.dask_backend") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dask_backend, "CONNECT_SECONDS", 1)
    build_notebook(stub_cells("ch01_motivation"), "ch01_motivation", tmp_path / "s" / "ch01_motivation.ipynb")
    assert cli.main(["grade", str(tmp_path / "s"), "--out", str(tmp_path / "g.csv"),
                     "--scheduler", "tcp://127.0.0.1:9", "--unsafe-no-sandbox"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_a_worker_without_the_sandbox_refuses(monkeypatch):
    def unavailable(unsafe=False):
        raise dask_backend.SandboxUnavailable("refusing to run student code without a sandbox: no bwrap")
    monkeypatch.setattr(dask_backend, "require_sandbox", unavailable)
    assert "refusing to run student code" in dask_backend.worker_problem("bwrap")
    assert dask_backend.worker_problem("none") is None


@pytest.mark.slow
def test_daemonic_workers_are_refused_with_how_to_start_them(tmp_path, capsys):
    build_notebook(stub_cells("ch01_motivation"), "ch01_motivation", tmp_path / "s" / "ch01_motivation.ipynb")
    with _cluster(2, daemon=True) as cluster:
        code = cli.main(["grade", str(tmp_path / "s"), "--out", str(tmp_path / "g.csv"),
                         "--scheduler", cluster.scheduler_address])
    assert code == 2
    assert "DASK_DISTRIBUTED__WORKER__DAEMON=False" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_local_cluster_gives_the_grades_of_jobs_2(submitted, local_grades, tmp_path):
    with _cluster(3) as cluster:
        cli.grade(paths=[submitted], out=tmp_path / "grades.csv", seed=SEED, scheduler=cluster.scheduler_address)
    on_cluster = _grades(tmp_path / "grades.csv")
    assert on_cluster == local_grades, [(a, b) for a, b in zip(on_cluster, local_grades) if a != b]
    assert len(local_grades) == 24 + len(HOSTILE)


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_worker_lost_mid_batch_costs_no_grade(submitted, local_grades):
    found = [f for f in collect([submitted]) if f.student in ("ada", "ben", "cy")]
    with _cluster(3) as cluster, distributed.Client(cluster.scheduler_address) as observer:
        results = []
        for result in grade_paths(found, seed=SEED, scheduler=cluster.scheduler_address):
            if not results:  # after the first grade: kill a worker that is grading
                busy = [w for w, keys in observer.processing().items() if keys]
                pid = observer.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
            results.append(result)
    assert all(r.status == "ok" for r in results), [(r.student, r.assignment, r.problem) for r in results
                                                     if r.status != "ok"]
    expected = {(r["student"], r["assignment"]): r["score"] for r in local_grades}
    assert sorted((r.student, r.assignment, f"{r.score:g}", r.status) for r in results) == sorted(
        (s, a, expected[(s, a)], "ok") for s, a in expected if s in ("ada", "ben", "cy"))


def test_a_worker_with_other_course_code_refuses():
    assert dask_backend.worker_problem("none", dask_backend.course_version()) is None
    assert "course code differs from yours" in dask_backend.worker_problem("none", "0123456789abcdef")
