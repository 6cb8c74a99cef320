"""Mesh files: writing the formats vitocc offers (with vertex colours) and reading meshes fast.

Writing goes through `io.atomic_path`, so a mesh on disk is always complete. OBJ and COFF text is built
with numpy and no trimesh import (`obj_bytes`: the lines trimesh's exporter writes, 5-7x faster); the
other formats are trimesh's. Reading parses the triangle OBJ files that `vitocc mise` writes with numpy (4-5x faster
than trimesh's general reader) and hands everything else to trimesh.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from vitocc.errors import UserError
from vitocc.io import atomic_path
from vitocc.mesh import Mesh

_DIGIT = np.isin(np.arange(256), list(b"0123456789"))  # byte -> is an ASCII digit
_SPACE = np.isin(np.arange(256), list(b" \t\r\n"))
_NUMBER = _DIGIT | _SPACE | np.isin(np.arange(256), list(b"+-.eE"))  # bytes a plain number list may hold
_DIGITS4 = (np.arange(10_000)[:, None] // [1000, 100, 10, 1] % 10 + ord("0")).astype(np.uint8)  # n -> ASCII of "%04d"
OBJ_DECIMALS = 8  # trimesh's precision, which `_parse_coordinates` reads as scaled integers
_FIXED_LIMIT = 1e15  # integer parts stay exact int64; larger coordinates are left to trimesh

MESH_FORMATS = (".obj", ".ply", ".off", ".stl", ".glb")


def save_mesh(mesh: Mesh, path: str | Path) -> None:
    """Write `mesh` (a `vitocc.mesh.Mesh`) atomically in the format its suffix names (.obj .ply .off .stl .glb).

    Vertex colours, when the mesh has them, go into every format but .stl: .ply and .glb (COLOR_0)
    as their standards say, .obj as the common `v x y z r g b` extension, .off as COFF; vertex normals
    into .obj (`vn`) and what trimesh writes them into. (A trimesh mesh is written with its `export`.)"""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_FORMATS:
        raise UserError(f"{path}: unknown mesh format '{suffix}'", f"use one of {' '.join(MESH_FORMATS)}")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"save_mesh takes a vitocc.mesh.Mesh, not {type(mesh).__name__}")
    with atomic_path(path) as tmp:
        if suffix == ".obj" and len(mesh.faces) == 0:  # trimesh writes a malformed "v" line for no vertices
            tmp.write_text("# empty mesh: nothing was above the threshold\n")
        elif suffix == ".obj" and (text := obj_bytes(mesh)) is not None:
            tmp.write_bytes(text)
        elif suffix == ".off" and mesh.vertex_colours is not None:  # trimesh writes OFF without colours
            tmp.write_text(coff_text(mesh))
        else:
            mesh.to_trimesh().export(tmp, file_type=suffix[1:])


def obj_bytes(mesh: Mesh) -> bytes | None:
    """The lines trimesh's exporter writes for `mesh.to_trimesh()` (but its header comment), built with numpy,
    5-7x faster.

    `v x y z` lines, with `r g b` in 0-1 when the mesh has vertex colours; `vn` lines when it has vertex
    normals; `f a b c` lines, 1-based (`a//a ...` with normals). Numbers have 8 decimals (a reread
    coordinate is within 5e-9 of the float64 value). None for coordinates that are not finite or beyond
    1e15 (trimesh writes those).
    """
    vertices, normals = mesh.vertices, mesh.vertex_normals
    columns = [vertices]
    if mesh.vertex_colours is not None:
        columns.append(mesh.vertex_colours[:, :3] / 255.0)
    numbers = np.concatenate([vertices.ravel(), [] if normals is None else normals.ravel()])
    if not np.isfinite(numbers).all() or np.abs(numbers).max(initial=0.0) >= _FIXED_LIMIT:
        return None
    faces = mesh.faces + 1
    index = _integer_text(faces.ravel(), len(str(int(faces.max(initial=1)))))
    if normals is not None:  # a//a: each vertex's normal has the vertex's index
        index = np.concatenate([index, np.full((len(index), 2), ord("/"), np.uint8), index], axis=1)
    parts = [_lines(b"v", _fixed_text(np.column_stack(columns))), _lines(b"f", index.reshape(len(faces), 3, -1))]
    if normals is not None:
        parts.insert(1, _lines(b"vn", _fixed_text(normals)))
    return b"".join(parts)


def _fixed_text(values: np.ndarray) -> np.ndarray:
    """ASCII of each of `values` (N, K) float64 (finite, |x| < 1e15) as "%.8f" writes it, (N, K, W) uint8:
    right-aligned in W columns, with 0 bytes before the sign or first digit (removed by `_lines`).

    The decimals are round(f * 1e8) of the fraction f = |x| - floor(|x|) (exact): half to even as "%.8f"
    rounds, and only a product within its rounding error (7.5e-9 of a unit) of a half-way case can
    differ from the correctly rounded decimal, by 1e-8."""
    magnitude = np.abs(values.ravel())
    whole = np.floor(magnitude)
    fraction = np.rint((magnitude - whole) * 10.0**OBJ_DECIMALS).astype(np.int64)
    carry = fraction == 10**OBJ_DECIMALS  # .999999996 -> 1.00000000
    whole = whole.astype(np.int64) + carry
    fraction[carry] = 0
    width = len(str(int(whole.max(initial=0))))
    text = np.empty((len(magnitude), 2 + width + OBJ_DECIMALS), np.uint8)
    text[:, 0] = np.where(np.signbit(values.ravel()), ord("-"), 0)
    text[:, 1:1 + width] = _integer_text(whole, width)
    text[:, 1 + width] = ord(".")
    high, low = np.divmod(fraction, 10_000)
    text[:, 2 + width:6 + width] = np.take(_DIGITS4, high, axis=0)
    text[:, 6 + width:] = np.take(_DIGITS4, low, axis=0)
    return text.reshape(*values.shape, -1)


def _integer_text(n: np.ndarray, width: int) -> np.ndarray:
    """ASCII of the integers `n` (N,) int64, 0 <= n < 10**width, right-aligned: (N, width) uint8 with 0
    bytes before the first digit (a zero is the digit 0).

    Four digits at a time from a table, `np.take` rather than fancy indexing (4x faster on rows)."""
    chunks = -(-width // 4)
    text = np.empty((len(n), 4 * chunks), np.uint8)
    rest = n
    for k in range(chunks - 1, -1, -1):
        rest, four = np.divmod(rest, 10_000)
        text[:, 4 * k:4 * k + 4] = np.take(_DIGITS4, four, axis=0)
    text = text[:, 4 * chunks - width:]
    shown = np.arange(width) >= width - 1 - np.arange(width)[:, None]  # row d: the last d + 1 columns
    digits = np.searchsorted(10 ** np.arange(1, width, dtype=np.int64), n, side="right")  # count - 1
    return text & np.take(np.where(shown, 255, 0).astype(np.uint8), digits, axis=0)


def _lines(tag: bytes, fields: np.ndarray) -> bytes:
    """`tag field field ...` lines of fields (N, K, W) uint8 (0 bytes are dropped), each ending in a newline."""
    n, k, w = fields.shape
    rows = np.zeros((n, len(tag) + k * (w + 1) + 1), np.uint8)
    rows[:, :len(tag)] = np.frombuffer(tag, np.uint8)
    spaced = rows[:, len(tag):-1].reshape(n, k, w + 1)
    spaced[:, :, 0] = ord(" ")
    spaced[:, :, 1:] = fields
    rows[:, -1] = ord("\n")
    return rows[rows != 0].tobytes()


def coff_text(mesh: Mesh) -> str:
    """The text of a COFF file: OFF with each vertex followed by its colour r g b a (0-255)."""
    colours = mesh.vertex_colours
    vertices = np.char.mod("%.7g", mesh.vertices)
    lines = [" ".join(v) + " " + " ".join(map(str, c)) for v, c in zip(vertices, colours)]
    faces = [f"3 {a} {b} {c}" for a, b, c in mesh.faces]
    return "\n".join(["COFF", f"{len(lines)} {len(faces)} 0", *lines, *faces]) + "\n"


def load_mesh(path: Path, data: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """vertices (V,3) float64 and faces (F,3) int64 of a mesh file; a file without faces is empty.

    Triangle OBJ files laid out as `vitocc mise` (`obj_bytes`, or trimesh) writes them are parsed with numpy,
    4-5x faster than trimesh's general reader, which reads everything else. `data`: the
    file's bytes when they are already read.
    """
    if path.suffix.lower() == ".obj":
        mesh = _read_triangle_obj(path.read_bytes() if data is None else data)
        if mesh is not None:
            return mesh
    import trimesh

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

    vitocc and trimesh write every coordinate with 8 decimals: such text is read as integers (points
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
