"""Winding-number occupancy on clean and on damaged meshes, and the sheet option."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vitocc.data.build.occupancy import occupancy, orient_outward, prepare

# An L-shaped object: two overlapping boxes (centre, half-size), exact inside test below.
BOXES = [(np.array([0.0, 0.0, 0.0]), np.array([0.3, 0.15, 0.2])),
         (np.array([0.2, 0.25, 0.0]), np.array([0.1, 0.4, 0.2]))]


def inside_exact(points: np.ndarray) -> np.ndarray:
    return np.any([np.all(np.abs(points - c) <= h, axis=1) for c, h in BOXES], axis=0)


def box_meshes(max_edge: float | None = None) -> list[trimesh.Trimesh]:
    meshes = []
    for center, half in BOXES:
        box = trimesh.creation.box(2 * half)
        box.apply_translation(center)
        if max_edge:
            box = trimesh.Trimesh(*trimesh.remesh.subdivide_to_size(box.vertices, box.faces, max_edge))
        meshes.append(box)
    return meshes


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    return np.random.default_rng(0).uniform(-0.55, 0.55, (20000, 3))


def test_watertight_mesh_matches_exact_inside_test(points):
    union = trimesh.boolean.union(box_meshes(), engine="manifold")
    assert union.is_watertight
    occ = occupancy(prepare(union.vertices, union.faces), points)
    assert np.array_equal(occ, inside_exact(points))


def test_damaged_mesh_stays_right_away_from_holes(points):
    """Overlapping parts, holes, 30% flipped faces, double-sided copies and an inner wall."""
    rng = np.random.default_rng(1)
    soup = trimesh.util.concatenate(box_meshes(max_edge=0.03))  # self-intersecting, shares coplanar faces
    centers = soup.triangles_center
    holes = centers[rng.choice(len(centers), 4, replace=False)]
    faces = soup.faces[np.min(np.linalg.norm(centers[:, None] - holes[None], axis=2), axis=1) > 0.06].copy()
    flipped = rng.random(len(faces)) < 0.3
    faces[flipped] = faces[flipped][:, ::-1]
    faces = np.concatenate([faces, faces[rng.choice(len(faces), 300, replace=False)][:, ::-1]])
    n = len(soup.vertices)
    wall = np.array([[0.1, -0.15, -0.2], [0.1, 0.15, -0.2], [0.1, 0.15, 0.2], [0.1, -0.15, 0.2]])
    vertices = np.concatenate([soup.vertices, wall])
    faces = np.concatenate([faces, [[n, n + 1, n + 2], [n, n + 2, n + 3]]])

    occ = occupancy(prepare(vertices, faces), points)
    far = np.min(np.linalg.norm(points[:, None] - holes[None], axis=2), axis=1) > 0.1
    right = occ == inside_exact(points)
    assert right[far].mean() >= 0.99
    # Ray parity on the same soup, for the record: overlaps and flips break it.
    assert right[far].mean() > (trimesh.Trimesh(vertices, faces).contains(points) == inside_exact(points))[far].mean()


def test_orientation_is_repaired_and_turned_outward():
    sphere = trimesh.creation.icosphere(3)
    faces = sphere.faces[:, ::-1].copy()  # all inward ...
    faces[::3] = sphere.faces[::3]  # ... except every third face
    fixed = orient_outward(np.asarray(sphere.vertices), faces)
    assert trimesh.Trimesh(sphere.vertices, fixed).volume == pytest.approx(sphere.volume)


LEGS = [np.array([x, 0.0, z]) for x in (-0.4, 0.4) for z in (-0.2, 0.2)]
LEG_HALF = np.array([0.025, 0.3, 0.025])


def table_with_sheet_top() -> trimesh.Trimesh:
    """Four closed legs and a top modelled as one quad (a single-sided sheet) at y = 0.3."""
    legs = [trimesh.creation.box(2 * LEG_HALF).apply_translation(c) for c in LEGS]
    top = trimesh.Trimesh([[-0.5, 0.3, -0.3], [0.5, 0.3, -0.3], [0.5, 0.3, 0.3], [-0.5, 0.3, 0.3]],
                          [[0, 2, 1], [0, 3, 2]])
    return trimesh.util.concatenate(legs + [top])


def test_single_sided_sheet_is_empty_unless_thickened():
    table = table_with_sheet_top()
    prepared = prepare(table.vertices, table.faces)
    assert prepared.sheet.sum() == 2  # exactly the two top triangles
    rng = np.random.default_rng(2)
    near_top = np.c_[rng.uniform(-0.45, 0.45, 4000), 0.3 + rng.uniform(-0.02, 0.02, 4000), rng.uniform(-0.25, 0.25, 4000)]
    near_top = near_top[np.abs(near_top[:, 1] - 0.3) > 1e-3]  # on the sheet itself the number is 0.5 +- noise
    in_slab = np.abs(near_top[:, 1] - 0.3) <= 0.01
    in_legs = np.any([np.all(np.abs(near_top - c) <= LEG_HALF, axis=1) for c in LEGS], axis=0)
    beside_leg = np.array([[0.4 + 0.025 + 0.005, 0.0, 0.2]])  # 5 mm beside a leg

    # The documented behaviour: without thickening the top has no inside, the legs do.
    assert in_legs.any() and np.array_equal(occupancy(prepared, near_top), in_legs)
    # Thickened: a slab of half-thickness 0.01 around the sheet; closed parts do not grow.
    assert np.array_equal(occupancy(prepared, near_top, thicken=0.01), in_legs | in_slab)
    assert not occupancy(prepared, beside_leg, thicken=0.01).any()
    assert prepared.sheet_area_fraction(rng) > 0.5
