"""A synthetic object: convex parts -> normalised frame, exact inside test, watertight union mesh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import trimesh

from vitocc.data.synth.primitives import Part

PLANE_DECIMALS = 9  # planes closer than this are one face of the hull


@dataclass
class ConvexSolid:
    """A convex part in the normalised frame: inside = all(normals @ p <= offsets)."""

    normals: np.ndarray  # (P,3) unit outward face normals
    offsets: np.ndarray  # (P,)
    lo: np.ndarray  # (3,) bounding box, to skip far points
    hi: np.ndarray

    def contains(self, points: np.ndarray, todo: np.ndarray | None = None) -> np.ndarray:
        """(N,) bool for points (N,3), among the `todo` mask if given; the boundary counts as inside."""
        near = np.all((points >= self.lo) & (points <= self.hi), axis=1)
        if todo is not None:
            near &= todo
        inside = np.zeros(len(points), dtype=bool)
        index = np.flatnonzero(near)
        if len(index):
            inside[index] = np.all(points[index] @ self.normals.T <= self.offsets, axis=1)
        return inside


@dataclass
class Solid:
    """The union of an object's parts, in the canonical frame (bbox centred, longest side 1).

    mesh: watertight outer surface; face_part (F,) int: the part each face comes from;
    parts: their convex solids, whose union is exactly the inside of `mesh`.
    """

    mesh: trimesh.Trimesh
    face_part: np.ndarray
    parts: list[ConvexSolid]

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Exact occupancy (N,) bool of points (N,3): inside any part."""
        points = np.asarray(points, dtype=np.float64)
        inside = np.zeros(len(points), dtype=bool)
        for part in self.parts:
            inside |= part.contains(points, ~inside)
        return inside


def normalise(parts: Sequence[Part]) -> list[Part]:
    """Parts moved and scaled so that their union's bounding box is centred with longest side 1."""
    allpts = np.concatenate([p.points for p in parts])
    lo, hi = allpts.min(0), allpts.max(0)
    centre, size = (lo + hi) / 2, (hi - lo).max()
    return [Part((p.points - centre) / size, p.material) for p in parts]


def build_solid(parts: Sequence[Part]) -> Solid:
    """Normalise `parts`, take each one's convex hull and their boolean union (manifold3d).

    The union of convex hulls is the object: its mesh is watertight and every face is
    traced back to the part it lies on (manifold's run/original ids), for materials.
    """
    import manifold3d

    parts = normalise(parts)
    hulls, solids = [], []
    for part in parts:
        hull = manifold3d.Manifold.hull_points(part.points)
        if hull.is_empty():
            raise ValueError("degenerate part: its points are coplanar")
        hulls.append(hull)
        solids.append(_convex_solid(part.points))
    union = manifold3d.Manifold.batch_boolean(hulls, manifold3d.OpType.Add).to_mesh64()
    ids = {hull.original_id(): i for i, hull in enumerate(hulls)}
    runs = np.asarray(union.run_index) // 3  # triangle ranges per source mesh
    run_part = [ids.get(int(o), 0) for o in union.run_original_id]
    face_part = np.repeat(run_part, np.diff(runs)).astype(np.int64)
    mesh = trimesh.Trimesh(np.asarray(union.vert_properties)[:, :3], np.asarray(union.tri_verts), process=False)
    return Solid(mesh, face_part, solids)


def _convex_solid(points: np.ndarray) -> ConvexSolid:
    """Face planes of the convex hull of `points` (M,3), from qhull (coplanar facets merged).

    Planes come from qhull rather than from the triangles of manifold's hull: a sliver
    triangle's cross product can point the wrong way and cut the part in two.
    """
    from scipy.spatial import ConvexHull

    equations = ConvexHull(points).equations  # (P,4): unit outward normal n, d with n.x + d <= 0 inside
    planes = np.unique(np.round(equations, PLANE_DECIMALS), axis=0)
    return ConvexSolid(planes[:, :3], -planes[:, 3], points.min(0), points.max(0))
