"""Per-shape reconstruction metrics of the Occupancy Networks protocol (docs/design.md section 3).

Everything is measured in the normalised unit-cube frame of the data set (longest side 1):
no x10, no rescaling. Tables multiply Chamfer-L1 by 10 ("paper units") and say so.

* IoU: occupancy of the points of points.npz (jittered by 1e-4 as the reference loader does
  for float16 files) under an inside test against the predicted mesh, vs the file's labels.
* accuracy / completeness: mean distance prediction -> GT / GT -> prediction between 100k
  area-weighted samples on the predicted mesh and the GT points of pointcloud.npz, nearest
  neighbours in a kd-tree; `accuracy2` / `completeness2` are the mean squared distances.
* Chamfer-L1 = (accuracy + completeness) / 2; Chamfer-L2 = (accuracy2 + completeness2) / 2.
* Normal consistency = mean of |dot| between the unit normals of nearest neighbours
  (face normals on the prediction, sign ignored), averaged over both directions.
* F-score@tau = 2PR / (P + R) with precision P = share of prediction samples within tau of
  the GT points and recall R = share of GT points within tau of the prediction samples.

Inside tests: "ray" is the paper's ray parity along vertical rays (inside = an odd number of
crossings above the point and below it), vectorised numpy, exact for closed meshes (what MISE
produces); on open or self-intersecting meshes it is wrong in the columns through holes or
overlaps (a point under a hole counts as outside). "winding" is libigl's fast
generalised winding number (inside where >= 0.5): a little slower, and right on open and
self-intersecting meshes too. Both agree on closed meshes.

An empty prediction gets the reference evaluator's values: accuracy = completeness = sqrt(3)
(the diagonal of the unit cube), the squared ones 3, normals -1, IoU 0, F-scores 0, and NO
Chamfer value (NaN): the reference wrote no Chamfer key for empty meshes, so its means over
shapes skipped them. `empty` marks such shapes so that tables can count them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vitocc.config.schema import DataConfig, TestConfig

log = logging.getLogger(__name__)

# The protocol's defaults live in the config schema (test.n_points, test.fscore_thresholds,
# data.points_noise): 100k samples on the predicted mesh as the paper, F-score at 1% of the unit
# cube's side, and the reference loader's 1e-4 jitter of the float16 IoU points.
N_SURFACE_POINTS = TestConfig.n_points
FSCORE_THRESHOLDS = tuple(TestConfig().fscore_thresholds)
POINTS_NOISE = DataConfig.points_noise
INSIDE_METHODS = ("ray", "winding")
EMPTY_DISTANCE = math.sqrt(3.0)  # the reference's accuracy/completeness of an empty mesh
_GRID_CELLS = 32  # cells per axis of the spatial sort before kd-tree work (cache locality)
_RAY_CELL = 0.4  # xy grid cell of ray_parity, in median face sizes: fastest in benchmarks
_LEAF_SIZE = 16  # kd-tree leaf size (pykdtree's default): 8, 24 and 32 were no faster on 100k surface points


@dataclass
class GroundTruth:
    """The GT of one shape, as the metrics use it.

    surface (M,3) float32 and normals (M,3) float32 (unit) from pointcloud.npz; points (N,3)
    float32 (jittered) and occ (N,) bool from points.npz.
    """

    surface: np.ndarray
    normals: np.ndarray
    points: np.ndarray
    occ: np.ndarray


@dataclass
class ShapeMetrics:
    """All metrics of one predicted mesh, unit-cube frame. F-score dicts are keyed by tau."""

    iou: float
    accuracy: float
    completeness: float
    accuracy2: float
    completeness2: float
    chamfer_l1: float  # NaN for an empty mesh (the reference skipped those in Chamfer means)
    chamfer_l2: float
    normals_accuracy: float
    normals_completeness: float
    normal_consistency: float
    precision: dict[float, float] = field(default_factory=dict)
    recall: dict[float, float] = field(default_factory=dict)
    fscore: dict[float, float] = field(default_factory=dict)
    empty: bool = False

    def to_row(self) -> dict[str, float]:
        """A flat {column: value} dict (F-scores as `fscore@0.01`, `precision@0.01`, ...)."""
        row: dict[str, float] = {"empty": int(self.empty), "iou": self.iou}
        for name in ("chamfer_l1", "chamfer_l2", "accuracy", "completeness", "accuracy2", "completeness2",
                     "normal_consistency", "normals_accuracy", "normals_completeness"):
            row[name] = getattr(self, name)
        for tau in self.fscore:
            row[f"fscore@{tau:g}"] = self.fscore[tau]
            row[f"precision@{tau:g}"] = self.precision[tau]
            row[f"recall@{tau:g}"] = self.recall[tau]
        return row


def load_ground_truth(folder: str | Path, rng: np.random.Generator, noise: float = POINTS_NOISE,
                      points_file: str = "points.npz", pointcloud_file: str = "pointcloud.npz") -> GroundTruth:
    """Read a model folder's points.npz and pointcloud.npz; jitter the IoU points by `noise` * N(0,1)."""
    from vitocc.data.layout import read_pointcloud_npz, read_points_npz

    folder = Path(folder)
    surface, normals = read_pointcloud_npz(folder / pointcloud_file)
    points, occ = read_points_npz(folder / points_file)
    if noise > 0:
        points = points + (noise * rng.standard_normal(points.shape)).astype(np.float32)
    return GroundTruth(surface, _unit(normals), points, occ)


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted random points on a triangle mesh and the unit normals of their faces.

    vertices (V,3), faces (F,3) int -> points (n,3) float32, normals (n,3) float32; (0,3)
    arrays for a mesh without area (no faces, or only degenerate ones).
    """
    origin, edge1, edge2 = _triangles(vertices, faces)
    cross = _cross(edge1, edge2)
    area = _lengths(cross)
    cdf = np.cumsum(area)
    if not (len(cdf) and cdf[-1] > 0):
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)
    face = np.minimum(_search_cdf(cdf, rng.random(n) * cdf[-1]), len(area) - 1)
    u, v = rng.random((2, n))
    fold = u + v > 1  # reflect into the triangle: uniform barycentric coordinates
    u, v = np.where(fold, 1 - u, u)[:, None], np.where(fold, 1 - v, v)[:, None]
    unit = _unit(cross, area)

    def at_faces(x: np.ndarray) -> np.ndarray:  # np.take: several times faster than x[face] for rows
        return np.take(x.astype(np.float32), face, axis=0)

    points = at_faces(origin) + u.astype(np.float32) * at_faces(edge1) + v.astype(np.float32) * at_faces(edge2)
    return points, np.take(unit, face, axis=0)


def _search_cdf(cdf: np.ndarray, values: np.ndarray, steps: int = 8) -> np.ndarray:
    """np.searchsorted(cdf, values, side="right") for many values in [0, cdf[-1]]; 3x faster.

    cdf (F,) non-decreasing, values (n,). A table over F equal buckets of [0, cdf[-1]] gives
    each value the count at its bucket's left edge; a few vectorised steps over the entries
    between that edge and the value finish it (values still moving after `steps` are searched).
    """
    scale = len(cdf) / cdf[-1]
    edges = np.arange(len(cdf)) / scale
    bucket = np.minimum((values * scale).astype(np.int64), len(cdf) - 1)
    bucket -= np.take(edges, bucket) > values  # rounding may put a value just below its bucket
    index = np.take(np.searchsorted(cdf, edges, side="right"), bucket)
    moving = np.arange(len(values))
    for _ in range(steps):
        at = np.take(index, moving)
        below = np.take(cdf, np.minimum(at, len(cdf) - 1)) <= np.take(values, moving)
        moving = np.compress((at < len(cdf)) & below, moving)
        if len(moving) == 0:
            return index
        index[moving] += 1
    index[moving] = np.searchsorted(cdf, np.take(values, moving), side="right")
    return index


def _triangles(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First corner (F,3) and the two edges from it (F,3), float64, of each face."""
    vertices, faces = np.asarray(vertices, np.float64), np.asarray(faces)
    origin = np.take(vertices, faces[:, 0], axis=0)
    return (origin, np.take(vertices, faces[:, 1], axis=0) - origin,
            np.take(vertices, faces[:, 2], axis=0) - origin)


def nearest(reference: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance (N,) float32 and index (N,) int of each query's nearest reference point.

    reference (M,3), queries (N,3), float32. Queries in :func:`spatial_order` walk the
    same kd-tree leaves one after another and run about twice as fast.
    """
    from pykdtree.kdtree import KDTree

    tree = KDTree(np.ascontiguousarray(reference, np.float32), leafsize=_LEAF_SIZE)
    return tree.query(np.ascontiguousarray(queries, np.float32), k=1)


def spatial_order(points: np.ndarray) -> np.ndarray:
    """Permutation (N,) that groups points (N,3) by cell of a 32^3 grid over their bounds.

    Cell ids fit in 16 bits, so numpy's stable argsort is a radix sort (under 1 ms for 100k).
    """
    lo, hi = _bounds(points)
    cell = ((points - lo) * (_GRID_CELLS / np.maximum(hi - lo, 1e-12))).astype(np.int64)
    cell = np.minimum(cell, _GRID_CELLS - 1)
    key = ((cell[:, 0] * _GRID_CELLS + cell[:, 1]) * _GRID_CELLS + cell[:, 2]).astype(np.uint16)
    return np.argsort(key, kind="stable")


def surface_metrics(pred_points: np.ndarray, pred_normals: np.ndarray, gt_points: np.ndarray,
                    gt_normals: np.ndarray, thresholds: Sequence[float] = FSCORE_THRESHOLDS) -> dict:
    """Accuracy, completeness, Chamfer, normal consistency and F-scores of two oriented point sets.

    pred_* (P,3) and gt_* (M,3) float32, normals of unit length. Returns the keyword
    arguments of :class:`ShapeMetrics` other than `iou` and `empty`. Only means are kept,
    so both sets are put in :func:`spatial_order` first.
    """
    pred = spatial_order(pred_points)
    pred_points, pred_normals = np.take(pred_points, pred, axis=0), np.take(pred_normals, pred, axis=0)
    gt = spatial_order(gt_points)
    gt_points, gt_normals = np.take(gt_points, gt, axis=0), np.take(gt_normals, gt, axis=0)
    acc_dist, acc_idx = nearest(gt_points, pred_points)  # prediction -> GT
    comp_dist, comp_idx = nearest(pred_points, gt_points)  # GT -> prediction
    normals_acc = float(np.abs(np.einsum("ij,ij->i", pred_normals, np.take(gt_normals, acc_idx, axis=0))).mean())
    normals_comp = float(np.abs(np.einsum("ij,ij->i", gt_normals, np.take(pred_normals, comp_idx, axis=0))).mean())
    acc, comp = acc_dist.astype(np.float64), comp_dist.astype(np.float64)
    out = dict(
        accuracy=float(acc.mean()), completeness=float(comp.mean()),
        accuracy2=float((acc**2).mean()), completeness2=float((comp**2).mean()),
        normals_accuracy=normals_acc, normals_completeness=normals_comp,
        normal_consistency=0.5 * (normals_acc + normals_comp),
        precision={}, recall={}, fscore={},
    )
    out["chamfer_l1"] = 0.5 * (out["accuracy"] + out["completeness"])
    out["chamfer_l2"] = 0.5 * (out["accuracy2"] + out["completeness2"])
    for tau in thresholds:
        p, r = float((acc < tau).mean()), float((comp < tau).mean())
        out["precision"][tau], out["recall"][tau] = p, r
        out["fscore"][tau] = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return out


def inside_mesh(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, method: str = "ray") -> np.ndarray:
    """occ (N,) bool: which points (N,3) lie inside the mesh (see the module docstring for methods)."""
    if method not in INSIDE_METHODS:
        raise ValueError(f"inside method must be one of {INSIDE_METHODS}, got {method!r}")
    if len(faces) == 0:
        return np.zeros(len(points), bool)
    if method == "ray":
        return ray_parity(vertices, faces, points)
    from vitocc.data.build.occupancy import INSIDE_WINDING, winding_numbers

    return winding_numbers(vertices, faces, points) >= INSIDE_WINDING


def ray_parity(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray,
               max_pairs: int = 2_000_000) -> np.ndarray:
    """occ (N,) bool by counting crossings of vertical rays, as the paper's check_mesh_contains.

    A point is inside when the surface crosses the +z ray from it an odd number of times AND
    the -z ray too (the same answer on a closed mesh; on an open one, only columns that the
    surface closes on both sides count). Vectorised: points are sorted into an xy grid whose
    cell is 0.4 times the median xy size of a face; each face is tested against the points in the
    cells under its xy bounding box, in chunks of at most `max_pairs` (face, point) pairs.
    vertices (V,3), faces (F,3), points (N,3).
    """
    points = np.asarray(points)
    occ = np.zeros(len(points), bool)
    origin, edge1, edge2 = _triangles(vertices, faces)
    det = edge1[:, 0] * edge2[:, 1] - edge1[:, 1] * edge2[:, 0]  # twice the signed xy area
    crossable = np.flatnonzero(det != 0)  # faces seen edge-on from above are never crossed by a vertical ray
    lo, hi = _bounds(np.asarray(vertices, np.float64))
    in_box = np.ones(len(points), bool)
    for i in range(3):  # column by column: 10x faster than comparing (N,3) rows
        in_box &= (points[:, i] >= lo[i]) & (points[:, i] <= hi[i])
    candidates = np.flatnonzero(in_box)
    if len(candidates) == 0 or len(crossable) == 0:
        return occ
    origin, edge1, edge2, det = (np.take(x, crossable, axis=0) for x in (origin, edge1, edge2, det))
    q = np.take(points, candidates, axis=0).astype(np.float64)
    grid = _FaceGrid.build(q, origin, edge1, edge2, lo, hi)
    above, below = _crossings(grid, origin, edge1, edge2, det, max_pairs)
    occ[np.take(candidates, grid.by_cell)] = (above % 2 == 1) & (below % 2 == 1)
    return occ


@dataclass
class _FaceGrid:
    """Candidate points sorted into xy cells (the points of a cell are one run of qx, qy, qz) and,
    per face, the block of cells under its xy bounding box."""

    qx: np.ndarray
    qy: np.ndarray
    qz: np.ndarray
    by_cell: np.ndarray  # sorted position -> index among the candidates
    starts: np.ndarray  # per cell: first sorted point
    ends: np.ndarray
    first_cell: np.ndarray  # per face: the cell of its box's low corner
    nx: np.ndarray  # per face: cells of its box along x (rows) and y
    ny: np.ndarray
    pairs: np.ndarray  # per face: points under its box
    row_stride: int

    @classmethod
    def build(cls, q: np.ndarray, origin: np.ndarray, edge1: np.ndarray, edge2: np.ndarray,
              lo: np.ndarray, hi: np.ndarray) -> _FaceGrid:
        box_lo = origin[:, :2] + np.minimum(np.minimum(edge1[:, :2], edge2[:, :2]), 0)  # xy box of each face
        box_hi = origin[:, :2] + np.maximum(np.maximum(edge1[:, :2], edge2[:, :2]), 0)
        span = np.maximum(hi[:2] - lo[:2], 1e-12)
        extent = box_hi - box_lo
        cell = max(_RAY_CELL * float(np.median(np.maximum(extent[:, 0], extent[:, 1]))), float(span.max()) / 1024)
        n_cells = np.clip(np.ceil(span / cell), 1, 1024).astype(np.int64)
        size = span / n_cells

        def cell_of(xy: np.ndarray) -> np.ndarray:
            return np.clip(((xy - lo[:2]) / size).astype(np.int64), 0, n_cells - 1)

        key = cell_of(q[:, :2]) @ np.array([n_cells[1], 1])
        by_cell = np.argsort(key, kind="stable")
        counts = np.bincount(key, minlength=n_cells[0] * n_cells[1])
        ends = np.cumsum(counts)
        c0, c1 = cell_of(box_lo), cell_of(box_hi)
        # points under each face's box, from a summed-area table of the counts: sizes the chunks
        table = np.zeros((n_cells[0] + 1, n_cells[1] + 1), np.int64)
        table[1:, 1:] = counts.reshape(n_cells).cumsum(0).cumsum(1)
        pairs = table[c1[:, 0] + 1, c1[:, 1] + 1] - table[c0[:, 0], c1[:, 1] + 1] \
            - table[c1[:, 0] + 1, c0[:, 1]] + table[c0[:, 0], c0[:, 1]]
        return cls(*(np.take(q[:, i], by_cell) for i in range(3)), by_cell, ends - counts, ends,
                   c0 @ np.array([n_cells[1], 1]), c1[:, 0] - c0[:, 0] + 1, c1[:, 1] - c0[:, 1] + 1, pairs,
                   int(n_cells[1]))


def _crossings(grid: _FaceGrid, origin: np.ndarray, edge1: np.ndarray, edge2: np.ndarray, det: np.ndarray,
               max_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Per sorted candidate point: how many faces cross the vertical line through it above it,
    and how many below, testing (face, point) pairs in chunks of at most about `max_pairs`."""
    qx, qy, qz, starts, ends, nx, ny, pairs = (grid.qx, grid.qy, grid.qz, grid.starts, grid.ends,
                                               grid.nx, grid.ny, grid.pairs)
    work = np.cumsum(pairs + nx)
    # barycentric u, v of a point's xy are linear in its offset (dx, dy) from the face's first corner
    x0, y0, z0 = (np.ascontiguousarray(origin[:, i]) for i in range(3))
    ux, uy, vx, vy = edge2[:, 1] / det, -edge2[:, 0] / det, -edge1[:, 1] / det, edge1[:, 0] / det
    z1, z2 = np.ascontiguousarray(edge1[:, 2]), np.ascontiguousarray(edge2[:, 2])
    above = np.zeros(len(qx), np.int64)
    below = np.zeros(len(qx), np.int64)
    first = 0
    while first < len(x0):
        done = work[first] - pairs[first] - nx[first]
        last = max(first + 1, int(np.searchsorted(work, done + max_pairs, side="right")))
        # (face, row) pairs over the rows of each face's box; a row's cells are consecutive, so
        # its points are one run of the sorted points: (face, point) pairs over those runs
        face = np.repeat(np.arange(first, last), nx[first:last])
        row = np.arange(len(face)) - np.repeat(np.cumsum(nx[first:last]) - nx[first:last], nx[first:last])
        row_cell = np.take(grid.first_cell, face) + row * grid.row_stride
        begin = np.take(starts, row_cell)
        n = np.take(ends, row_cell + np.take(ny, face) - 1) - begin
        face = np.repeat(face, n)
        point = np.repeat(begin - (np.cumsum(n) - n), n) + np.arange(len(face))
        dx, dy = np.take(qx, point) - np.take(x0, face), np.take(qy, point) - np.take(y0, face)
        u = dx * np.take(ux, face) + dy * np.take(uy, face)
        v = dx * np.take(vx, face) + dy * np.take(vy, face)
        hit = np.flatnonzero((u >= 0) & (v >= 0) & (u + v <= 1))
        face, point, u, v = (np.take(x, hit) for x in (face, point, u, v))
        up = np.take(z0, face) + u * np.take(z1, face) + v * np.take(z2, face) > np.take(qz, point)
        above += np.bincount(np.compress(up, point), minlength=len(qx))
        below += np.bincount(np.compress(~up, point), minlength=len(qx))
        first = last
    return above, below


def iou(occ_pred: np.ndarray, occ_gt: np.ndarray) -> float:
    """|A and B| / |A or B| of two (N,) bool occupancies; NaN when both are empty (as the reference)."""
    union = np.count_nonzero(occ_pred | occ_gt)
    return np.count_nonzero(occ_pred & occ_gt) / union if union else float("nan")


def empty_metrics(thresholds: Sequence[float] = FSCORE_THRESHOLDS) -> ShapeMetrics:
    """The values an empty prediction gets (the reference evaluator's convention)."""
    zeros = {tau: 0.0 for tau in thresholds}
    return ShapeMetrics(
        iou=0.0, accuracy=EMPTY_DISTANCE, completeness=EMPTY_DISTANCE, accuracy2=3.0, completeness2=3.0,
        chamfer_l1=float("nan"), chamfer_l2=float("nan"),
        normals_accuracy=-1.0, normals_completeness=-1.0, normal_consistency=-1.0,
        precision=dict(zeros), recall=dict(zeros), fscore=dict(zeros), empty=True,
    )


def evaluate_mesh(vertices: np.ndarray, faces: np.ndarray, gt: GroundTruth, rng: np.random.Generator,
                  n_points: int = N_SURFACE_POINTS, thresholds: Sequence[float] = FSCORE_THRESHOLDS,
                  inside: str = "ray", occupancy: np.ndarray | None = None) -> ShapeMetrics:
    """Every metric of one predicted mesh (vertices (V,3), faces (F,3)) against its GT.

    `rng` draws the surface samples; the result varies with it only by sampling noise.
    `occupancy`: the inside test's (N,) bool answer for gt.points when it is already known
    (`vitocc evaluate` runs it on a reading thread); None runs the `inside` method here.
    """
    vertices = np.asarray(vertices, np.float64)
    faces = np.asarray(faces, np.int64).reshape(-1, 3)
    pred_points, pred_normals = sample_surface(vertices, faces, n_points, rng)
    if len(pred_points) == 0:  # no area to sample
        return empty_metrics(thresholds)
    surface = surface_metrics(pred_points, pred_normals, gt.surface, gt.normals, thresholds)
    occ = inside_mesh(vertices, faces, gt.points, inside) if occupancy is None else occupancy
    return ShapeMetrics(iou=iou(occ, gt.occ), **surface)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (N,3) arrays (np.cross's generic path is 7x slower on them)."""
    return np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)


def _bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis min and max (3,) of points (N,3), column by column (20x faster than .min(0) on (N,3))."""
    return (np.array([points[:, i].min() for i in range(3)]), np.array([points[:, i].max() for i in range(3)]))


def _lengths(rows: np.ndarray) -> np.ndarray:
    """Euclidean length (N,) of each row of (N,3) (einsum: faster than np.linalg.norm on rows)."""
    return np.sqrt(np.einsum("ij,ij->i", rows, rows))


def _unit(rows: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Rows scaled to unit length, float32 (float16 files store normals rounded); zero rows stay
    zero. `lengths`: the rows' lengths when already known."""
    lengths = _lengths(rows) if lengths is None else lengths
    return (rows / np.where(lengths > 0, lengths, 1)[:, None]).astype(np.float32)
