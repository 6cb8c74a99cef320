"""SIGKILL at a point mid-run, then a rerun: train, mise and evaluate end as if never killed
(benchmarks/kill_resume.py runs every resumable command at many kill points)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "kill_resume.py"


def test_killed_train_mise_and_evaluate_resume_to_the_same_result(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--points", "1", "--only", "train,mise,evaluate",
                          "--keep", str(tmp_path)], capture_output=True, text=True, timeout=600)
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "command" not in line]
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert [row.split(" | ")[0][2:] for row in rows] == ["train", "mise", "evaluate"]
    assert all(row.split(" | ")[1:4] == ["1", "1", "1"] for row in rows), rows  # 1 point, killed mid-run, matched
