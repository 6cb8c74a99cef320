"""The ray-cast renderer: geometry through the data's cameras, shading, colours, antialiasing."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vitocc import render
from vitocc.data import cameras


@pytest.fixture(scope="module")
def sphere() -> trimesh.Trimesh:
    return trimesh.creation.icosphere(subdivisions=4, radius=0.3)


def test_sphere_silhouette_matches_the_projected_disc(sphere):
    world, cam = cameras.world_matrix(1.4, 27.0, 30.0), cameras.camera_matrix()
    coverage = render.render_silhouette(sphere, world, cam, antialias=3)
    # A sphere of radius r seen from distance d projects to a disc of radius f r / sqrt(d^2 - r^2).
    radius_px = cameras.FOCAL_PX * 0.3 / np.sqrt(1.4**2 - 0.3**2)
    assert coverage.sum() == pytest.approx(np.pi * radius_px**2, rel=0.02)
    rows, cols = np.nonzero(coverage > 0.5)
    assert cols.mean() == pytest.approx(cameras.CENTER_PX - 0.5, abs=0.3)  # centred: pixel c covers [c, c+1)
    assert rows.mean() == pytest.approx(cameras.CENTER_PX - 0.5, abs=0.3)


def test_loc_and_scale_follow_the_data_convention(sphere):
    """X = X_norm * scale + loc: a shifted, scaled object lands where `cameras.project` puts it."""
    world, cam = cameras.world_matrix(1.5, 25.0, 200.0), cameras.camera_matrix()
    loc, scale = np.array([0.05, -0.02, 0.03]), 0.6
    coverage = render.render_silhouette(sphere, world, cam, loc=loc, scale=scale)
    pix, _ = cameras.project(np.zeros((1, 3)), world, cam, loc, scale)
    rows, cols = np.nonzero(coverage > 0.5)
    assert (cols.mean() + 0.5, rows.mean() + 0.5) == pytest.approx(tuple(pix[0]), abs=0.5)


def test_white_background_shading_and_light(sphere):
    world, cam = cameras.world_matrix(1.4, 27.0, 30.0), cameras.camera_matrix()
    image = render.render_mesh(sphere, world, cam, face_colors=np.ones((len(sphere.faces), 3)))
    assert image.shape == (137, 137, 3) and image.dtype == np.uint8
    assert (image[0, 0] == 255).all() and (image[-1, -1] == 255).all()
    centre = image[60:77, 60:77].astype(float).mean()
    assert 150 < centre < 250  # lit, below saturation: white parts stay visible on white
    rim = image[68 + 10, 68 + 28].astype(float).mean()  # grazing, away from the light: darker (Lambert)
    assert rim < centre


def test_face_colors_and_color_fn(sphere):
    world, cam = cameras.world_matrix(1.4, 25.0, 0.0), cameras.camera_matrix()
    colors = np.where(sphere.triangles_center[:, 2:3] > 0, [[1.0, 0, 0]], [[0, 0, 1.0]])  # +z red, -z blue
    image = render.render_mesh(sphere, world, cam, face_colors=colors).astype(int)
    # azimuth 0 looks from +x towards -x with y up: image right is -z, left is +z
    left, right = image[68, 46], image[68, 90]
    assert left[0] > 100 and left[2] < 30 and right[2] > 100 and right[0] < 30

    seen = []

    def color_fn(face, bary):
        seen.append(bary)
        return np.tile([0.0, 1.0, 0.0], (len(face), 1))

    green = render.render_mesh(sphere, world, cam, color_fn=color_fn, face_colors=colors)
    bary = np.concatenate(seen)
    assert np.allclose(bary.sum(1), 1.0) and bary.min() > -1e-6
    assert green[68, 68, 1] > 100 and green[68, 68, 0] < 30


def test_adaptive_antialiasing_blends_only_edges(sphere):
    world, cam = cameras.world_matrix(1.4, 27.0, 30.0), cameras.camera_matrix()
    flat = np.full((len(sphere.faces), 3), 0.2)
    hard = render.render_mesh(sphere, world, cam, face_colors=flat, antialias=1).astype(int)
    soft = render.render_mesh(sphere, world, cam, face_colors=flat, antialias=4).astype(int)
    edge = (hard.min(2) == 255) != (soft.min(2) == 255)
    assert edge.sum() > 0
    levels = lambda img: len(np.unique(img[..., 0][(img[..., 0] > 60) & (img[..., 0] < 240)]))  # noqa: E731
    assert levels(soft) > levels(hard)  # partial coverage gives intermediate tones
    assert np.abs(hard - soft)[60:77, 60:77].max() <= 3  # interior pixels unchanged


def test_contact_sheet_tiles_in_rows():
    images = [np.full((10, 12, 3), i, np.uint8) for i in range(5)]
    sheet = render.contact_sheet(images, columns=3, pad=2)
    assert sheet.shape == (2 * 12 + 2, 3 * 14 + 2, 3)
    assert (sheet[2:12, 2 + 14:2 + 14 + 12] == 1).all() and (sheet[14:24, 2 + 14:2 + 14 + 12] == 4).all()
    assert (sheet[14:24, 2 + 28:] == 255).all()  # empty slot stays background


def test_corner_normals_round_curved_parts_and_keep_edges_sharp():
    cylinder = trimesh.creation.cylinder(radius=0.3, height=0.6, sections=20)  # 18 degree steps
    normals = render.corner_normals(cylinder, 20.0)
    side = np.abs(cylinder.face_normals[:, 2]) < 0.5
    radial = cylinder.vertices[cylinder.faces[side]][..., :2]
    radial /= np.linalg.norm(radial, axis=2, keepdims=True)
    assert np.allclose(normals[side][..., :2], radial, atol=0.02)  # smooth: the true surface normal
    cap = ~side
    assert np.allclose(normals[cap], cylinder.face_normals[cap][:, None, :])  # 90 degree rim stays sharp
    world, cam = cameras.world_matrix(1.6, 25.0, 30.0), cameras.camera_matrix()
    flat = render.render_mesh(cylinder, world, cam, antialias=1).astype(int)
    smooth = render.render_mesh(cylinder, world, cam, antialias=1, normals=normals).astype(int)
    row = lambda image: image[80, 40:100, 0]  # noqa: E731 - a row across the side
    assert len(np.unique(row(smooth))) > len(np.unique(row(flat)))  # a gradient instead of bands


def test_empty_mesh_renders_the_background():
    world, cam = cameras.world_matrix(1.4, 25.0, 0.0), cameras.camera_matrix()
    assert (render.render_mesh(trimesh.Trimesh(), world, cam) == 255).all()
    assert render.render_silhouette(trimesh.Trimesh(), world, cam).sum() == 0
