"""benchmarks/gpu_check.sh runs end to end in its dry mode on the CPU (tiny sizes), so that the
GPU check is known to work before a GPU ever runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("vitocc") is None, reason="needs bash and the vitocc command")
def test_gpu_check_dry_run_on_the_cpu_writes_every_figure(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = dict(os.environ, DEVICE="cpu", OUT=str(out), WORK=str(tmp_path / "work"), SKIP_TESTS="1", PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["failed"] == []
    assert {"synth", "train_default_amp", "mise_batches", "reconstruct", "mise_split", "evaluate"} <= set(figures["steps"])
    assert figures["train"]["default_amp"]["steps_per_s"] > 0
    assert figures["mise"]["batch_1"]["shapes_per_s"] > 0
    folded = figures["mise"]["folded_against_plain"]
    assert folded["decoder_seconds_per_shape_folded"] > 0 and folded["plain_over_folded"] > 0
    assert folded["max_face_difference"] <= 0.01 * figures["mise"]["batch_1"]["faces_mean"]  # the same meshes, nearly
    assert len(figures["reconstruct_seconds"]) == 1
    assert "skipped" in figures["train"]["ddp_2gpu"]
    assert not (tmp_path / "work").exists()  # the scratch folder is removed
