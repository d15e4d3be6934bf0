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
if __name__ != "__main__":
    open(os.environ["MARKER"], "w").write(__name__)
else:
    from autograder import grade_notebook
    result = grade_notebook(os.environ["NOTEBOOK"])
    print(result.status, result.score, result.max_score)
'''


def test_grade_notebook_does_not_rerun_the_callers_main_script(tmp_path):
    script, marker = tmp_path / "caller.py", tmp_path / "marker"
    script.write_text(CALLER)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MARKER": str(marker), "NOTEBOOK": str(CORRECT)})
    assert done.returncode == 0, done.stderr[-2000:]
    status, score, max_score = done.stdout.split()
    assert status == "ok" and float(score) == float(max_score) > 0, done.stdout
    assert not marker.exists(), (
        f"the grading process ran the caller's main script again (as {marker.read_text()}): under "
        "nbgrader that re-imports nbgrader for every notebook")
