"""Convex parts with exact inside tests, and their exact union as a watertight mesh.

Every part of a synthetic object is a convex polyhedron: the hull of a point set
(box, rounded box, cylinder, cone, frustum, ellipsoid, capsule, wedge, or one segment of
a swept tube). A convex polyhedron is the intersection of its face planes, so its inside
test is exact for the very mesh that is rendered and sampled; the object is the union of
its parts (manifold3d boolean union: watertight, no inner faces), and a point is inside
the object exactly when it is inside some part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Points = np.ndarray  # (M,3) float64 vertices whose convex hull is a part


@dataclass
class Part:
    """One convex part: hull vertices (M,3) in the generator's frame and a material index."""

    points: Points
    material: int = 0


# ---------------------------------------------------------------- transforms

def rotation(axis: str, degrees: float) -> np.ndarray:
    """(3,3) rotation by `degrees` about the x, y or z axis (right-handed)."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def frame(direction: np.ndarray) -> np.ndarray:
    """(3,3) orthonormal rows (u, v, w) with w along `direction`."""
    w = np.asarray(direction, dtype=np.float64)
    w = w / np.linalg.norm(w)
    helper = np.array([1.0, 0, 0]) if abs(w[0]) < 0.9 else np.array([0, 1.0, 0])
    u = np.cross(w, helper)
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(w, u), w])


def place(points: Points, center: Sequence[float] = (0, 0, 0), rot: np.ndarray | None = None) -> Points:
    """Rotate points about the origin, then move the origin to `center`."""
    points = np.asarray(points, dtype=np.float64)
    if rot is not None:
        points = points @ np.asarray(rot).T
    return points + np.asarray(center, dtype=np.float64)


# ---------------------------------------------------------------- convex point sets

def box(center: Sequence[float], size: Sequence[float], rot: np.ndarray | None = None) -> Points:
    """Corners (8,3) of a box of `size` (x, y, z) centred at `center`."""
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    return place(corners * np.asarray(size, dtype=np.float64), center, rot)


def ellipsoid(center: Sequence[float], radii: Sequence[float], rot: np.ndarray | None = None,
              sections: int = 20) -> Points:
    """Vertices of a UV ellipsoid with `radii` (x, y, z): `sections` around, sections/2 rings."""
    rings = max(sections // 2, 3)
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, sections, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], -1).reshape(-1, 3)
    unit = np.concatenate([unit, [[0, 1, 0], [0, -1, 0]]])
    return place(unit * np.asarray(radii, dtype=np.float64), center, rot)


def sphere(center: Sequence[float], radius: float, sections: int = 20) -> Points:
    """Vertices of a UV sphere."""
    return ellipsoid(center, (radius, radius, radius), sections=sections)


def rounded_box(center: Sequence[float], size: Sequence[float], radius: float,
                rot: np.ndarray | None = None, sections: int = 8) -> Points:
    """A box of `size` with edges and corners rounded by `radius` (hull of 8 corner spheres)."""
    size = np.asarray(size, dtype=np.float64)
    radius = float(min(radius, 0.499 * size.min()))
    inner = box((0, 0, 0), size - 2 * radius)
    ball = sphere((0, 0, 0), radius, sections)
    return place((inner[:, None, :] + ball[None]).reshape(-1, 3), center, rot)


def frustum(p0: Sequence[float], p1: Sequence[float], r0: float, r1: float, sections: int = 20,
            squash: float = 1.0) -> Points:
    """Truncated cone from p0 (radius r0) to p1 (radius r1); r = 0 makes a cone tip.

    `squash` scales the second cross-section axis (elliptic sections).
    """
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    u, v, _ = frame(p1 - p0)
    a = np.linspace(0, 2 * np.pi, sections, endpoint=False)
    ring = np.cos(a)[:, None] * u + squash * np.sin(a)[:, None] * v
    ends = [p0 + r0 * ring if r0 > 0 else p0[None], p1 + r1 * ring if r1 > 0 else p1[None]]
    return np.concatenate(ends)


def cylinder(p0: Sequence[float], p1: Sequence[float], radius: float, sections: int = 20) -> Points:
    """Cylinder of `radius` from p0 to p1."""
    return frustum(p0, p1, radius, radius, sections)


def capsule(p0: Sequence[float], p1: Sequence[float], radius: float, sections: int = 12) -> Points:
    """Cylinder with hemispherical ends (hull of two spheres)."""
    return np.concatenate([sphere(p0, radius, sections), sphere(p1, radius, sections)])


def prism(polygon: np.ndarray, axis: str, lo: float, hi: float) -> Points:
    """Extrusion of a convex 2D polygon (K,2) along `axis` from lo to hi.

    The polygon's coordinates are the two other axes in x, y, z order (e.g. (x, y) for z).
    """
    polygon = np.asarray(polygon, dtype=np.float64)
    k = {"x": 0, "y": 1, "z": 2}[axis]
    others = [i for i in range(3) if i != k]
    pts = np.zeros((2 * len(polygon), 3))
    pts[:, others] = np.concatenate([polygon, polygon])
    pts[:, k] = np.repeat([lo, hi], len(polygon))
    return pts


def tube(path: np.ndarray, radius: float | np.ndarray, sections: int = 12) -> list[Points]:
    """A swept circle along a polyline path (K,3): K-1 convex segments (frustum hulls).

    `radius` is one value or (K,) per path vertex; consecutive segments share their ring,
    so the union is a closed bent tube (torus, bent arm, handle, curved fuselage).
    """
    path = np.asarray(path, dtype=np.float64)
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(path),))
    return [frustum(path[i], path[i + 1], radius[i], radius[i + 1], sections) for i in range(len(path) - 1)]


def arc(center: Sequence[float], radius: float, start_deg: float, stop_deg: float, plane: str = "xy",
        segments: int = 16) -> np.ndarray:
    """Points (segments+1, 3) on a circular arc in a coordinate plane ("xy", "xz" or "yz")."""
    a = np.radians(np.linspace(start_deg, stop_deg, segments + 1))
    pts = np.zeros((len(a), 3))
    i, j = ["xyz".index(c) for c in plane]
    pts[:, i], pts[:, j] = radius * np.cos(a), radius * np.sin(a)
    return pts + np.asarray(center, dtype=np.float64)


def mirror_z(points: Points) -> Points:
    """The part mirrored across the z = 0 plane (left/right copies)."""
    return np.asarray(points) * np.array([1.0, 1.0, -1.0])


def rounded_prism(polygon: np.ndarray, axis: str, lo: float, hi: float, radius: float,
                  sections: int = 6) -> Points:
    """A prism (see :func:`prism`) with edges rounded by `radius` (Minkowski sum with a ball).

    The result spans [lo, hi] along `axis` and the polygon grown by `radius` across it.
    """
    core = prism(polygon, axis, lo + radius, hi - radius)
    return (core[:, None, :] + sphere((0, 0, 0), radius, sections)[None]).reshape(-1, 3)


def section(center: Sequence[float], chord: float, thickness: float, span_axis: str = "z",
            points: int = 10) -> Points:
    """A streamlined (lens-shaped) cross-section in the plane across `span_axis`: wings, fins.

    The chord runs along x, leading edge at center + 0.35 chord (front is +x), trailing
    edge at center - 0.65 chord; `thickness` across it (y, or z for a vertical fin).
    Returns (2*points, 3).
    """
    s = np.linspace(0, 1, points)
    x = chord * (0.35 - s)  # leading edge at +x
    half = 0.5 * thickness * np.sin(np.pi * s**0.7)
    pts = np.zeros((2 * points, 3))
    thick_axis = 2 if span_axis == "y" else 1
    pts[:, 0] = np.concatenate([x, x])
    pts[:, thick_axis] = np.concatenate([half, -half])
    return pts + np.asarray(center, dtype=np.float64)


def rounded_rect(center: Sequence[float], half_y: float, half_z: float, radius: float, corner_points: int = 4) -> Points:
    """A cross-section (4*corner_points, 3) in the plane x = center[0]: a y-z rectangle with rounded corners."""
    radius = float(min(radius, 0.99 * half_y, 0.99 * half_z))
    phi = (np.arange(4)[:, None] * np.pi / 2 + np.linspace(0, np.pi / 2, corner_points)[None]).ravel()
    quadrant = np.repeat(np.arange(4), corner_points)
    sy, sz = np.array([1, 1, -1, -1])[quadrant], np.array([1, -1, -1, 1])[quadrant]  # y = sin, z = cos signs
    y = sy * (half_y - radius) + radius * np.sin(phi)
    z = sz * (half_z - radius) + radius * np.cos(phi)
    return np.stack([np.zeros_like(y), y, z], 1) + np.asarray(center, dtype=np.float64)


def loft(sections: Sequence[Points]) -> list[Points]:
    """A solid through cross-sections in order (car bodies, hulls): one convex hull per consecutive pair.

    Consecutive hulls share their section, so the union is closed even where the outline
    is not convex (a hood lower than the cabin, a tail rising behind a fuselage).
    """
    return [np.concatenate([sections[i], sections[i + 1]]) for i in range(len(sections) - 1)]


def sheet(grid: np.ndarray, thickness: float | np.ndarray, overlap: float = 0.05) -> list[Points]:
    """A bent plate of `thickness` around a mid-surface grid (I,J,3): shell seats, curved backs and slats.

    Every grid cell becomes one convex part, the hull of its four corners moved by
    +-thickness/2 along the surface normal at each corner (one convex hull of the whole
    surface would fill its hollow). Cells reach `overlap` of a cell into their neighbours:
    cells that only shared a face would leave that face inside the union (a zero-volume
    double layer in the mesh), overlapping ones fuse into one closed plate. `thickness` is
    one value or (I,J). Returns (I-1)*(J-1) point sets of 8 points each.
    """
    grid = np.asarray(grid, dtype=np.float64)
    du, dv = np.gradient(grid, axis=0), np.gradient(grid, axis=1)
    normal = np.cross(du, dv)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    half = 0.5 * np.broadcast_to(np.asarray(thickness, dtype=np.float64), grid.shape[:2])[..., None] * normal
    rows, columns = grid.shape[:2]
    cells = []
    for i in range(rows - 1):
        for j in range(columns - 1):
            corners = []
            for layer in (grid + half, grid - half):
                quad = layer[i:i + 2, j:j + 2].copy()  # (2,2,3); inner edges pushed into the neighbours
                step = quad[1] - quad[0]
                quad[0] -= overlap * step * (i > 0)
                quad[1] += overlap * step * (i + 2 < rows)
                step = quad[:, 1] - quad[:, 0]
                quad[:, 0] -= overlap * step * (j > 0)
                quad[:, 1] += overlap * step * (j + 2 < columns)
                corners.append(quad.reshape(-1, 3))
            cells.append(np.concatenate(corners))
    return cells
