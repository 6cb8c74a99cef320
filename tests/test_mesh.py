"""vitocc's numpy mesh: checked inputs, trimesh's box and watertight figures, and the hand-over to trimesh."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import trimesh

from vitocc.mesh import Mesh, is_closed


def test_is_closed_agrees_with_trimesh_watertight():
    sphere = trimesh.creation.icosphere(3)
    two = trimesh.util.concatenate([sphere, sphere.copy().apply_translation([3.0, 0, 0])])
    # Two closed tetrahedra sharing the edge (0, 1): every edge has two faces but that one, which has four.
    pinched = trimesh.Trimesh([[0, 0, 0], [0, 0, 1], [1, 0, 0.5], [0.5, 1, 0.5], [-1, 0, 0.5], [-0.5, -1, 0.5]],
                              [[0, 1, 2], [0, 2, 3], [0, 3, 1], [1, 3, 2], [1, 0, 4], [0, 5, 4], [1, 4, 5], [0, 1, 5]],
                              process=False)
    cases = [sphere, two, trimesh.Trimesh(sphere.vertices, sphere.faces[1:], process=False), pinched]
    assert [is_closed(m.faces) for m in cases] == [m.is_watertight for m in cases] == [True, True, False, False]
    assert [Mesh(m.vertices, m.faces).is_closed for m in cases] == [True, True, False, False]
    assert not is_closed(np.zeros((0, 3), np.int64)) and not Mesh.empty().is_closed


def test_box_figures_are_trimeshs():
    box = trimesh.creation.box((0.2, 0.5, 0.9))
    box.apply_translation([0.1, -0.3, 0.05])
    mesh = Mesh(box.vertices, box.faces)
    np.testing.assert_allclose(mesh.bounds, box.bounds)
    np.testing.assert_allclose(mesh.extents, box.extents)
    assert mesh.scale == pytest.approx(box.scale)
    assert np.array_equal(Mesh.empty().bounds, np.zeros((2, 3))) and Mesh.empty().scale == 0.0


def test_arrays_are_brought_to_their_dtypes_and_checked():
    mesh = Mesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], vertex_colours=[[255, 0, 0, 255]] * 3)
    assert mesh.vertices.dtype == np.float64 and mesh.faces.dtype == np.int64
    assert mesh.vertex_colours.dtype == np.uint8 and mesh.vertex_colours.shape == (3, 4)
    with pytest.raises(ValueError, match="vertex_normals has 2 rows for 3 vertices"):
        Mesh(mesh.vertices, mesh.faces, vertex_normals=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="vertex_colours has 1 rows"):
        Mesh(mesh.vertices, mesh.faces, vertex_colours=np.zeros((1, 4)))


def test_to_trimesh_keeps_everything_and_merges_nothing():
    sphere = trimesh.creation.icosphere(2)
    vertices = np.concatenate([sphere.vertices, sphere.vertices[:1]])  # a duplicate vertex, unused
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (len(vertices), 4)).astype(np.uint8)
    normals = vertices / np.linalg.norm(vertices, axis=1, keepdims=True)
    theirs = Mesh(vertices, sphere.faces, vertex_normals=normals, vertex_colours=colours).to_trimesh()
    assert np.array_equal(theirs.vertices, vertices) and np.array_equal(theirs.faces, sphere.faces)
    assert np.array_equal(theirs.visual.vertex_colors, colours)
    np.testing.assert_allclose(theirs.vertex_normals, normals)
    plain = Mesh(vertices, sphere.faces).to_trimesh()
    assert plain.visual.kind is None and len(plain.vertices) == len(vertices)  # the unused vertex stays


def test_importing_the_mesh_and_its_writer_imports_no_trimesh():
    code = "import sys, vitocc.mesh, vitocc.mesh_io, vitocc.rays; print(sorted(set(sys.modules) & {'trimesh', 'scipy'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
