"""fill_hidden against a brute-force nearest-neighbour fill: the kd-tree it uses changes only the speed."""

from __future__ import annotations

import numpy as np

from vitocc.generation.colour import NEIGHBOURS, fill_hidden, mirror_plane, reflect_z


def brute_force_fill(vertices: np.ndarray, colours: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Each unseen vertex: the inverse-distance mean of the colours of its NEIGHBOURS nearest seen vertices."""
    out = colours.astype(np.float64).copy()
    seen_points, seen_colours = vertices[seen], colours[seen]
    for i in np.flatnonzero(~seen):
        distance = np.linalg.norm(seen_points - vertices[i], axis=1)
        nearest = np.argsort(distance)[:NEIGHBOURS]
        weight = 1.0 / np.maximum(distance[nearest], 1e-6)
        out[i] = weight @ seen_colours[nearest] / weight.sum()
    return out


def test_fill_hidden_is_the_inverse_distance_mean_of_the_nearest_seen_vertices():
    rng = np.random.default_rng(0)
    vertices = rng.uniform(-0.5, 0.5, (600, 3))
    colours = rng.uniform(0, 255, (600, 3))
    seen = rng.random(600) < 0.3
    filled = fill_hidden(vertices, colours, seen, None)
    np.testing.assert_allclose(filled, brute_force_fill(vertices, colours, seen), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(filled[seen], colours[seen])


def test_mirror_plane_finds_the_symmetry_of_a_mirrored_cloud_and_none_without_one():
    rng = np.random.default_rng(1)
    half = rng.uniform(-0.5, 0.5, (400, 3)) * [1.0, 1.0, 0.4] + [0.0, 0.0, 0.3]
    symmetric = np.concatenate([half, reflect_z(half, 0.1)])
    assert abs(mirror_plane(symmetric) - 0.1) < 1e-9
    assert mirror_plane(rng.uniform(0.0, 1.0, (800, 3)) ** [1, 1, 3]) is None  # z crowded at one end
