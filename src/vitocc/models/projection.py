"""Cameras as torch tensors: a predicted (azimuth, elevation, translation) to a projection of
normalised-frame points onto grid_sample's image coordinates, projecting, and sampling maps.

A projection P (B, 3, 4) maps a point X of the normalised frame to (u w, v w, w) = P [X; 1],
with (u, v) in [-1, 1] across the picture (grid_sample, align_corners=False); the data's
cameras give it through `vitocc.data.cameras.grid_projection`. The camera head predicts the
extrinsics in the normalised frame: R from azimuth and elevation (the renders have no in-plane
roll) and the translation t_n = (R loc + t) / s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from vitocc.data import cameras


def render_grid_intrinsics(device: torch.device | str = "cpu") -> torch.Tensor:
    """A K (3, 3): the renders' intrinsics followed by pixels -> [-1, 1] (see data.cameras.grid_projection)."""
    return torch.tensor(cameras.pixels_to_grid() @ cameras.camera_matrix(), dtype=torch.float32, device=device)


def look_rotation(azimuth: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
    """R (B, 3, 3) of cameras at `azimuth`, `elevation` (B,) radians looking at the origin, y up, no roll.

    Rows: image right, image down, viewing direction (OpenCV), as `vitocc.data.cameras.world_matrix`.
    """
    eye = torch.stack([torch.cos(elevation) * torch.cos(azimuth), torch.sin(elevation),
                       torch.cos(elevation) * torch.sin(azimuth)], dim=-1)
    forward = -eye
    up = torch.tensor([0.0, 1.0, 0.0], device=eye.device, dtype=eye.dtype).expand_as(forward)
    right = F.normalize(torch.cross(forward, up, dim=-1), dim=-1)
    down = torch.cross(forward, right, dim=-1)
    return torch.stack([right, down, forward], dim=1)


def view_angles(rot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(azimuth, elevation) (B,) radians of camera rotations (B, 3, 3) built as :func:`look_rotation`."""
    eye = -rot[:, 2]
    return torch.atan2(eye[:, 2], eye[:, 0]), torch.asin(eye[:, 1].clamp(-1, 1))


def projection_from_pose(azimuth: torch.Tensor, elevation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """P (B, 3, 4) of the renders' intrinsics and a pose in the normalised frame (translation (B, 3))."""
    rot = look_rotation(azimuth, elevation)
    return render_grid_intrinsics(rot.device).to(rot.dtype) @ torch.cat([rot, translation[:, :, None]], dim=2)


def project(points: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """Image coordinates (..., 2) in [-1, 1] of points (..., 3) under P (..., 3, 4) (broadcast over points:
    points (B, T, 3) with P (B, 3, 4), or points (N, 3) with P (N, 3, 4)). Depth is clamped to stay
    in front of the camera."""
    if points.dim() == 3:
        uvw = points @ projection[:, :, :3].transpose(1, 2) + projection[:, None, :, 3]
    else:
        uvw = torch.einsum("nij,nj->ni", projection[:, :, :3], points) + projection[:, :, 3]
    return uvw[..., :2] / uvw[..., 2:].clamp(min=1e-3)


# The camera head. Azimuth is classified into bins (with an offset inside each bin), not
# regressed: one regression of an angle that is uniform over 360 degrees collapses to a single
# mean view for every picture (seen here: every prediction near 170 degrees after 500 steps).
# Elevation and translation are regressed from the middle of the renders' ranges (elevation
# 25-30 degrees, distance 1.14-1.66 at scale ~0.75, i.e. ~1.9 in the normalised frame).
AZIMUTH_BINS = 36
ELEVATION_PRIOR = math.radians(27.5)
DISTANCE_PRIOR = 1.9
CAMERA_OUTPUTS = 2 * AZIMUTH_BINS + 4  # bin logits, in-bin offsets, elevation, translation x, y, log z


def _bin_width() -> float:
    return 2 * math.pi / AZIMUTH_BINS


def pose_from_head(raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(azimuth, elevation, translation (B, 3)) from the camera head's outputs (B, CAMERA_OUTPUTS):
    the most likely azimuth bin plus its offset, the elevation, the translation."""
    raw = raw.float()
    logits, offsets, rest = raw[:, :AZIMUTH_BINS], raw[:, AZIMUTH_BINS:2 * AZIMUTH_BINS], raw[:, 2 * AZIMUTH_BINS:]
    best = logits.argmax(-1)
    offset = offsets.gather(1, best[:, None])[:, 0].clamp(-0.5, 0.5)
    azimuth = (best.float() + 0.5 + offset) * _bin_width()
    elevation = ELEVATION_PRIOR + rest[:, 0]
    translation = torch.stack([rest[:, 1], rest[:, 2], DISTANCE_PRIOR * torch.exp(rest[:, 3])], dim=-1)
    return azimuth, elevation, translation


def pose_from_projection(projection: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(azimuth, elevation, translation) of projections (B, 3, 4) of the renders' intrinsics."""
    extrinsics = torch.linalg.solve(render_grid_intrinsics(projection.device), projection.float())
    azimuth, elevation = view_angles(extrinsics[:, :, :3])
    return azimuth, elevation, extrinsics[:, :, 3]


def camera_loss(raw: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the camera head's error against the data's projections (B, 3, 4):
    cross-entropy of the azimuth bin, plus L1 of the in-bin offset (bin widths), and 5x the L1 of
    elevation (radians), translation x, y and log distance."""
    raw = raw.float()
    azimuth, elevation, translation = pose_from_projection(projection)
    position = torch.remainder(azimuth, 2 * math.pi) / _bin_width()
    target_bin = position.floor().long().clamp(max=AZIMUTH_BINS - 1)
    logits, offsets, rest = raw[:, :AZIMUTH_BINS], raw[:, AZIMUTH_BINS:2 * AZIMUTH_BINS], raw[:, 2 * AZIMUTH_BINS:]
    offset_error = (offsets.gather(1, target_bin[:, None])[:, 0] - (position - target_bin - 0.5)).abs()
    regressed = torch.stack([elevation - ELEVATION_PRIOR, translation[:, 0], translation[:, 1],
                             torch.log(translation[:, 2].clamp(min=1e-3) / DISTANCE_PRIOR)], dim=-1)
    return (F.cross_entropy(logits, target_bin, reduction="none") + offset_error
            + 5 * (rest - regressed).abs().sum(-1)).mean()


def sample_maps(maps: tuple[torch.Tensor, ...], uv: torch.Tensor) -> torch.Tensor:
    """Bilinear features (B, T, sum C_i) of maps (B, C_i, H_i, W_i) at image coordinates uv (B, T, 2)."""
    grid = uv[:, :, None, :].to(maps[0].dtype)
    samples = [F.grid_sample(m, grid, mode="bilinear", padding_mode="border", align_corners=False)[..., 0] for m in maps]
    return torch.cat(samples, dim=1).transpose(1, 2)


@dataclass(frozen=True)
class TexelRows:
    """Maps of equal channels C as rows of texels, for summed bilinear features of many points.

    `sample` equals `sample_maps` with the maps' features added (grid_sample's bilinear weights,
    align_corners=False, border padding), written as one weighted sum of 4 texel rows per map
    (`embedding_bag`): points come out as rows (n, C), the decoder's layout, and each corner's C
    channels are one contiguous read (grid_sample reads every channel plane apart; 3x faster here).
    """

    rows: torch.Tensor  # (B, sum H_i W_i, C): each map's texels, row-major, one map after the other
    sizes: torch.Tensor  # (M, 2) long: each map's (W, H)
    offsets: torch.Tensor  # (M,) long: each map's first row

    @classmethod
    def of(cls, maps: tuple[torch.Tensor, ...]) -> TexelRows:
        """The rows of maps (B, C, H_i, W_i)."""
        rows = torch.cat([m.flatten(2).transpose(1, 2) for m in maps], dim=1).contiguous()
        sizes = torch.tensor([[m.shape[3], m.shape[2]] for m in maps], device=rows.device)
        counts = sizes.prod(1)
        return cls(rows, sizes, counts.cumsum(0) - counts)

    def sample(self, uv: torch.Tensor, shape: int) -> torch.Tensor:
        """Summed bilinear features (n, C) of the maps of `shape` at image coordinates uv (n, 2)."""
        uv = uv.float()  # pixel positions in float32 whatever the caller's precision
        size = self.sizes.to(uv.dtype)
        pixel = torch.minimum((((uv[:, None, :] + 1) * size - 1) / 2).clamp(min=0), size - 1)  # (n, M, 2)
        low = pixel.floor()
        ax, ay = (pixel - low).unbind(-1)
        x0, y0 = low.long().unbind(-1)
        x1, y1 = torch.minimum(low.long() + 1, self.sizes - 1).unbind(-1)
        width = self.sizes[:, 0]
        index = torch.stack([y0 * width + x0, y0 * width + x1, y1 * width + x0, y1 * width + x1], -1)
        weights = torch.stack([(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay], -1)
        rows = self.rows[shape]
        return F.embedding_bag((index + self.offsets[:, None]).flatten(1), rows,
                               per_sample_weights=weights.flatten(1).to(rows.dtype), mode="sum")
