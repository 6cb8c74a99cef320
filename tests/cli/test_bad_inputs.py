"""Bad inputs across commands, table-driven: exit code, one line that names the problem, nothing on disk changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _setup(tmp: Path) -> None:
    (tmp / "random.pt").write_bytes(bytes(range(256)) * 8)
    (tmp / "text.pt").write_text("hello\n")
    (tmp / "trunc").mkdir()
    (tmp / "trunc" / "model.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{")  # header "1 TB"
    (tmp / "trunc" / "config.yaml").write_text("model:\n  encoder: resnet18\n")
    (tmp / "emptydir").mkdir()
    (tmp / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")


CASES = [  # (arguments, expected exit code, text the one error line contains)
    (["reconstruct", "picture.png", "-o", "x.obj", "-c", "random.pt"], 2,
     "random.pt is not a readable checkpoint (damaged, or not a PyTorch/safetensors file)"),
    (["reconstruct", "picture.png", "-o", "x.obj", "-c", "text.pt"], 2, "text.pt is not a readable checkpoint"),
    (["reconstruct", "picture.png", "-o", "x.obj", "-c", "trunc/model.safetensors"], 2,
     "model.safetensors is not a readable checkpoint"),
    (["reconstruct", "picture.png", "-o", "x.obj", "-c", "nosuch.pt"], 2, "nosuch.pt does not exist"),
    (["reconstruct", "picture.png", "-o", "picture.png"], 2, "unknown mesh format"),
    (["reconstruct", "picture.png", "-o", "p.obj", "--preview", "picture.png"], 2, "picture.png is an input"),
    (["compare", "nosuchrun"], 2, "nosuchrun does not exist"),
    (["evaluate", "nosuchdir"], 2, "nosuchdir does not exist"),
    (["evaluate", "emptydir"], 2, "emptydir is not a run directory (no config.yaml)"),
    (["mise", "nosuchrun"], 2, "nosuchrun does not exist"),
]


@pytest.mark.parametrize(("args", "code", "message"), CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_bad_input_gets_one_line_and_changes_nothing(tmp_path, args, code, message):
    _setup(tmp_path)
    before = _tree(tmp_path)
    out = subprocess.run([sys.executable, "-m", "vitocc", *args], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "400"})
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.returncode == code, out.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "weights_only" not in out.stderr and ".tmp" not in out.stderr and "Traceback" not in out.stderr
    assert _tree(tmp_path) == before


def test_bare_vitocc_prints_the_help_and_no_empty_error():
    out = subprocess.run([sys.executable, "-m", "vitocc"], capture_output=True, text=True, timeout=120)
    assert "Usage" in out.stdout + out.stderr and "error:" not in out.stdout + out.stderr
    assert out.returncode == 2
