"""Vertex colours from the picture (generation.colour), their files, and the shipped model's coloured meshes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from vitocc.data import cameras
from vitocc.generation import save_mesh
from vitocc.generation.colour import (
    SYMMETRY_SAMPLE,
    _inner,
    camera_centre,
    colour_mesh,
    fit_view,
    mirror_plane,
    picture_mask,
    seen_vertices,
    vertex_normals,
)
from vitocc.mesh import Mesh
from vitocc.render import Light, render_mesh, render_silhouette, vertex_color_fn

FLAT = Light(ambient=1.0, diffuse=0.0)  # the colours themselves, no shading
# +x red, -x green, +y blue, -y yellow, +z magenta, -z cyan
SIDE_COLOURS = {(0, 1): (220, 30, 30), (0, -1): (30, 200, 30), (1, 1): (30, 30, 220), (1, -1): (220, 220, 30),
                (2, 1): (220, 30, 220), (2, -1): (30, 210, 210)}
EXAMPLES = Path(__file__).parents[2] / "examples"


def coloured_box() -> tuple[trimesh.Trimesh, np.ndarray]:
    """A box of sides 0.8 x 0.5 x 0.6 with many vertices (no colours) and its face colours (F, 3) in [0, 1]."""
    box = trimesh.creation.box((0.8, 0.5, 0.6)).subdivide_to_size(0.04)
    box = trimesh.Trimesh(box.vertices, box.faces, process=True)
    axis = np.abs(box.face_normals).argmax(axis=1)
    sign = np.sign(box.face_normals[np.arange(len(axis)), axis]).astype(int)
    face_colours = np.array([SIDE_COLOURS[(a, s)] for a, s in zip(axis, sign)]) / 255.0
    return box, face_colours


def data_view(azimuth: float, distance: float = 1.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """world (3, 4), K (3, 3) and the grid projection P (3, 4) of a render-like camera."""
    world, k = cameras.world_matrix(distance, 27.0, azimuth), cameras.camera_matrix()
    return world, k, cameras.grid_projection(world, k, np.zeros(3), 1.0).astype(np.float64)


def side_of(vertices: np.ndarray, axis: int, sign: int, extent: np.ndarray) -> np.ndarray:
    """Vertices well inside one side of the box (away from its edges, where colours meet)."""
    on_side = np.isclose(vertices[:, axis], sign * extent[axis] / 2)
    others = [a for a in range(3) if a != axis]
    inside = np.all(np.abs(vertices[:, others]) < extent[others] / 2 - 0.1, axis=1)
    return on_side & inside


def test_seen_sides_take_the_picture_colour_and_hidden_ones_their_mirror_image():
    box, face_colours = coloured_box()
    world, k, projection = data_view(40.0)  # sees +x, +y and +z
    picture = render_mesh(box, world, k, face_colors=face_colours, light=FLAT, antialias=1)
    coloured = colour_mesh(Mesh(box.vertices, box.faces), picture, projection)
    assert coloured.vertex_colours is not None and np.array_equal(coloured.faces, box.faces)
    colours = coloured.vertex_colours[:, :3].astype(int)
    assert colours.std(axis=0).max() > 30  # they vary
    extent = np.array([0.8, 0.5, 0.6])
    for (axis, sign), expected in SIDE_COLOURS.items():
        if sign > 0:  # a seen side: the picture's colour
            side = side_of(box.vertices, axis, sign, extent)
            assert side.sum() > 20
            assert np.abs(colours[side] - expected).max() <= 3, (axis, sign)
    # -z is hidden and the box is mirror symmetric across z = 0: its colours are +z's, not a neighbour's
    hidden = side_of(box.vertices, 2, -1, extent)
    assert np.abs(colours[hidden] - SIDE_COLOURS[(2, 1)]).max() <= 3
    # -x has no seen mirror image: it takes the nearest seen colours (blended across their edges), never its own
    back = side_of(box.vertices, 0, -1, extent)
    seen_palette = np.array([SIDE_COLOURS[(0, 1)], SIDE_COLOURS[(1, 1)], SIDE_COLOURS[(2, 1)]])
    closest = np.abs(colours[back][:, None] - seen_palette[None]).max(axis=2).min(axis=1)
    assert (closest <= 10).mean() > 0.95 and closest.max() <= 60
    assert (np.abs(colours[back] - SIDE_COLOURS[(0, -1)]).max(axis=1) > 100).all()


def test_visibility_is_a_ray_test_not_a_normal_test():
    """A small box behind a large one faces the camera but is hidden: it is not seen."""
    front = trimesh.creation.box((0.2, 0.6, 0.6), trimesh.transformations.translation_matrix((0.3, 0, 0)))
    back = trimesh.creation.box((0.1, 0.2, 0.2), trimesh.transformations.translation_matrix((-0.3, 0, 0)))
    mesh = trimesh.util.concatenate([front.subdivide_to_size(0.05), back.subdivide_to_size(0.05)])
    _, _, projection = data_view(0.0, 1.5)  # camera on +x
    seen = seen_vertices(Mesh(mesh.vertices, mesh.faces), projection)
    in_back = mesh.vertices[:, 0] < -0.2
    facing_back = in_back & np.isclose(mesh.vertices[:, 0], -0.25)  # the small box's side towards the camera
    assert facing_back.sum() > 4 and not seen[facing_back].any()
    assert seen[np.isclose(mesh.vertices[:, 0], 0.4)].mean() > 0.9  # the large box's front
    assert np.allclose(camera_centre(projection), [1.5 * np.cos(np.radians(27)), 1.5 * np.sin(np.radians(27)), 0],
                       atol=1e-4)


def test_picture_mask_and_its_inner_part_are_scipys_fill_and_erosion():
    """OpenCV's flood fill and cross erosion stand in for scipy.ndimage (not imported for one picture): the same
    pixels on pictures with holes, objects touching the border and thin parts."""
    from scipy import ndimage

    rng = np.random.default_rng(4)
    for size in (137, 200, 301):
        blobs = ndimage.gaussian_filter(rng.normal(size=(size, size)), 4) > 0.02
        rgb = np.where(blobs[..., None], rng.integers(0, 200, (size, size, 3)), 255).astype(np.uint8)
        mask = picture_mask(rgb)
        assert np.array_equal(mask, ndimage.binary_fill_holes(np.abs(rgb.astype(int) - 255).max(axis=2) > 24))
        assert (mask & ~blobs).any() and mask[0].any()  # holes were filled; the object touches the border
        steps = max(1, round(0.01 * size))
        assert np.array_equal(_inner(mask), ndimage.binary_erosion(mask, iterations=steps)), size


def test_mirror_plane_only_for_symmetric_meshes():
    box, _ = coloured_box()
    assert mirror_plane(np.asarray(box.vertices)) == pytest.approx(0.0, abs=1e-9)
    bent = np.array(trimesh.creation.box((0.5, 0.5, 0.5)).subdivide_to_size(0.05).vertices)
    bent[:, 1] += 0.6 * (bent[:, 2] + 0.25)  # a shear along z: not symmetric across any z plane
    assert mirror_plane(bent) is None


def test_mirror_plane_of_a_large_mesh_from_a_sample_of_its_vertices():
    sphere = np.array(trimesh.creation.icosphere(subdivisions=6, radius=0.3).vertices) + [0.0, 0.0, 0.1]
    assert len(sphere) > 8 * SYMMETRY_SAMPLE
    assert mirror_plane(sphere) == pytest.approx(0.1, abs=1e-9)
    sphere[:, 1] += 0.5 * (sphere[:, 2] - 0.1)  # sheared along z
    assert mirror_plane(sphere) is None


def test_vertex_normals_point_out_and_the_meshs_own_are_kept():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.3)
    radial = sphere.vertices / np.linalg.norm(sphere.vertices, axis=1, keepdims=True)
    normals = vertex_normals(Mesh(sphere.vertices, sphere.faces))
    assert (normals * radial).sum(1).min() > 0.999
    own = np.roll(radial, 1, axis=1)  # any unit normals the mesh carries (as generation.vertex_normals gives)
    np.testing.assert_allclose(vertex_normals(Mesh(sphere.vertices, sphere.faces, vertex_normals=own)), own)


def test_a_model_without_camera_gets_the_render_view_that_fits_the_silhouette():
    # An L-shaped block: its silhouette tells the views apart.
    long = trimesh.creation.box((0.9, 0.3, 0.3), trimesh.transformations.translation_matrix((0, -0.1, -0.15)))
    arm = trimesh.creation.box((0.3, 0.5, 0.3), trimesh.transformations.translation_matrix((0.3, 0.1, 0.15)))
    mesh = trimesh.boolean.union([long, arm], engine="manifold").subdivide_to_size(0.02)
    world, k, truth = data_view(130.0)
    mask = render_silhouette(mesh, world, k) > 0.5
    found = fit_view(Mesh(mesh.vertices, mesh.faces), mask)
    uv = np.c_[mesh.vertices, np.ones(len(mesh.vertices))] @ found.T
    uv = uv[:, :2] / uv[:, 2:]
    pix = np.clip(((uv + 1) * 137 / 2).astype(int), 0, 136)
    splat = np.zeros_like(mask)
    splat[pix[:, 1], pix[:, 0]] = True
    assert (splat & mask).sum() / (splat | mask).sum() > 0.8


def test_colours_survive_ply_glb_obj_and_off(tmp_path):
    box, face_colours = coloured_box()
    world, k, projection = data_view(40.0)
    grey = Mesh(box.vertices, box.faces)
    coloured = colour_mesh(grey, render_mesh(box, world, k, face_colors=face_colours, light=FLAT), projection)
    expected = coloured.vertex_colours
    for suffix in (".ply", ".glb", ".obj"):
        save_mesh(coloured, tmp_path / f"box{suffix}")
        loaded = trimesh.load(tmp_path / f"box{suffix}", force="mesh", process=False)
        assert loaded.visual.kind == "vertex", suffix
        # match vertices by position: glTF and OBJ loaders may reorder them
        index = np.lexsort(np.round(loaded.vertices, 5).T)
        reference = np.lexsort(np.round(coloured.vertices, 5).T)
        assert np.allclose(loaded.vertices[index], coloured.vertices[reference], atol=1e-5), suffix
        assert np.abs(loaded.visual.vertex_colors[index, :3].astype(int) - expected[reference, :3]).max() <= 1, suffix
    save_mesh(coloured, tmp_path / "box.off")
    lines = (tmp_path / "box.off").read_text().splitlines()
    assert lines[0] == "COFF" and lines[1] == f"{len(box.vertices)} {len(box.faces)} 0"
    rows = np.array([line.split() for line in lines[2:2 + len(box.vertices)]], dtype=np.float64)
    assert np.allclose(rows[:, :3], coloured.vertices, atol=1e-6) and np.array_equal(rows[:, 3:], expected)
    assert len(trimesh.load(tmp_path / "box.off", process=False).faces) == len(box.faces)
    save_mesh(grey, tmp_path / "grey.off")  # no colours: plain OFF
    assert (tmp_path / "grey.off").read_text().startswith("OFF")


def test_the_shipped_model_colours_what_it_sees_like_the_picture(tmp_path):
    """The coloured mesh, rendered with its colours under the model's own camera, looks like the picture where
    both show the object: much closer to it than one flat colour (the object's mean colour) is."""
    from vitocc.config import apply_overrides
    from vitocc.generation import reconstruct_images
    from vitocc.models import load_model

    torch.set_num_threads(2)
    model, cfg = load_model(None, "cpu")
    gen = apply_overrides(cfg, ["generation.upsampling_steps=1"]).generation
    (mesh, info), = reconstruct_images([EXAMPLES / "car.png"], model, gen)
    assert mesh.vertex_colours is not None and info.projection is not None
    colours = mesh.vertex_colours[:, :3].astype(float)
    assert colours.std(axis=0).max() > 15
    picture = np.asarray(info.picture.resize((137, 137), Image.BILINEAR)).astype(float)
    world = np.linalg.inv(cameras.camera_matrix()) @ np.linalg.inv(cameras.pixels_to_grid()) @ info.projection
    shown = mesh.to_trimesh()
    render = render_mesh(shown, world, cameras.camera_matrix(), color_fn=vertex_color_fn(shown), light=FLAT,
                         antialias=1, background=(255, 0, 255)).astype(float)
    both = picture_mask(picture.astype(np.uint8)) & (np.abs(render - [255, 0, 255]).max(axis=2) > 0)
    assert both.sum() > 0.1 * 137 * 137 * 0.3
    error = np.abs(render[both] - picture[both]).mean()
    flat = np.abs(picture[both].mean(axis=0) - picture[both]).mean()
    assert error < 0.6 * flat, (error, flat)
    save_mesh(mesh, tmp_path / "car.glb")  # what `vitocc reconstruct examples/car.png -o car.glb` writes
    loaded = trimesh.load(tmp_path / "car.glb", force="mesh", process=False)
    assert loaded.visual.kind == "vertex" and loaded.visual.vertex_colors[:, :3].astype(float).std(axis=0).max() > 15
    grey = reconstruct_images([EXAMPLES / "car.png"], model, gen, colour=False)[0][0]
    assert grey.vertex_colours is None and np.array_equal(grey.faces, mesh.faces)
