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


# Training-side backgrounds (data.background_prob): a render on white composited over a procedural
# background, so that a model learns to ignore what the automatic cut of `vitocc reconstruct` misses.
# Families: linear two-colour gradients in any direction, sinusoidal "plasma" patterns, and a floor
# and a wall of two colours meeting at a random height, with a soft shadow of the object on the floor.
# None of them is the held-aside set of benchmarks/backgrounds.py (a plank room, value-noise stone, its
# grey-blue to beige gradient), which measures the pipeline on backgrounds no training run draws.
OBJECT_TOLERANCE = 24  # 8-bit difference from white that counts as object in a render on white
BACKGROUND_KINDS = ("gradient", "plasma", "floor")


def object_coverage(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1]: how much of each pixel of a render on white rgb (H, W, 3) uint8 is object
    (1 beyond OBJECT_TOLERANCE from white, blending to 0 at white, so antialiased edges stay soft)."""
    distance = (255.0 - rgb.astype(np.float32)).max(axis=2)
    return np.clip(distance / OBJECT_TOLERANCE, 0.0, 1.0)


def procedural_background(shape: tuple[int, int], kind: str, rng: np.random.Generator,
                          coverage: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) float32 in 0..255 for shape (H, W): a background of `kind` (one of BACKGROUND_KINDS) with
    random colours. For "floor", `coverage` (H, W) of the object casts a soft shadow on the floor."""
    from PIL import ImageFilter

    height, width = shape
    size = max(height, width)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32) / max(size - 1, 1)
    a, b = rng.uniform(30, 250, 3), rng.uniform(30, 250, 3)
    if kind == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        t = (np.cos(angle) * (cols - 0.5) + np.sin(angle) * (rows - 0.5)) / np.sqrt(0.5) + 0.5
        return (a + (b - a) * np.clip(t, 0, 1)[..., None]).astype(np.float32)
    if kind == "plasma":
        t = np.zeros((height, width), np.float32)
        for _ in range(3):
            fx, fy, phase = rng.uniform(1, 8), rng.uniform(1, 8), rng.uniform(0, 2 * np.pi)
            t += np.sin(2 * np.pi * (fx * cols + fy * rows) + phase)
        return (a + (b - a) * (t / 6 + 0.5)[..., None]).astype(np.float32)
    if kind != "floor":
        raise ValueError(f"unknown background kind {kind!r}; one of {BACKGROUND_KINDS}")
    horizon = rng.uniform(0.3, 0.7) * height / size
    image = np.where((rows > horizon)[..., None], a, b).astype(np.float32)
    image *= (0.85 + 0.15 * rows)[..., None]  # light falls off towards the camera
    if coverage is not None and coverage.any():
        # The object's silhouette squashed onto the floor, shifted sideways and blurred: a soft contact shadow.
        shadow = Image.fromarray((coverage * 255).astype(np.uint8))
        squashed = max(1, round(height * rng.uniform(0.15, 0.35)))
        shadow = shadow.resize((width, squashed), Image.BILINEAR)
        canvas = Image.new("L", (width, height), 0)
        bottom = int(np.flatnonzero(coverage.max(axis=1) > 0.5).max(initial=height - 1))
        canvas.paste(shadow, (round(rng.uniform(-0.15, 0.15) * width), bottom - squashed // 2))
        canvas = canvas.filter(ImageFilter.GaussianBlur(size * rng.uniform(0.01, 0.04)))
        image *= 1.0 - rng.uniform(0.3, 0.6) * (np.asarray(canvas, np.float32)[..., None] / 255.0)
    return image


def composite_background(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A render on white (RGB) over a random procedural background (kind, colours and shadow from `rng`);
    the object's pixels are kept as they are."""
    rgb = np.asarray(image.convert("RGB"))
    coverage = object_coverage(rgb)
    kind = BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))]
    behind = procedural_background(rgb.shape[:2], kind, rng, coverage)
    out = rgb * coverage[..., None] + behind * (1.0 - coverage[..., None])
    return Image.fromarray(np.clip(np.round(out), 0, 255).astype(np.uint8))
