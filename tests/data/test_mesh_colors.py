"""A mesh's own colours reach the renders: textures by UV, material colours, vertex colours."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vitocc.data import cameras
from vitocc.data.build.mesh_colors import constant_color_fn, mesh_color_fn, sample_texture
from vitocc.data.build.meshes import load_normalised
from vitocc.render import Light, render_mesh

RED, BLUE = (255, 0, 0), (0, 0, 255)  # the halves of the textured cube's texture (conftest)
FLAT = Light(ambient=1.0, diffuse=0.0)  # colours come out unshaded


def front_view(mesh, color_fn):
    world = cameras.world_matrix(1.6, 0.0, 0.0)  # on the +x axis, looking at the +x face
    cam = cameras.camera_matrix()
    image = render_mesh(mesh, world, cam, scale=1.0, color_fn=color_fn, light=FLAT, antialias=1)
    return image, world, cam


@pytest.mark.parametrize("suffix,mode", [(".obj", "nearest"), (".glb", "nearest"), (".obj", "bilinear")])
def test_texture_colours_show_where_the_uv_says(tmp_path, textured_cube_file, suffix, mode):
    loaded = load_normalised(textured_cube_file(tmp_path, suffix))
    colors, own = mesh_color_fn(loaded.parts, loaded.part_faces, mode=mode,
                                fallback=lambda k: constant_color_fn((0, 1, 0)))
    assert own == 1
    image, world, cam = front_view(loaded.mesh, colors)
    # On the +x face, u grows along its first tangent (+y after np.roll): bottom red, top blue.
    probes = np.array([[0.5, -0.25, 0.0], [0.5, 0.25, 0.0]])
    pix, _ = cameras.project(probes, world, cam)
    cols, rows = pix.astype(int).T
    assert tuple(image[rows[0], cols[0]]) == RED
    assert tuple(image[rows[1], cols[1]]) == BLUE
    body = image[(image != 255).any(axis=2)]
    pure = np.all(body == RED, axis=1) | np.all(body == BLUE, axis=1)
    # Nothing but the texture's two colours; bilinear blends one texel (~3%) at the colour border.
    assert pure.mean() > (0.999 if mode == "nearest" else 0.95)


def test_material_and_vertex_colours(tmp_path):
    box = trimesh.creation.box([1, 1, 1])
    box.visual.vertex_colors = np.tile([0, 200, 0, 255], (len(box.vertices), 1))
    box.export(tmp_path / "green.ply")
    loaded = load_normalised(tmp_path / "green.ply")
    colors, own = mesh_color_fn(loaded.parts, loaded.part_faces, fallback=lambda k: constant_color_fn((1, 0, 0)))
    assert own == 1
    image, _, _ = front_view(loaded.mesh, colors)
    assert tuple(image[68, 68]) == (0, 200, 0)

    (tmp_path / "m.mtl").write_text("newmtl yellow\nKd 1.0 1.0 0.0\n")
    box = trimesh.creation.box([1, 1, 1])
    obj = "mtllib m.mtl\nusemtl yellow\n" + "".join(f"v {x} {y} {z}\n" for x, y, z in box.vertices)
    obj += "".join(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in box.faces)
    (tmp_path / "yellow.obj").write_text(obj)
    loaded = load_normalised(tmp_path / "yellow.obj")
    colors, own = mesh_color_fn(loaded.parts, loaded.part_faces, fallback=lambda k: constant_color_fn((1, 0, 0)))
    image, _, _ = front_view(loaded.mesh, colors)
    assert own == 1 and tuple(image[68, 68]) == (255, 255, 0)


def test_uncoloured_parts_use_the_fallback(tmp_path):
    trimesh.creation.box([1, 1, 1]).export(tmp_path / "plain.stl")
    loaded = load_normalised(tmp_path / "plain.stl")
    colors, own = mesh_color_fn(loaded.parts, loaded.part_faces, fallback=lambda k: constant_color_fn((0, 0, 1)))
    assert own == 0
    assert np.allclose(colors(np.array([0, 5]), np.full((2, 3), 1 / 3)), [[0, 0, 1], [0, 0, 1]])


def test_texture_lookup_nearest_and_bilinear():
    image = np.array([[[0.0], [1.0]], [[0.0], [1.0]]])  # 2x2, left column 0, right 1
    centres = np.array([[0.25, 0.5], [0.75, 0.5]])
    assert np.allclose(sample_texture(image, centres, "nearest")[:, 0], [0, 1])
    assert np.allclose(sample_texture(image, centres, "bilinear")[:, 0], [0, 1])
    assert sample_texture(image, np.array([[0.5, 0.5]]), "bilinear")[0, 0] == pytest.approx(0.5)
    assert np.allclose(sample_texture(image, centres + 1.0, "nearest"), sample_texture(image, centres, "nearest"))
