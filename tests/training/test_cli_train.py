"""`vitocc train` as a user runs it: Ctrl-C keeps last.pt, --resume continues, torchrun DDP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from vitocc.models import read_checkpoint


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def _sets(overrides):
    return [arg for o in overrides for arg in ("--set", o)]


def test_ctrl_c_saves_last_and_resume_continues(tiny_overrides, tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "vitocc", "train", "--out", str(run), "--gpu", "-1", "--max-steps", "100000",
           *_sets(tiny_overrides + ["training.checkpoint_every=1000", "training.validate_every=1000"])]
    # Ctrl-C as in a terminal, even when pytest itself runs in the background (`pytest &`), where
    # SIGINT is ignored and Python, inheriting that, would never raise KeyboardInterrupt.
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = run / "log.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not log.is_file() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    state = read_checkpoint(run / "checkpoints" / "last.pt")["state"]
    assert state["step"] >= 3  # checkpoint_every=1000: only the interrupt wrote it
    assert "interrupted at step" in err and "Traceback" not in err

    done = subprocess.run([sys.executable, "-m", "vitocc", "train", "--out", str(run), "--resume",
                           "--max-steps", str(state["step"] + 2)], env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"step {state['step'] + 2}" in done.stdout
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines() if '"loss"' in line]
    assert steps == list(range(1, state["step"] + 3))

    again = subprocess.run([sys.executable, "-m", "vitocc", "train", "--out", str(run), "--max-steps", "1"],
                           env=_env(), capture_output=True, text=True)
    assert again.returncode == 2 and "already holds a run" in again.stderr


@pytest.mark.skipif(shutil.which("torchrun") is None and not os.path.exists(
    os.path.join(os.path.dirname(sys.executable), "torchrun")), reason="torchrun not installed")
def test_torchrun_two_processes_gloo(tiny_overrides, tmp_path):
    run = tmp_path / "ddp"
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    cmd = [torchrun, "--standalone", "--nproc_per_node=2", "-m", "vitocc", "-q", "train", "--out", str(run),
           "--gpu", "-1", "--max-steps", "3", *_sets(tiny_overrides + ["training.validate_every=3"])]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if "loss" in r] == [1, 2, 3]  # rank 0 alone logs
    assert [r["step"] for r in lines if "val_iou" in r] == [3]
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.yaml", "log.jsonl"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    assert lines[0]["samples_per_s"] > 0 and read_checkpoint(run / "checkpoints" / "last.pt")["state"]["step"] == 3
    assert done.stdout.count("max_steps: step 3") == 1  # rank 0 alone reports
