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
    array = np.asarray(image, dtype=np.float32) / 255.0  # (H, W, 3)
    array = (array - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def subsample_points(points: np.ndarray, occ: np.ndarray, n: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` (points (n,3), occ (n,)) drawn uniformly with replacement, as the reference trainer."""
    idx = rng.integers(0, len(points), size=n)
    return points[idx], occ[idx]


def jitter_points(points: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """points (N,3) float32 plus Gaussian noise of std `sigma`: float16 files have ties to break."""
    if sigma <= 0:
        return points
    return (points + sigma * rng.standard_normal(points.shape, dtype=np.float32)).astype(np.float32)
