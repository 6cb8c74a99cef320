"""3D-R2N2's chairs as a yardstick: their renders (the same pictures as img_choy2016), their 32^3
voxels, and the voxel IoU of a reconstruction in the Occupancy Networks' normalised frame.

R2N2's voxels (ShapeNetVox32, binvox) have their own axis order. The map to the normalised frame
is not assumed: :func:`fit_voxel_frame` finds the rotation (one of the 24 axis rotations) and
the azimuth direction under which the voxels, seen through each view's camera (the metadata's
azimuth and elevation, the renders' intrinsics and azimuth origin), cover the pictures'
silhouettes best. On the
six chairs of `shared/real-data` every chair picks the same one, at silhouette IoU 0.8-0.9
(docs/real-objects.md); tests/evaluation/test_r2n2.py checks the map against the renders.

Voxel IoU: a grid cell is occupied in the prediction when its centre is inside the mesh or the
mesh's surface passes through it, as binvox marks cells that the surface crosses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vitocc.data import cameras

# R2N2's renders: distance ratio * this = camera distance in the frame of a model of unit-length
# longest side (fitted together with the axis map; see fit_voxel_frame).
DISTANCE_SCALES = np.linspace(1.6, 2.6, 11)
# What fit_voxel_frame finds on every chair of the sample (read_binvox's [x, y, z] order): none.
R2N2_ROTATION = ((1, 0, 0), (0, 1, 0), (0, 0, 1))


@dataclass(frozen=True)
class View:
    """One line of rendering_metadata.txt: degrees, and the distance as a ratio."""

    azimuth: float
    elevation: float
    roll: float
    distance_ratio: float
    fov: float


@dataclass(frozen=True)
class VoxelFrame:
    """How R2N2 voxels sit in the normalised frame: points_normalised = rotation @ binvox axes, then
    centred on the occupied box and scaled to longest side 1; the views' azimuth is
    `azimuth_sign` * metadata + `azimuth_offset` degrees, and their distance
    `distance_scale` * ratio."""

    rotation: tuple[tuple[int, ...], ...]
    azimuth_sign: int
    azimuth_offset: float
    distance_scale: float


def read_binvox(path: str | Path) -> np.ndarray:
    """Occupancy (D, D, D) bool of a binvox file, indexed [x, y, z] in the file's axes."""
    data = Path(path).read_bytes()
    header_end = data.index(b"data\n") + len(b"data\n")
    header = data[:header_end].decode("ascii").split("\n")
    if not header[0].startswith("#binvox"):
        raise ValueError(f"{path} is not a binvox file")
    dims = next(tuple(int(v) for v in line.split()[1:]) for line in header if line.startswith("dim"))
    runs = np.frombuffer(data[header_end:], dtype=np.uint8).reshape(-1, 2)
    values = np.repeat(runs[:, 0].astype(bool), runs[:, 1])
    if values.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {values.size} voxels for dims {dims}")
    return values.reshape(dims).transpose(0, 2, 1)  # binvox runs y fastest, then z, then x


def read_views(path: str | Path) -> list[View]:
    """The views of a rendering_metadata.txt, in file order (view 00 first)."""
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    return [View(*(float(v) for v in row[:5])) for row in rows]


def axis_rotations() -> list[np.ndarray]:
    """The 24 rotations (3, 3) that map axes to axes (signed permutations with determinant 1)."""
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3))
            m[range(3), perm] = signs
            if np.linalg.det(m) > 0:
                out.append(m)
    return out


@dataclass(frozen=True)
class GridPlacement:
    """Where a D^3 grid's cells lie in the normalised frame: p = (rotation @ q - centre) / size for q
    in cell units (cell i spans [i, i+1)); the occupied cells' box is centred, longest side 1."""

    rotation: np.ndarray
    centre: np.ndarray
    size: float

    @classmethod
    def of(cls, occ: np.ndarray, rotation: np.ndarray) -> GridPlacement:
        filled = np.argwhere(occ).astype(float)
        corners = (filled[:, None, :] + np.array(list(itertools.product((0.0, 1.0), repeat=3)))[None]).reshape(-1, 3)
        corners = corners @ rotation.T
        lo, hi = corners.min(0), corners.max(0)
        return cls(rotation, (lo + hi) / 2, float((hi - lo).max()))

    @property
    def cell(self) -> float:
        """Side of a cell in the normalised frame."""
        return 1.0 / self.size

    def to_frame(self, q: np.ndarray) -> np.ndarray:
        """Cell-unit points (N, 3) -> the normalised frame."""
        return (q @ self.rotation.T - self.centre) / self.size

    def to_cells(self, p: np.ndarray) -> np.ndarray:
        """Normalised-frame points (N, 3) -> cell units (the inverse of to_frame)."""
        return (p * self.size + self.centre) @ self.rotation

    def centres(self, d: int) -> np.ndarray:
        """Centres (D^3, 3) of all cells in the normalised frame, in C order of the grid."""
        idx = np.stack(np.meshgrid(*(np.arange(d),) * 3, indexing="ij"), -1).reshape(-1, 3) + 0.5
        return self.to_frame(idx)


def silhouette(points: np.ndarray, view: View, frame: VoxelFrame, radius_px: int = 2) -> np.ndarray:
    """Mask (137, 137) bool of points (N, 3) of the normalised frame seen from `view`."""
    world = cameras.world_matrix(frame.distance_scale * view.distance_ratio, view.elevation,
                                 frame.azimuth_sign * view.azimuth + frame.azimuth_offset)
    pixels, _ = cameras.project(points, world, cameras.camera_matrix())
    size = cameras.IMAGE_SIZE
    mask = np.zeros((size, size), bool)
    cols, rows = np.floor(pixels).astype(int).T
    for dr, dc in itertools.product(range(-radius_px, radius_px + 1), repeat=2):
        r, c = rows + dr, cols + dc
        keep = (r >= 0) & (r < size) & (c >= 0) & (c < size)
        mask[r[keep], c[keep]] = True
    return mask


def picture_mask(rgba: np.ndarray) -> np.ndarray:
    """Object mask (H, W) bool of an R2N2 render (H, W, 4) uint8: its alpha."""
    return rgba[..., 3] > 127


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def _cell_points(occ: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Centres (N, 3) of the occupied cells in the normalised frame, for one axis rotation."""
    return GridPlacement.of(occ, rotation).to_frame(np.argwhere(occ) + 0.5)


def _mean_iou(points: np.ndarray, views: list[View], masks: list[np.ndarray], frame: VoxelFrame) -> float:
    return float(np.mean([mask_iou(silhouette(points, v, frame), m) for v, m in zip(views, masks)]))


def silhouette_iou(occ: np.ndarray, views: list[View], masks: list[np.ndarray], frame: VoxelFrame) -> float:
    """Mean over views of the IoU of the voxels' silhouette and the picture's."""
    return _mean_iou(_cell_points(occ, np.array(frame.rotation, float)), views, masks, frame)


def fit_voxel_frame(occ: np.ndarray, views: list[View], masks: list[np.ndarray]) -> tuple[VoxelFrame, float]:
    """The VoxelFrame (24 rotations x azimuth sign x distance scales) whose silhouettes best match
    the pictures' `masks`, and its mean silhouette IoU.

    The azimuth offset stays 0, the renders' convention (`vitocc.data.cameras.world_matrix`):
    turning the object about y and offsetting every azimuth by the same angle give the same
    pictures, so silhouettes alone cannot tell them apart.
    """
    def best_of(frames: list[VoxelFrame], points: np.ndarray) -> tuple[float, VoxelFrame]:
        return max(((_mean_iou(points, views, masks, f), f) for f in frames), key=lambda pair: pair[0])

    fits = []
    for rotation in axis_rotations():
        rot = tuple(tuple(int(v) for v in row) for row in rotation)
        points = _cell_points(occ, rotation)  # once per rotation, for every sign and distance
        coarse = [VoxelFrame(rot, sign, 0.0, float(d)) for sign, d in itertools.product((1, -1), DISTANCE_SCALES[::2])]
        fits.append((*best_of(coarse, points), points))
    _, best, points = max(fits, key=lambda fit: fit[0])
    # the distance more finely, for the chosen axes
    score, best = best_of([VoxelFrame(best.rotation, best.azimuth_sign, 0.0, float(d)) for d in DISTANCE_SCALES], points)
    return best, score


def voxelize_mesh(vertices: np.ndarray, faces: np.ndarray, placement: GridPlacement, d: int,
                  rng: np.random.Generator, surface_points: int = 200_000) -> np.ndarray:
    """Occupancy (D, D, D) of a normalised-frame mesh on the grid `placement` puts in that frame:
    a cell is occupied when its centre is inside or the surface crosses it."""
    from vitocc import metrics

    if len(faces) == 0:
        return np.zeros((d, d, d), bool)
    occ = metrics.inside_mesh(vertices, faces, placement.centres(d), method="winding").reshape(d, d, d)
    points, _ = metrics.sample_surface(vertices, faces, surface_points, rng)
    idx = np.floor(placement.to_cells(points.astype(np.float64))).astype(int)
    idx = idx[np.all((idx >= 0) & (idx < d), axis=1)]
    occ[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    return occ


def voxel_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """IoU of two occupancy grids of the same shape."""
    return mask_iou(pred, gt)
