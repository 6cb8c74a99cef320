"""Per-sample transforms: images to normalised tensors, occupancy points subsampled and jittered."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image


def image_to_tensor(image: Image.Image, size: int, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """RGB image -> (3, size, size) float32, resized bilinearly (antialiased) and normalised.

    `mean`/`std` are the encoder's (timm's data config), per channel on [0, 1] values.
    """
    image = image.convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR, reducing_gap=None)
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)  # (3, H, W)
    std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    # (x / 255 - mean) / std as one multiply-add on the uint8 values
    return torch.addcmul(-mean / std, pixels.float(), 1.0 / (255.0 * std))


def subsample_points(points: np.ndarray, occ: np.ndarray, n: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` (points (n,3) float32, occ (n,)) drawn uniformly with replacement, as the reference trainer.

    `points` may be the file's float16: only the drawn rows are converted.
    """
    idx = rng.integers(0, len(points), size=n)
    return points[idx].astype(np.float32), occ[idx]


def subsample_near_surface(points: np.ndarray, occ: np.ndarray, near: np.ndarray, n: int, fraction: float,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`subsample_points`, with round(`fraction` * n) of the draws from the rows `near`.

    `near` (K,) int: indices of the points close to the surface (see
    :func:`near_surface_indices`). Thin parts, a few per mille of the uniform points, get many
    more labelled points around them. The choice depends on a point's position, not its label,
    but a network unsure of where the surface is learns higher probabilities near it, so the
    best occupancy threshold moves up (docs/train.md).
    """
    n_near = int(round(fraction * n)) if len(near) else 0
    idx = np.concatenate([np.take(near, rng.integers(0, len(near), size=n_near)),
                          rng.integers(0, len(points), size=n - n_near)])
    return points[idx].astype(np.float32), occ[idx]


def near_surface_indices(points: np.ndarray, surface: np.ndarray, band: float) -> np.ndarray:
    """Indices (K,) int32 of the points (N,3) within `band` of the nearest of the surface points (M,3)."""
    from pykdtree.kdtree import KDTree

    tree = KDTree(np.ascontiguousarray(surface, np.float32))
    distance, _ = tree.query(np.ascontiguousarray(points, np.float32), k=1, distance_upper_bound=band)
    return np.flatnonzero(distance <= band).astype(np.int32)


def jitter_points(points: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """points (N,3) as float32 plus Gaussian noise of std `sigma`: float16 files have ties to break."""
    if sigma <= 0:
        return points.astype(np.float32, copy=False)
    return (points + sigma * rng.standard_normal(points.shape, dtype=np.float32)).astype(np.float32, copy=False)
