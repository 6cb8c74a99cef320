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

import numpy as np
import torch
import torch.nn.functional as F

from vitocc.data import cameras


def render_grid_intrinsics(device: torch.device | str = "cpu") -> torch.Tensor:
    """A K (3, 3): the renders' intrinsics followed by pixels -> [-1, 1] (see data.cameras.grid_projection)."""
    s = 2.0 / cameras.IMAGE_SIZE
    to_grid = np.array([[s, 0, -1.0], [0, s, -1.0], [0, 0, 1.0]])
    return torch.tensor(to_grid @ cameras.camera_matrix(), dtype=torch.float32, device=device)


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


# Start of the camera head's outputs: the middle of the renders' camera ranges (elevation 25-30
# degrees, distance 1.14-1.66 at scale ~0.75, i.e. ~1.9 in the normalised frame).
ELEVATION_PRIOR = math.radians(27.5)
DISTANCE_PRIOR = 1.9


def pose_from_head(raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(azimuth, elevation, translation (B, 3)) from the camera head's raw outputs (B, 6):
    (cos, sin) of the azimuth, elevation offset, translation x, y, log distance offset."""
    raw = raw.float()
    azimuth = torch.atan2(raw[:, 1], raw[:, 0])
    elevation = ELEVATION_PRIOR + raw[:, 2]
    translation = torch.stack([raw[:, 3], raw[:, 4], DISTANCE_PRIOR * torch.exp(raw[:, 5])], dim=-1)
    return azimuth, elevation, translation


def sample_maps(maps: tuple[torch.Tensor, ...], uv: torch.Tensor) -> torch.Tensor:
    """Bilinear features (B, T, sum C_i) of maps (B, C_i, H_i, W_i) at image coordinates uv (B, T, 2)."""
    grid = uv[:, :, None, :].to(maps[0].dtype)
    return torch.cat([F.grid_sample(m, grid, mode="bilinear", padding_mode="border", align_corners=False)[..., 0]
                      for m in maps], dim=1).transpose(1, 2)
