"""SIGKILL at a point mid-run, then a rerun: synth, build-dataset, download, train, mise and evaluate end as if
never killed (benchmarks/kill_resume.py, here at one kill point each; run it with --points 8 for the figures)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "kill_resume.py"


def test_every_resumable_command_killed_mid_run_resumes_to_the_same_result(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--points", "1", "--keep", str(tmp_path)],
                         capture_output=True, text=True, timeout=900)
    rows = [line.split(" | ") for line in out.stdout.splitlines() if line.startswith("| ") and "command" not in line]
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert [row[0][2:] for row in rows] == ["synth", "build-dataset", "download", "train", "mise", "evaluate"]
    assert all(row[1] == row[2] == row[4] == "1" for row in rows), rows  # 1 point, killed mid-run, rerun matched
