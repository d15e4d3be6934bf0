"""autograder.batch: how submissions reach their grading processes."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "autograder" / "examples" / "submitted" / "ada" / "ch04_pooling" / "ch04_pooling.ipynb"

# A caller's main script, like nbgrader's: it records being run again under another name, which
# is what a spawn or forkserver child does to the caller's __main__ before it starts work.
CALLER = '''
import os
import threading
if __name__ != "__main__":
    open(os.environ["MARKER"], "w").write(__name__)
else:
    from autograder import grade_notebook
    stop = threading.Event()
    if os.environ.get("EXTRA_THREAD"):
        threading.Thread(target=stop.wait).start()
    result = grade_notebook(os.environ["NOTEBOOK"])
    stop.set()
    print(result.status, result.score, result.max_score)
'''


def grade_from_caller(tmp_path, **env):
    """Run CALLER on the correct example; return (marker path, (status, score, max_score))."""
    script, marker = tmp_path / "caller.py", tmp_path / "marker"
    script.write_text(CALLER)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MARKER": str(marker), "NOTEBOOK": str(CORRECT), **env})
    assert done.returncode == 0, done.stderr[-2000:]
    status, score, max_score = done.stdout.split()
    return marker, (status, float(score), float(max_score))


def test_grade_notebook_does_not_rerun_the_callers_main_script(tmp_path):
    marker, (status, score, max_score) = grade_from_caller(tmp_path)
    assert status == "ok" and score == max_score > 0
    assert not marker.exists(), (
        f"the grading process ran the caller's main script again (as {marker.read_text()}): under "
        "nbgrader that re-imports nbgrader for every notebook")


def test_grade_notebook_from_a_threaded_caller_uses_the_forkserver_and_grades(tmp_path):
    marker, (status, score, max_score) = grade_from_caller(tmp_path, EXTRA_THREAD="1")
    assert status == "ok" and score == max_score > 0
    assert marker.exists(), "a threaded caller was forked: its child could deadlock on a lock another thread held"
