"""Box data sets in the real Occupancy Networks layout, written by the tests.

Shapes are unions of 1-3 axis-aligned boxes, so occupancy and surface are exact and cheap;
images are point-splat renders through the real camera convention (enough for the loaders
and the models; the realistic renderer belongs to `vitocc synth`). Import it as
`from box_data import write_box_dataset` (tests/ is on sys.path through the root conftest).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from vitocc.data import cameras, layout


def random_boxes(rng: np.random.Generator) -> np.ndarray:
    """(n, 2, 3) [min, max] corners of 1-3 boxes, normalised as the real data.

    The union's bounding box is centred at 0 with longest side 1.
    """
    n = rng.integers(1, 4)
    centers = rng.uniform(-0.2, 0.2, (n, 3))
    half = rng.uniform(0.05, 0.3, (n, 3))
    boxes = np.stack([centers - half, centers + half], axis=1)
    lo, hi = boxes[:, 0].min(0), boxes[:, 1].max(0)
    return (boxes - (lo + hi) / 2) / (hi - lo).max()


def inside_boxes(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N,) bool: point inside any box."""
    p = points[:, None, :]
    return np.any(np.all((p >= boxes[None, :, 0]) & (p <= boxes[None, :, 1]), axis=2), axis=1)


def box_surface(boxes: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n area-weighted points (N,3) with normals on the outer surface of the union of `boxes`."""
    size = boxes[:, 1] - boxes[:, 0]  # (b, 3)
    face_area = np.stack([size[:, 1] * size[:, 2], size[:, 0] * size[:, 2], size[:, 0] * size[:, 1]], 1)
    weights = np.repeat(face_area, 2, axis=1).ravel()  # (b * 6,): box, axis, side
    pts, nrm = [], []
    while sum(len(p) for p in pts) < n:
        face = rng.choice(len(weights), 2 * n, p=weights / weights.sum())
        box, axis, side = face // 6, (face % 6) // 2, face % 2
        p = rng.uniform(boxes[box, 0], boxes[box, 1])
        p[np.arange(len(p)), axis] = boxes[box, side, axis]
        normal = np.zeros_like(p)
        normal[np.arange(len(p)), axis] = np.where(side == 1, 1.0, -1.0)
        keep = ~inside_boxes(p + 1e-6 * normal, boxes)  # drop faces inside other parts
        pts.append(p[keep])
        nrm.append(normal[keep])
    return np.concatenate(pts)[:n], np.concatenate(nrm)[:n]


def splat_render(points: np.ndarray, normals: np.ndarray, world: np.ndarray, cam: np.ndarray,
                 scale: float, size: int = cameras.IMAGE_SIZE) -> np.ndarray:
    """(size, size, 3) uint8: nearest splatted surface point per pixel, Lambert-shaded, white background."""
    pix, depth = cameras.project(points, world, cam, scale=scale)
    cols, rows = np.round(pix[:, 0]).astype(int), np.round(pix[:, 1]).astype(int)
    ok = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size) & (depth > 0)
    order = np.argsort(-depth[ok])  # far first, near overwrite
    image = np.full((size, size, 3), 255, np.uint8)
    view_dir = world[2, :3]
    shade = 60 + 150 * np.abs(normals[ok] @ view_dir)
    image[rows[ok][order], cols[ok][order]] = shade[order, None].astype(np.uint8)
    return image


def write_box_dataset(root: Path, classes: dict[str, str], models_per_class: int = 4,
                      n_points: int = 4096, n_views: int = 3, seed: int = 0) -> Path:
    """Write a box data set in the real layout under `root`; returns `root`."""
    rng = np.random.default_rng(seed)
    layout.write_metadata(root, classes)
    for synset in classes:
        ids = [f"{synset[-3:]}model{i:02d}" for i in range(models_per_class)]
        n_val = max(1, models_per_class // 4)
        layout.write_split_lists(root / synset, {
            "train": ids[: models_per_class - 2 * n_val], "val": ids[-2 * n_val: -n_val], "test": ids[-n_val:],
        })
        for model in ids:
            folder = root / synset / model
            boxes = random_boxes(rng)
            lo, hi = boxes[:, 0].min(0), boxes[:, 1].max(0)
            scale = float(1.0 / np.linalg.norm(hi - lo))
            pts = rng.uniform(-0.55, 0.55, (n_points, 3))
            layout.write_points_npz(folder / layout.POINTS_FILE, pts, inside_boxes(pts, boxes), scale=scale)
            surf, nrm = box_surface(boxes, n_points, rng)
            layout.write_pointcloud_npz(folder / layout.POINTCLOUD_FILE, surf, nrm, scale=scale)
            world, cams = cameras.sample_cameras(n_views, rng)
            img_dir = folder / layout.IMG_FOLDER
            img_dir.mkdir(parents=True, exist_ok=True)
            dense, dense_n = box_surface(boxes, 30000, rng)
            for v in range(n_views):
                Image.fromarray(splat_render(dense, dense_n, world[v], cams[v], scale)).save(
                    img_dir / layout.image_name(v), quality=90)
            layout.write_cameras_npz(img_dir / layout.CAMERAS_FILE, world, cams)
            np.save(folder / "boxes.npy", boxes)  # exact ground truth for tests
    return root
