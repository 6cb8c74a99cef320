"""Ray hits through Embree directly against trimesh's numpy intersector, on the same rays."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vitocc.rays import first_hits


def test_embree_and_numpy_find_the_same_first_faces():
    pytest.importorskip("embreex")
    sphere = trimesh.creation.icosphere(3, radius=0.4)
    box = trimesh.creation.box((0.3, 0.3, 0.1))
    box.apply_translation([0.0, 0.0, 0.6])  # in front of the sphere along +z: occludes some rays
    mesh = trimesh.util.concatenate([sphere, box])
    rng = np.random.default_rng(1)
    origins = np.column_stack([rng.uniform(-0.6, 0.6, (500, 2)), np.full(500, 2.0)])
    directions = np.tile([0.0, 0.0, -1.0], (500, 1)) + rng.normal(0, 0.05, (500, 3))
    ours = first_hits(mesh.vertices, mesh.faces, origins, directions)
    reference = first_hits(mesh.vertices, mesh.faces, origins, directions, embree=False)
    assert ours.dtype == np.int64 and (ours == -1).sum() > 50 and (ours >= len(sphere.faces)).sum() > 10
    assert (ours == reference).mean() > 0.99  # rays through an edge may pick either neighbour
    hit = ours >= 0
    assert np.array_equal(hit, reference >= 0)


def test_nothing_to_hit():
    sphere = trimesh.creation.icosphere(1)
    outward = first_hits(sphere.vertices, sphere.faces, [[0.0, 0.0, 3.0]], [[0.0, 0.0, 1.0]])
    assert outward.tolist() == [-1]
    assert first_hits(np.zeros((0, 3)), np.zeros((0, 3), np.int64), [[0, 0, 0]], [[1, 0, 0]]).tolist() == [-1]
    assert first_hits(sphere.vertices, sphere.faces, np.zeros((0, 3)), np.zeros((0, 3))).shape == (0,)
