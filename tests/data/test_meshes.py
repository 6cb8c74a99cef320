"""Loading user meshes: formats, scenes, validation, axis conventions and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vitocc.data.build.meshes import InvalidMesh, axes_rotation, find_mesh_files, load_normalised


def l_shape() -> trimesh.Trimesh:
    """A tall z-up object (0.2 x 0.4 x 1.0) with a nose sticking out towards +x at its bottom."""
    body = trimesh.creation.box([0.2, 0.4, 1.0])
    nose = trimesh.creation.box([0.3, 0.1, 0.1])
    nose.apply_translation([0.2, 0.0, -0.4])
    return trimesh.util.concatenate([body, nose])


@pytest.mark.parametrize("suffix", [".obj", ".off", ".ply", ".stl", ".glb"])
def test_formats_load_and_normalise(tmp_path, suffix):
    mesh = l_shape()
    mesh.apply_translation([3.0, -2.0, 7.0])
    mesh.apply_scale(40.0)  # arbitrary units and placement
    path = tmp_path / f"thing{suffix}"
    mesh.export(path)
    loaded = load_normalised(path)
    lo, hi = loaded.mesh.bounds
    assert np.allclose((lo + hi) / 2, 0, atol=1e-6)
    assert np.max(hi - lo) == pytest.approx(1.0)
    assert loaded.source_size == pytest.approx(40.0)
    assert loaded.mesh.area == pytest.approx(mesh.area / 40.0**2, rel=1e-4)


def test_z_up_file_comes_out_y_up_facing_x(tmp_path):
    path = tmp_path / "zup.obj"
    l_shape().export(path)
    loaded = load_normalised(path, axes_rotation(up="z", front="+x"))
    extent = loaded.mesh.extents
    assert np.argmax(extent) == 1  # the tall side is now y
    nose = loaded.mesh.vertices[:, 0] > 0.15
    assert loaded.mesh.vertices[nose, 1].max() < -0.2  # the nose stayed at the bottom, facing +x


def test_front_convention_turns_minus_z_into_plus_x():
    rot = axes_rotation(up="y", front="-z")
    assert np.allclose(rot @ [0, 0, -1], [1, 0, 0])
    assert np.allclose(rot @ [0, 1, 0], [0, 1, 0])
    assert np.linalg.det(rot) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same axis"):
        axes_rotation(up="x", front="-x")
    with pytest.raises(ValueError, match="unknown axis"):
        axes_rotation(up="w")


def test_scene_parts_keep_their_transforms(tmp_path):
    scene = trimesh.Scene()
    box = trimesh.creation.box([1, 1, 1])
    scene.add_geometry(box, node_name="a", transform=trimesh.transformations.translation_matrix([-2, 0, 0]))
    scene.add_geometry(box, node_name="b", transform=trimesh.transformations.translation_matrix([2, 0, 0]))
    path = tmp_path / "two.glb"
    scene.export(path)
    loaded = load_normalised(path)
    assert len(loaded.parts) == 2
    assert list(loaded.part_faces) == [0, 12, 24]
    assert np.allclose(loaded.mesh.extents, [1.0, 0.2, 0.2])  # 5 x 1 x 1, longest side 1


@pytest.mark.parametrize("content,reason", [
    (b"", "no triangles"),
    (b"this is not a mesh\n", "no triangles"),
    (b"v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n", "NaN"),
    (b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "degenerate bounding box"),
    (b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no triangles"),
])
def test_broken_files_give_a_reason(tmp_path, content, reason):
    path = tmp_path / "broken.obj"
    path.write_bytes(content)
    with pytest.raises(InvalidMesh, match=reason):
        load_normalised(path)


def test_flat_mesh_is_kept(tmp_path):
    path = tmp_path / "sign.obj"
    path.write_text("v 0 0 0\nv 2 0 0\nv 2 1 0\nv 0 1 0\nf 1 2 3\nf 1 3 4\n")
    assert load_normalised(path).mesh.extents[2] == 0


def test_find_mesh_files_ignores_other_and_hidden_files(tmp_path):
    for name in ["a.obj", "sub/b.PLY", "sub/c.mtl", "sub/tex.png", ".hidden/d.obj", "e.stl"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in find_mesh_files(tmp_path)] == ["a.obj", "e.stl", "sub/b.PLY"]
