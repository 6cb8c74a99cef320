"""A user's mesh files -> meshes in the data's normalised frame, with their appearance kept.

Loading flattens scenes (glTF nodes, multi-object OBJ) with their transforms, keeps every
part's visuals (materials, UVs, textures, vertex colours), turns the file's axis convention
into the data's (y up, objects face +x) and normalises as the real data (bounding box
centred at 0, longest side 1). Files that cannot become a model raise :class:`InvalidMesh`
with a one-line reason, so a data set build can skip them and report why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MESH_SUFFIXES = (".obj", ".off", ".ply", ".stl", ".glb", ".gltf")
_AXES = {"x": 0, "y": 1, "z": 2}


class InvalidMesh(ValueError):
    """A mesh file that cannot become a model; the message is the reason shown to the user."""


@dataclass
class NormalisedMesh:
    """A user's mesh in the normalised frame (bounding box centred, longest side 1, y up, +x front).

    `mesh` is all parts concatenated without visuals (faces of part k are
    `part_faces[k]:part_faces[k + 1]`), the geometry that occupancy, surface samples and
    renders use. `parts` are the same parts with their own visuals, for colours.
    `source_center` (3,) and `source_size` give the file's frame back:
    X_file = rotation.T @ (X_norm * source_size + source_center).
    """

    mesh: trimesh.Trimesh  # noqa: F821
    parts: list  # list[trimesh.Trimesh]
    part_faces: np.ndarray  # (n_parts + 1,) int64 face offsets
    rotation: np.ndarray  # (3, 3) file axes -> data axes
    source_center: np.ndarray  # (3,) bounding-box centre after rotation, file units
    source_size: float  # longest bounding-box side, file units


def axes_rotation(up: str = "y", front: str = "+x") -> np.ndarray:
    """Rotation (3,3) that takes the file's `up` axis to +y and its `front` axis to +x.

    `up` and `front` are axis names with an optional sign: "y", "z", "-y", "+x", "-z" ...
    Raises ValueError when they name the same axis.
    """
    u, f = _axis_vector(up), _axis_vector(front)
    if abs(u @ f) > 0:
        raise ValueError(f"up {up!r} and front {front!r} name the same axis")
    return np.stack([f, u, np.cross(f, u)])  # rows: new x, new y, new z (right-handed)


def _axis_vector(name: str) -> np.ndarray:
    text = name.strip().lower()
    sign = -1.0 if text.startswith("-") else 1.0
    axis = text.lstrip("+-")
    if axis not in _AXES:
        raise ValueError(f"unknown axis {name!r}: use x, y or z with an optional sign, e.g. -z")
    vec = np.zeros(3)
    vec[_AXES[axis]] = sign
    return vec


def find_mesh_files(root: str | Path) -> list[Path]:
    """Mesh files under `root` (recursively), sorted; hidden files and folders are ignored."""
    root = Path(root)
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in MESH_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def load_parts(path: str | Path) -> list:
    """The triangle meshes of a file, scene transforms applied, visuals kept (list[trimesh.Trimesh]).

    Raises InvalidMesh when the file cannot be read or holds no triangles.
    """
    import trimesh

    try:
        scene = trimesh.load(str(path), force="scene", process=False)
        parts = [g for g in scene.dump(concatenate=False) if isinstance(g, trimesh.Trimesh)]
    except Exception as exc:  # trimesh raises many types for broken files
        raise InvalidMesh(f"unreadable file ({type(exc).__name__}: {exc})") from None
    parts = [p for p in parts if len(p.faces)]
    if not parts:
        raise InvalidMesh("no triangles (empty or unreadable file)")
    return parts


def normalise(parts: list, rotation: np.ndarray | None = None) -> NormalisedMesh:
    """Rotate `parts` into the data's axes, centre their bounding box at 0 and scale its longest side to 1.

    Raises InvalidMesh for non-finite coordinates or a bounding box that is a point or a
    line (flat meshes, one side 0, are kept: a sign or a sheet is a valid model).
    """
    import trimesh

    rotation = np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64)
    used = [np.asarray(p.vertices)[np.unique(p.faces)] for p in parts]
    points = np.concatenate(used) @ rotation.T
    if not np.isfinite(points).all():
        raise InvalidMesh("NaN or infinite vertex coordinates")
    lo, hi = points.min(0), points.max(0)
    extent = hi - lo
    size = float(extent.max())
    if size <= 0 or np.count_nonzero(extent > 1e-9 * size) < 2:
        raise InvalidMesh(f"degenerate bounding box (extent {np.array2string(extent, precision=4)})")
    center = (lo + hi) / 2
    transform = np.eye(4)
    transform[:3, :3] = rotation / size
    transform[:3, 3] = -center / size
    moved = [p.copy() for p in parts]
    for p in moved:
        p.apply_transform(transform)
    offsets = np.cumsum([0] + [len(p.faces) for p in moved])
    vert_offsets = np.cumsum([0] + [len(p.vertices) for p in moved])
    mesh = trimesh.Trimesh(
        np.concatenate([p.vertices for p in moved]),
        np.concatenate([np.asarray(p.faces) + o for p, o in zip(moved, vert_offsets)]),
        process=False,
    )
    return NormalisedMesh(mesh, moved, offsets.astype(np.int64), rotation, center, size)


def load_normalised(path: str | Path, rotation: np.ndarray | None = None) -> NormalisedMesh:
    """Read a mesh file and bring it into the normalised frame (see :func:`normalise`)."""
    return normalise(load_parts(path), rotation)
