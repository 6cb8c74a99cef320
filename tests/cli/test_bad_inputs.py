"""Bad inputs across commands, table-driven: exit code, one line that names the problem, nothing on disk changed."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _setup(tmp: Path) -> None:
    (tmp / "random.pt").write_bytes(bytes(range(256)) * 8)
    (tmp / "text.pt").write_text("hello\n")
    (tmp / "trunc").mkdir()
    (tmp / "trunc" / "model.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{")  # header "1 TB"
    (tmp / "trunc" / "config.yaml").write_text("model:\n  encoder: resnet18\n")
    (tmp / "emptydir").mkdir()
    picture = Image.new("RGB", (137, 137), (255, 255, 255))
    picture.paste((150, 30, 30), (40, 40, 100, 100))
    picture.save(tmp / "picture.png")
    (tmp / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp / "bomb.png").write_bytes(_png_header(30000, 30000))  # 900 megapixels, claimed in 57 bytes
    (tmp / "evil.yaml").write_text("model: !!python/object/apply:os.system ['echo PWNED > pwned']\n")


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


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
    (["mise", "trunc"], 2, "run directory trunc has no checkpoints/best.pt or last.pt"),  # no stray bar first
    (["evaluate", "trunc"], 2, "data set folder data/ShapeNet does not exist"),  # no blank line first
    (["config", "evil.yaml"], 2, "could not determine a constructor for the tag"),
    (["build-dataset", "emptydir", "--split", "50/60/10"], 2, "sums to 120, not 100"),
    (["synth", "--shapes-per-class", "2", "--dest", "syn"], 2, "--shapes-per-class"),
    (["compare", "emptydir", "--plot", "out.xyz"], 2, "unknown picture format '.xyz'"),
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


@pytest.mark.parametrize("name, message", [("fake.png", "damaged image"),
                                           ("bomb.png", "too large to decode safely")])
def test_a_bad_picture_fails_fast_without_loading_the_model(tmp_path, name, message):
    """Per-file failures: one line each, then the count; exit 2 when no picture was usable
    (docs/errors.md); no model is loaded."""
    _setup(tmp_path)
    before = _tree(tmp_path)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "vitocc", "reconstruct", name, "-o", "x.obj", "-c", "random.pt"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "400"})
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2 and lines == [f"error: {name}: {lines[0].split(': ', 2)[2]}", "1 of 1 file(s) failed"]
    assert message in lines[0] and "random.pt" not in out.stderr  # the (bad) checkpoint was never read
    assert time.perf_counter() - start < 30 and _tree(tmp_path) == before


def test_bare_vitocc_prints_the_help_and_no_empty_error():
    out = subprocess.run([sys.executable, "-m", "vitocc"], capture_output=True, text=True, timeout=120)
    assert "Usage" in out.stdout + out.stderr and "error:" not in out.stdout + out.stderr
    assert out.returncode == 2
