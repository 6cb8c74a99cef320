"""Mesh files: writing the formats vitocc offers (with vertex colours) and reading meshes fast.

Writing goes through `io.atomic_path`, so a mesh on disk is always complete. Reading parses the
triangle OBJ files that `vitocc mise` writes with numpy (4-5x faster than trimesh's general
reader) and hands everything else to trimesh.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import trimesh

from vitocc.errors import UserError
from vitocc.io import atomic_path

_DIGIT = np.isin(np.arange(256), list(b"0123456789"))  # byte -> is an ASCII digit
_SPACE = np.isin(np.arange(256), list(b" \t\r\n"))
_NUMBER = _DIGIT | _SPACE | np.isin(np.arange(256), list(b"+-.eE"))  # bytes a plain number list may hold

MESH_FORMATS = (".obj", ".ply", ".off", ".stl", ".glb")


def save_mesh(mesh: trimesh.Trimesh, path: str | Path) -> None:
    """Write `mesh` atomically in the format its suffix names (.obj .ply .off .stl .glb).

    Vertex colours, when the mesh has them, go into every format but .stl: .ply and .glb (COLOR_0)
    as their standards say, .obj as the common `v x y z r g b` extension, .off as COFF."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_FORMATS:
        raise UserError(f"{path}: unknown mesh format '{suffix}'", f"use one of {' '.join(MESH_FORMATS)}")
    with atomic_path(path) as tmp:
        if suffix == ".obj" and len(mesh.faces) == 0:  # trimesh writes a malformed "v" line for no vertices
            tmp.write_text("# empty mesh: nothing was above the threshold\n")
        elif suffix == ".off" and mesh.visual.kind == "vertex":  # trimesh writes OFF without colours
            tmp.write_text(coff_text(mesh))
        else:
            mesh.export(tmp, file_type=suffix[1:])


def coff_text(mesh: trimesh.Trimesh) -> str:
    """The text of a COFF file: OFF with each vertex followed by its colour r g b a (0-255)."""
    colours = np.asarray(mesh.visual.vertex_colors, dtype=np.uint8)
    vertices = np.char.mod("%.7g", np.asarray(mesh.vertices, dtype=np.float64))
    lines = [" ".join(v) + " " + " ".join(map(str, c)) for v, c in zip(vertices, colours)]
    faces = [f"3 {a} {b} {c}" for a, b, c in np.asarray(mesh.faces)]
    return "\n".join(["COFF", f"{len(lines)} {len(faces)} 0", *lines, *faces]) + "\n"


def load_mesh(path: Path, data: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """vertices (V,3) float64 and faces (F,3) int64 of a mesh file; a file without faces is empty.

    Triangle OBJ files laid out as `vitocc mise` (trimesh) writes them are parsed with numpy,
    4-5x faster than trimesh's general reader, which reads everything else. `data`: the
    file's bytes when they are already read.
    """
    if path.suffix.lower() == ".obj":
        mesh = _read_triangle_obj(path.read_bytes() if data is None else data)
        if mesh is not None:
            return mesh
    mesh = trimesh.load(path, force="mesh", process=False)
    return np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.int64).reshape(-1, 3)


def _read_triangle_obj(data: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """(vertices, faces) of an OBJ whose `v x y z` lines form one block followed by one block of
    `f a[/..] b[/..] c[/..]` lines with positive indices (header lines before them are skipped);
    None for anything else (polygons, colours, other lines among them), which trimesh reads.

    Each block is parsed in one numpy call after dropping its line tags (3x faster than line by line).
    """
    data = b"\n" + data.rstrip()
    f_at = data.find(b"\nf ")
    f_at = len(data) if f_at < 0 else f_at
    v_at = data.find(b"\nv ")
    v_at = f_at if v_at < 0 else v_at
    v_block, f_block = data[v_at:f_at], data[f_at:]
    n_v, n_f = v_block.count(b"\nv "), f_block.count(b"\nf ")
    if v_at > f_at or v_block.count(b"\n") != n_v or f_block.count(b"\n") != n_f:
        return None
    if b"/" in f_block:
        f_block = re.sub(rb"/\S*", b"", f_block)
    values = _parse_coordinates(v_block.replace(b"\nv ", b"\n"))
    indices = _parse_numbers(f_block.replace(b"\nf ", b"\n"), np.int64)
    if values is None or indices is None or len(values) != 3 * n_v or len(indices) != 3 * n_f or np.any(indices < 1):
        return None
    faces = indices.reshape(-1, 3) - 1
    if len(faces) and faces.max() >= n_v:
        return None
    return values.reshape(-1, 3), faces


def _parse_coordinates(text: bytes) -> np.ndarray | None:
    """The numbers of `text` as float64, or None if something else is among them.

    trimesh writes every coordinate with 8 decimals: such text is read as integers (points
    removed) divided by 1e8, the same doubles as parsing the decimals (both are correctly
    rounded) in a third of the time. Any other text is parsed as floats.
    """
    raw = np.frombuffer(text, np.uint8)
    dots = np.flatnonzero(raw == ord("."))
    if len(dots) and dots[-1] + 9 <= len(raw):
        end = dots + 9  # where each number must end: 8 digits after its point
        fixed = _SPACE[raw[np.minimum(end, len(raw) - 1)]] | (end == len(raw))
        for k in range(1, 9):
            fixed &= _DIGIT[raw[dots + k]]
        if fixed.all():
            scaled = _parse_numbers(text.replace(b".", b""), np.int64)
            if scaled is not None and len(scaled) == len(dots) and np.abs(scaled).max() < 2**53:
                return scaled / 1e8
    return _parse_numbers(text, np.float64)


def _parse_numbers(text: bytes, dtype: type) -> np.ndarray | None:
    """The whitespace-separated numbers of `text`, or None if something else is among them.

    Only digits, signs, points, exponents and whitespace are accepted, and the parsed count must
    equal the count of whitespace-separated tokens (numpy stops early on a token it cannot read).
    """
    raw = np.frombuffer(text, np.uint8)
    if not _NUMBER[raw].all():
        return None
    token = ~_SPACE[raw]
    tokens = int(np.count_nonzero(token[1:] & ~token[:-1])) + int(bool(len(raw)) and token[0])
    with warnings.catch_warnings():  # a token numpy cannot read is found by the count below
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            values = np.fromstring(text, dtype=dtype, sep=" ")
        except ValueError:
            return None
    return values if len(values) == tokens else None
