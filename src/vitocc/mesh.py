"""A triangle mesh as numpy arrays: what generation makes, colours and writes, with no trimesh import.

`import trimesh` costs about 0.5 s (its `Trimesh` class pulls in scipy.spatial and networkx), a third
of `import torch` on the project's CPU, and one picture's path (marching cubes, colours, an OBJ file)
needs none of it (docs/performance.md). `Mesh.to_trimesh` hands a mesh to trimesh's tools: other file
formats, rendering, booleans, viewers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(eq=False)
class Mesh:
    """vertices (V, 3) float64 and faces (F, 3) int64 (wound so that normals point outward), with optional
    unit vertex normals (V, 3) float64 and vertex colours (V, 4) uint8 RGBA."""

    vertices: np.ndarray
    faces: np.ndarray
    vertex_normals: np.ndarray | None = None
    vertex_colours: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.vertices = np.asarray(self.vertices, np.float64).reshape(-1, 3)
        self.faces = np.asarray(self.faces, np.int64).reshape(-1, 3)
        if self.vertex_normals is not None:
            self.vertex_normals = np.asarray(self.vertex_normals, np.float64).reshape(-1, 3)
        if self.vertex_colours is not None:
            self.vertex_colours = np.asarray(self.vertex_colours, np.uint8).reshape(-1, 4)
        for name in ("vertex_normals", "vertex_colours"):
            if getattr(self, name) is not None and len(getattr(self, name)) != len(self.vertices):
                raise ValueError(f"{name} has {len(getattr(self, name))} rows for {len(self.vertices)} vertices")

    @classmethod
    def empty(cls) -> Mesh:
        """A mesh with no vertex and no face (what nothing above the threshold gives)."""
        return cls(np.zeros((0, 3)), np.zeros((0, 3), np.int64))

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3): the lowest and highest corner of the vertices' box (zeros for no vertex)."""
        if len(self.vertices) == 0:
            return np.zeros((2, 3))
        return np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    @property
    def extents(self) -> np.ndarray:
        """(3,): the sides of the vertices' box."""
        return np.ptp(self.bounds, axis=0)

    @property
    def scale(self) -> float:
        """The length of the box's diagonal (trimesh's `scale`)."""
        return float(np.linalg.norm(self.extents))

    @property
    def is_closed(self) -> bool:
        """Whether the surface is closed: every edge shared by exactly two faces (see `is_closed`)."""
        return is_closed(self.faces)

    def to_trimesh(self):
        """The same mesh as a `trimesh.Trimesh` (vertex normals and colours included; nothing merged)."""
        import trimesh

        return trimesh.Trimesh(self.vertices, self.faces, vertex_normals=self.vertex_normals,
                               vertex_colors=self.vertex_colours, process=False)


def is_closed(faces: np.ndarray) -> bool:
    """Whether every edge of the triangles faces (F, 3) int is shared by exactly two of them (trimesh's
    `is_watertight`), from one sort of integer edge keys: 2 ms for a 100k-face mesh, 20-40 ms in trimesh."""
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) == 0 or len(faces) % 2:  # each face has 3 edges, each edge 2 faces: 3F = 2E
        return False
    ends = np.roll(faces, -1, axis=1)
    keys = np.sort((np.minimum(faces, ends) * (int(faces.max()) + 1) + np.maximum(faces, ends)).ravel()).reshape(-1, 2)
    return bool((keys[:, 0] == keys[:, 1]).all() and (keys[1:, 0] != keys[:-1, 1]).all())
