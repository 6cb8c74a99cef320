"""Cameras of the real renders (img_choy2016): pixel = K (R X + t) / z, X = X_norm * scale + loc.

Camera frame as OpenCV: x right, y down, z forward (depth > 0 in front of the camera).
The world frame is the data's: y up, objects face +x.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 137
FOCAL_PX = 149.844
CENTER_PX = 68.5
DISTANCE_RANGE = (1.14, 1.66)  # in the original frame (scale = 1 / bounding-box diagonal)
ELEVATION_RANGE_DEG = (25.0, 30.0)


def camera_matrix(image_size: int = IMAGE_SIZE) -> np.ndarray:
    """Intrinsics K (3,3) of the real renders, scaled to `image_size` pixels."""
    s = image_size / IMAGE_SIZE
    return np.array([[FOCAL_PX * s, 0, CENTER_PX * s], [0, FOCAL_PX * s, CENTER_PX * s], [0, 0, 1.0]])


def world_matrix(distance: float, elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Extrinsics [R | t] (3,4) of a camera on a sphere around the origin, looking at it, y up.

    Azimuth 0 puts the camera on the +x axis (in front of the object), growing towards +z.
    """
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    eye = distance * np.array([np.cos(el) * np.cos(az), np.sin(el), np.cos(el) * np.sin(az)])
    forward = -eye / np.linalg.norm(eye)  # camera z
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)  # camera x
    down = np.cross(forward, right)  # camera y (image rows grow downwards)
    rot = np.stack([right, down, forward])
    return np.concatenate([rot, (-rot @ eye)[:, None]], axis=1)


def sample_cameras(n: int, rng: np.random.Generator, image_size: int = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """`n` cameras as the real renders: distance 1.14-1.66, elevation 25-30 deg, uniform azimuth.

    Returns world_mats (n,3,4) and camera_mats (n,3,3), float64.
    """
    dist = rng.uniform(*DISTANCE_RANGE, n)
    elev = rng.uniform(*ELEVATION_RANGE_DEG, n)
    azim = rng.uniform(0.0, 360.0, n)
    world = np.stack([world_matrix(d, e, a) for d, e, a in zip(dist, elev, azim)])
    cams = np.repeat(camera_matrix(image_size)[None], n, axis=0)
    return world, cams


def project(points: np.ndarray, world_mat: np.ndarray, camera_mat: np.ndarray,
            loc: np.ndarray | None = None, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (N,2) as (column, row) and depths (N,) of normalised-frame `points` (N,3)."""
    world = np.asarray(points, dtype=np.float64) * scale + (0.0 if loc is None else np.asarray(loc))
    cam = world @ world_mat[:, :3].T + world_mat[:, 3]
    pix = cam @ camera_mat.T
    depth = pix[:, 2]
    return pix[:, :2] / depth[:, None], depth


def pixels_to_grid(image_px: float = IMAGE_SIZE) -> np.ndarray:
    """A (3,3): pixel coordinates on an `image_px` picture -> [-1, 1] across it (grid_sample,
    align_corners=False: -1 and 1 are the picture's outer edges)."""
    return np.array([[2.0 / image_px, 0, -1.0], [0, 2.0 / image_px, -1.0], [0, 0, 1.0]])


def grid_projection(world_mat: np.ndarray, camera_mat: np.ndarray, loc: np.ndarray, scale: float,
                    image_px: float = IMAGE_SIZE) -> np.ndarray:
    """P (3,4) float32 taking normalised-frame points X to (u w, v w, w) = P [X; 1], with (u, v) in
    [-1, 1] across the picture (torch's grid_sample, align_corners=False).

    From pixel = K (R (X s + loc) + t) / z on an `image_px` picture: dividing by s,
    P = A K [R | (R loc + t) / s], where A maps pixels to [-1, 1].
    """
    rot, t = world_mat[:, :3], world_mat[:, 3]
    t_n = (rot @ np.asarray(loc, np.float64) + t) / float(scale)
    return (pixels_to_grid(image_px) @ camera_mat @ np.concatenate([rot, t_n[:, None]], axis=1)).astype(np.float32)
