"""Damaged and hostile input files of the bad-input cases (issue 16), shared by tests/cli/test_bad_inputs.py
and benchmarks/bad_inputs.py (which puts tests/ on its path, as pytest does for the tests).

Each writer puts its files in a folder the caller owns; `tree` is what the cases compare before and after.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "src" / "vitocc" / "assets" / "model"
BOX_OBJ = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"  # a closed tetrahedron


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by its relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def png_header(width: int, height: int) -> bytes:
    """A PNG file of a few dozen bytes whose header claims width x height RGB pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def safetensors_header(claimed: int) -> bytes:
    """A safetensors file whose header describes one square float32 tensor of about `claimed` bytes, and holds 16."""
    side = int((claimed // 4) ** 0.5)
    header = json.dumps({"w": {"dtype": "F32", "shape": [side, side], "data_offsets": [0, 4 * side * side]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 16


class _RunsCode:
    """A pickle that runs `touch PWNED` when loaded: a checkpoint must never be unpickled."""

    def __reduce__(self):
        return os.system, ("touch PWNED",)


def write_checkpoints(root: Path, config: str, claimed: int = 40 * 2**30) -> None:
    """Checkpoints that are not: random.pt (bytes), text.pt, pickle.pt (runs `touch PWNED` if unpickled);
    run folders trunc/ (the shipped model.safetensors cut after 1000 bytes) and huge/ (a header claiming
    `claimed` bytes), each with `config` as config.yaml, and noconfig/ (trunc's file, no config)."""
    (root / "random.pt").write_bytes(bytes(range(256)) * 16)
    (root / "text.pt").write_text("hello\n")
    (root / "pickle.pt").write_bytes(pickle.dumps({"model": _RunsCode()}))
    head = (SHIPPED / "model.safetensors").read_bytes()[:1000]
    for name, data in [("trunc", head), ("noconfig", head), ("huge", safetensors_header(claimed))]:
        (root / name).mkdir()
        (root / name / "model.safetensors").write_bytes(data)
        if name != "noconfig":
            (root / name / "config.yaml").write_text(config)


def write_untrusted_files(root: Path, escape: Path) -> None:
    """evil.yaml (a YAML tag that would run `touch PWNED`), and zips whose member leaves the destination:
    dots.zip through '..', abs.zip through the absolute path `escape`."""
    (root / "evil.yaml").write_text("model: !!python/object/apply:os.system ['touch PWNED']\n")
    for name, member in [("dots.zip", "ShapeNet/03001627/../../escape.txt"), ("abs.zip", str(escape))]:
        with zipfile.ZipFile(root / name, "w") as archive:
            archive.writestr("ShapeNet/03001627/m/points.npz", b"x")
            archive.writestr(member, b"x")


def write_mesh_folders(root: Path) -> None:
    """meshes/box.obj (a mesh folder for build-dataset) and built/ (a folder build-dataset made)."""
    (root / "meshes").mkdir()
    (root / "meshes" / "box.obj").write_text(BOX_OBJ)
    (root / "built").mkdir()
    (root / "built" / "vitocc_build.json").write_text(json.dumps({"source": "build-dataset", "n_views": 24}))
