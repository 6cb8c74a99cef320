"""Cameras in torch: the data's cameras, the camera head's pose and the renders agree on every pixel."""

from __future__ import annotations

import numpy as np
import torch

from vitocc.data import cameras
from vitocc.models import projection as proj


def _camera(rng):
    distance, elevation, azimuth = rng.uniform(1.14, 1.66), rng.uniform(25, 30), rng.uniform(0, 360)
    return distance, elevation, azimuth, cameras.world_matrix(distance, elevation, azimuth)


def test_grid_projection_matches_the_renders_pixels():
    rng = np.random.default_rng(0)
    _, _, _, world = _camera(rng)
    loc, scale = rng.uniform(-0.05, 0.05, 3), 0.76
    points = rng.uniform(-0.5, 0.5, (50, 3))
    pixels, _ = cameras.project(points, world, cameras.camera_matrix(), loc, scale)
    grid = cameras.grid_projection(world, cameras.camera_matrix(), loc, scale)
    uv = proj.project(torch.tensor(points[None], dtype=torch.float32), torch.tensor(grid[None]))[0].numpy()
    np.testing.assert_allclose(uv, pixels * 2 / cameras.IMAGE_SIZE - 1, atol=1e-5)


def test_pose_projection_equals_the_data_camera_and_angles_invert():
    rng = np.random.default_rng(1)
    for _ in range(5):
        distance, elevation, azimuth, world = _camera(rng)
        scale = rng.uniform(0.6, 0.9)
        grid = cameras.grid_projection(world, cameras.camera_matrix(), np.zeros(3), scale)
        az, el = torch.tensor([np.radians(azimuth)]), torch.tensor([np.radians(elevation)])
        pose = proj.projection_from_pose(az, el, torch.tensor([[0.0, 0.0, distance / scale]]))
        np.testing.assert_allclose(pose[0].numpy(), grid, atol=1e-5)
        got_az, got_el = proj.view_angles(torch.tensor(world[None, :, :3], dtype=torch.float32))
        assert abs(np.degrees(float(got_el)) - elevation) < 1e-3
        assert abs((np.degrees(float(got_az)) - azimuth + 180) % 360 - 180) < 1e-3


def test_head_starts_at_the_prior_camera_and_its_loss_finds_the_data_camera():
    raw = torch.zeros(1, proj.CAMERA_OUTPUTS)
    _, el, t = proj.pose_from_head(raw)
    assert abs(float(el) - np.radians(27.5)) < 1e-6
    assert torch.allclose(t, torch.tensor([[0.0, 0.0, proj.DISTANCE_PRIOR]]))
    rng = np.random.default_rng(2)
    grids = []
    for _ in range(4):
        distance, elevation, azimuth, world = _camera(rng)
        grids.append(cameras.grid_projection(world, cameras.camera_matrix(), np.zeros(3), 0.75))
    target = torch.tensor(np.stack(grids))
    raw = torch.zeros(4, proj.CAMERA_OUTPUTS, requires_grad=True)
    optimizer = torch.optim.Adam([raw], lr=0.1)
    first = float(proj.camera_loss(raw.detach(), target))
    for _ in range(300):
        loss = proj.camera_loss(raw, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.15 * first
    torch.testing.assert_close(proj.projection_from_pose(*proj.pose_from_head(raw.detach())), target,
                               atol=6e-2, rtol=0)


def test_sample_maps_reads_pixel_centres_exactly():
    maps = (torch.arange(2 * 4 * 4, dtype=torch.float32).view(1, 2, 4, 4),
            torch.arange(8 * 8, dtype=torch.float32).view(1, 1, 8, 8))
    # centre of pixel (row 1, column 2) of the 4x4 map: u = (2 + 0.5) / 4 * 2 - 1
    uv = torch.tensor([[[0.25, -0.25]]])
    got = proj.sample_maps(maps, uv)[0, 0]
    assert got[0] == maps[0][0, 0, 1, 2] and got[1] == maps[0][0, 1, 1, 2]
    assert got[2] == maps[1][0, 0, 2:4, 4:6].mean()  # between four pixels of the 8x8 map


def test_texel_rows_sample_the_summed_maps_as_grid_sample_does():
    """TexelRows (the folded decoder's pixel-aligned input) equals grid_sample's bilinear features summed over the
    maps, for maps of different, non-square sizes, inside the picture, on its border and outside it (border
    padding), for each shape of a batch."""
    torch.manual_seed(0)
    maps = (torch.randn(2, 5, 3, 7), torch.randn(2, 5, 6, 4), torch.randn(2, 5, 12, 9))
    uv = torch.cat([torch.rand(2, 300, 2) * 2.8 - 1.4, torch.tensor([[-1.0, 1.0], [1.0, -1.0]]).expand(2, 2, 2)], 1)
    texels = proj.TexelRows.of(maps)
    expected = sum(proj.sample_maps((m,), uv) for m in maps)
    for b in range(2):
        torch.testing.assert_close(texels.sample(uv[b], b), expected[b], rtol=1e-5, atol=1e-5)
    assert (texels.sample(uv[1], 1) - expected[0]).abs().max() > 0.1  # each shape reads its own maps
    # A one-pixel-wide map, and coordinates in bf16 (sampled at their float32 positions).
    narrow = (torch.randn(1, 5, 6, 1), torch.randn(1, 5, 2, 3))
    coarse_uv = uv[:1].to(torch.bfloat16)
    expected = sum(proj.sample_maps((m,), coarse_uv.float()) for m in narrow)
    torch.testing.assert_close(proj.TexelRows.of(narrow).sample(coarse_uv[0], 0), expected[0], rtol=1e-5, atol=1e-5)
