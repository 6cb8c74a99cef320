"""Marching cubes on logit lattices, post-processing steps and mesh files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from vitocc.errors import UserError
from vitocc.generation import MESH_FORMATS, save_mesh
from vitocc.generation.meshing import _pad_outside, field_normals, marching_cubes, refine, simplify
from vitocc.generation.mise import lattice_to_points, logit
from vitocc.mesh import Mesh


def lattice(field, res: int, padding: float = 0.1) -> np.ndarray:
    axis = torch.arange(res + 1)
    idx = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    return field(lattice_to_points(idx, res, padding)).reshape((res + 1,) * 3).numpy()


def sphere_logits(points: torch.Tensor, radius: float = 0.3) -> torch.Tensor:
    return -50.0 * (points.norm(dim=-1) - radius)


def test_vertices_lie_on_the_iso_surface_in_the_normalised_frame():
    mesh = marching_cubes(lattice(sphere_logits, 32), 0.0, 0.1)
    radii = np.linalg.norm(mesh.vertices, axis=1)
    assert np.abs(radii - 0.3).max() < 2e-3  # linear interpolation error only, no half-voxel shift
    assert mesh.is_closed and mesh.to_trimesh().volume > 0  # outward faces
    normals_out = np.einsum("ij,ij->i", mesh.to_trimesh().face_normals, mesh.vertices[mesh.faces].mean(axis=1))
    assert (normals_out > 0).all()


@pytest.mark.parametrize("centre", [(0.05, -0.1, 0.15), (0.45, -0.5, 0.2)])  # inside; across two faces of the box
def test_marching_cubes_on_the_inside_box_equals_the_whole_lattice(centre):
    """Only the box around the inside points is meshed: same faces in the same order as skimage on the
    whole padded lattice, vertices equal up to float32 rounding of the offset."""
    from skimage.measure import marching_cubes as skimage_mc

    def two_spheres(points):
        return torch.maximum(sphere_logits(points - torch.tensor(centre), 0.2), sphere_logits(points + 0.3, 0.05))

    values, res = lattice(two_spheres, 64), 64
    mesh = marching_cubes(values, 0.0, 0.1)
    vertices, faces, _, _ = skimage_mc(_pad_outside(values, 0.0), level=0.0, gradient_direction="ascent")
    vertices = ((vertices - 1.0) / res - 0.5) * 1.1
    assert len(faces) > 1000 and np.array_equal(mesh.faces, faces)
    assert np.abs(mesh.vertices - vertices).max() < 1e-6  # 1e-4 voxel
    assert mesh.is_closed


def test_threshold_is_in_logit_space():
    mesh = marching_cubes(lattice(sphere_logits, 32), logit(0.2), 0.1)
    # logit(0.2) = -1.386 = -50 * (r - 0.3)  ->  r = 0.3 + 0.0277
    assert abs(np.linalg.norm(mesh.vertices, axis=1).mean() - 0.32773) < 2e-3


def test_an_object_filling_the_box_is_closed_at_the_border(tmp_path):
    mesh = marching_cubes(np.full((9, 9, 9), 3.0, np.float32), 0.0, 0.1)
    assert mesh.is_closed
    # The cap sits 1% of a voxel (1.1/8) outside the outermost lattice plane.
    np.testing.assert_allclose(mesh.bounds, [[-0.55 - 0.01 * 1.1 / 8] * 3, [0.55 + 0.01 * 1.1 / 8] * 3], rtol=1e-6)
    save_mesh(mesh, tmp_path / "cube.ply")
    assert trimesh.load(tmp_path / "cube.ply").is_watertight  # survives vertex merging on reload


def test_nothing_above_the_threshold_is_an_empty_mesh():
    mesh = marching_cubes(np.full((9, 9, 9), -3.0, np.float32), 0.0, 0.1)
    assert len(mesh.vertices) == 0 and len(mesh.faces) == 0


def test_field_normals_point_outward():
    mesh = marching_cubes(lattice(sphere_logits, 24), 0.0, 0.1)
    normals = field_normals(mesh.vertices, sphere_logits)
    radial = mesh.vertices / np.linalg.norm(mesh.vertices, axis=1, keepdims=True)
    assert np.einsum("ij,ij->i", normals, radial).min() > 0.999


def test_simplify_keeps_a_closed_mesh_under_the_face_budget():
    mesh = marching_cubes(lattice(sphere_logits, 32), 0.0, 0.1)
    small = simplify(mesh, 500)
    assert len(small.faces) <= 500 and small.is_closed
    assert abs(small.to_trimesh().volume - mesh.to_trimesh().volume) / mesh.to_trimesh().volume < 0.05
    assert simplify(small, 10_000) is small


def test_refinement_moves_faces_onto_the_surface():
    mesh = marching_cubes(lattice(sphere_logits, 12), 0.0, 0.1)  # coarse: flat faces cut inside the sphere
    threshold = 0.5

    def face_error(m):  # how far face centres are from the iso-surface, in probability
        probs = torch.sigmoid(sphere_logits(torch.tensor(m.vertices[m.faces].mean(axis=1))))
        return (probs - threshold).abs().mean().item()

    refined = refine(mesh, sphere_logits, threshold, steps=30)
    assert np.array_equal(refined.faces, mesh.faces)
    assert face_error(refined) < 0.8 * face_error(mesh)
    again = refine(mesh, sphere_logits, threshold, steps=30)
    assert np.array_equal(again.vertices, refined.vertices)  # seeded


@pytest.mark.parametrize("suffix", MESH_FORMATS)
def test_every_format_reloads(tmp_path, suffix):
    mesh = marching_cubes(lattice(sphere_logits, 16), 0.0, 0.1)
    path = tmp_path / f"sphere{suffix}"
    save_mesh(mesh, path)
    loaded = trimesh.load(path, force="mesh")  # merges STL's per-face vertices
    assert len(loaded.faces) == len(mesh.faces)
    assert loaded.is_watertight
    np.testing.assert_allclose(loaded.bounds, mesh.bounds, atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_empty_mesh_files_reload_empty(tmp_path):
    empty = Mesh.empty()
    for suffix in (".obj", ".ply", ".off"):
        save_mesh(empty, tmp_path / f"empty{suffix}")
        assert len(trimesh.load(tmp_path / f"empty{suffix}", force="mesh").faces) == 0


def test_unknown_format_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown mesh format"):
        save_mesh(Mesh.empty(), tmp_path / "box.fbx")
