"""Batched MISE gives the dense grid's mesh for a fraction of the queries, shape by shape and in batches;
the first-level margin and the finest level's interpolation keep its meshes for fewer queries."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from analytic_fields import as_logits, box_sdf, sphere_sdf

from vitocc.generation.meshing import marching_cubes
from vitocc.generation.mise import lattice_to_points, logit, mise

THRESHOLD = 0.2
MISE_MODULE = importlib.import_module("vitocc.generation.mise")  # the package's `mise` attribute is the function
R = 128  # r0 = 32, 2 upsampling steps


@pytest.fixture(scope="module", autouse=True)
def few_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


def paper_mise(*args, **kwargs):
    """The paper's MISE (no first-level margin, no finest-level interpolation) unless the arguments say otherwise."""
    return mise(*args, **{"margin": 0.0, "ratio": 0.0, **kwargs})


def dense_values(field, res: int = R) -> torch.Tensor:
    """The field on the whole (res+1)^3 lattice."""
    axis = torch.arange(res + 1)
    idx = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    return field(lattice_to_points(idx, res, 0.1)).reshape((res + 1,) * 3)


@pytest.mark.parametrize("name", ["sphere", "box", "thin_plate", "two_blobs", "chair"])
def test_mise_mesh_equals_dense_marching_cubes(fields, name):
    field = fields[name]
    result = paper_mise(lambda p, i: field(p), 1, 32, 2, THRESHOLD, 0.1, points_batch=200_000)
    values, dense = result.values[0], dense_values(field)
    t = logit(THRESHOLD)
    assert torch.equal(values > t, dense > t)  # inside/outside agree on all 129^3 points
    ours, reference = marching_cubes(values.numpy(), t, 0.1), marching_cubes(dense.numpy(), t, 0.1)
    assert len(ours.faces) > 1000
    assert np.array_equal(ours.faces, reference.faces)
    # Vertices come from the same values, up to float32 rounding of batched vs. whole-grid evaluation.
    assert np.abs(ours.vertices - reference.vertices).max() < 1e-5
    assert ours.is_closed and ours.to_trimesh().volume > 0
    assert result.n_queried[0] < 0.10 * (R + 1) ** 3


def test_mise_matches_the_reference_implementation_on_the_oracle_chair(fields):
    """Figures of the paper's Cython MISE on the same field (shared oracle README)."""
    result = paper_mise(lambda p, i: fields["chair"](p), 1, 32, 2, THRESHOLD, 0.1)
    assert result.round_points == [35_937, 21_278, 78_738]
    assert result.n_queried == [135_953]
    mesh = marching_cubes(result.values[0].numpy(), logit(THRESHOLD), 0.1)
    assert (len(mesh.vertices), len(mesh.faces)) == (31_216, 62_428)
    # Symmetric bounds: no half-voxel shift; the 0.2 threshold dilates the chair by 0.0277.
    np.testing.assert_allclose(mesh.bounds[1, [0, 2]], [0.25 + 0.02773, 0.25 + 0.02773], atol=1e-4)
    np.testing.assert_allclose(mesh.bounds[0, [0, 2]], -mesh.bounds[1, [0, 2]], atol=1e-6)


@pytest.mark.parametrize(("margin", "ratio"), [(0.0, 0.0), (4.0, 2.0)])
def test_batch_equals_shape_by_shape(fields, margin, ratio):
    """Shapes of a batch do not touch each other's windows, coarse rounds or interpolated points."""
    names = ["sphere", "thin_plate", "two_blobs"]

    def query(points, index):  # each point answered by the field of its shape
        out = torch.empty(len(points))
        for b, name in enumerate(names):
            out[index == b] = fields[name](points[index == b])
        return out

    calls = []
    batched = paper_mise(lambda p, i: calls.append(len(p)) or query(p, i), 3, 16, 2, THRESHOLD, 0.1, points_batch=20_000,
                         margin=margin, ratio=ratio)
    assert max(calls) <= 20_000
    for b, name in enumerate(names):
        single = paper_mise(lambda p, i, name=name: fields[name](p), 1, 16, 2, THRESHOLD, 0.1, margin=margin, ratio=ratio)
        assert batched.n_queried[b] == single.n_queried[0] and batched.n_interpolated[b] == single.n_interpolated[0]
        assert torch.equal(batched.values[b], single.values[0])


@pytest.mark.parametrize(("margin", "ratio"), [(0.0, 0.0), (6.0, 0.0), (4.0, 2.0)])
@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("name", ["sphere", "two_blobs", "chair"])
def test_each_round_on_its_window_equals_each_round_on_the_whole_lattice(fields, monkeypatch, name, mirrored, margin,
                                                                         ratio):
    """The window of the points a round made known (`_window`) holds every leaf that can turn active, also
    under a first-level margin and with interpolated finest points. The two blobs spread refinement across
    level-0 planes at both ends of their windows (the mirror image at the lower end), where a window one
    level-0 voxel narrower misses points."""
    def field(p):
        return fields[name](-p if mirrored else p)

    windowed = paper_mise(lambda p, i: field(p), 1, 32, 2, THRESHOLD, 0.1, margin=margin, ratio=ratio)
    monkeypatch.setattr(MISE_MODULE, "_window", lambda points, step0, res: (torch.zeros(3, dtype=torch.long),
                                                                             torch.full((3,), res)))
    whole = paper_mise(lambda p, i: field(p), 1, 32, 2, THRESHOLD, 0.1, margin=margin, ratio=ratio)
    assert windowed.round_points == whole.round_points
    assert windowed.n_interpolated == whole.n_interpolated and (windowed.n_interpolated[0] > 0) == (ratio > 0)
    assert torch.equal(windowed.values, whole.values)


@pytest.mark.parametrize(("margin", "ratio"), [(0.0, 0.0), (4.0, 2.0)])
@pytest.mark.parametrize("name", ["two_blobs", "chair", "thin_plate"])
def test_the_first_rounds_on_every_other_point_equal_them_on_every_point(fields, monkeypatch, name, margin, ratio):
    """While a shape's known points all lie on multiples of 2**(k+1) (the first rounds), a round runs on every
    2**k-th lattice point and the levels that can have leaves (`_stride_exponent`): the same rounds and values
    as on every point (k = 0 throughout), with and without the margin and the interpolation."""
    used = []
    original = MISE_MODULE._stride_exponent
    monkeypatch.setattr(MISE_MODULE, "_stride_exponent", lambda ijk, cap: used.append(original(ijk, cap)) or used[-1])
    coarse = paper_mise(lambda p, i: fields[name](p), 1, 32, 2, THRESHOLD, 0.1, margin=margin, ratio=ratio)
    assert max(used) >= 2  # level-0 points only: the first round ran on a coarser lattice
    monkeypatch.setattr(MISE_MODULE, "_stride_exponent", lambda ijk, cap: 0)
    every = paper_mise(lambda p, i: fields[name](p), 1, 32, 2, THRESHOLD, 0.1, margin=margin, ratio=ratio)
    assert coarse.round_points == every.round_points and coarse.n_interpolated == every.n_interpolated
    assert torch.equal(coarse.values, every.values)


def test_refinement_reaches_the_lattice_border_in_every_round():
    """Each round after the first works on the window of the points it queried; surfaces that cross the
    lattice's faces and corner still refine as on the whole lattice (inside/outside of the dense grid)."""
    corner = torch.tensor([[[0.35, 0.35, 0.35], [0.6, 0.6, 0.6]]], dtype=torch.float64)  # beyond the +x+y+z corner
    slab = torch.tensor([[[-0.6, -0.2, -0.25], [-0.45, 0.2, 0.25]]], dtype=torch.float64)  # through the -x face

    def field(p):
        return as_logits(torch.minimum(box_sdf(p, corner), box_sdf(p, slab)))

    result = paper_mise(lambda p, i: field(p), 1, 32, 2, THRESHOLD, 0.1)
    dense, t = dense_values(field), logit(THRESHOLD)
    assert torch.equal(result.values[0] > t, dense > t)
    assert len(result.round_points) > 2  # refinement ran past the first window


def test_no_upsampling_is_the_dense_coarse_grid(fields):
    result = paper_mise(lambda p, i: fields["sphere"](p), 2, 16, 0, THRESHOLD, 0.1)
    assert result.n_queried == [17**3, 17**3]
    assert torch.equal(result.values[1], dense_values(fields["sphere"], 16))


def test_an_empty_field_stops_after_level_zero():
    result = paper_mise(lambda p, i: torch.full((len(p),), -5.0), 1, 8, 3, THRESHOLD, 0.1)
    assert result.round_points == [9**3]
    assert torch.all(result.values == -5.0)
    assert len(marching_cubes(result.values[0].numpy(), logit(THRESHOLD), 0.1).faces) == 0


def test_threshold_must_be_a_probability_and_a_ratio_0_or_at_least_1():
    with pytest.raises(ValueError):
        logit(1.0)
    with pytest.raises(ValueError, match="ratio must be 0 or >= 1"):  # below 1 it could skip straddling points
        mise(lambda p, i: p[:, 0], 1, 8, 1, THRESHOLD, 0.1, ratio=0.5)


def test_a_first_level_margin_starts_at_half_resolution_and_still_finds_a_plate():
    """margin > 0: the first level is r0/2 = 16 with one more step (the same 129^3 lattice). A 0.02 plate between
    the r0-16 planes is lost by the paper's rule from r0 16, found with a 6-logit margin, which then gives r0 32's
    mesh with fewer queries."""
    y = 1.1 / 32  # an r0-32 lattice plane, halfway between two of r0 16 (y = 0 and 1.1 / 16)
    plate = torch.tensor([[[-0.3, y - 0.01, -0.3], [0.3, y + 0.01, 0.3]]], dtype=torch.float64)

    def field(p):
        return as_logits(box_sdf(p, plate))

    default = paper_mise(lambda p, i: field(p), 1, 32, 2, 0.5, 0.1)
    from_16 = paper_mise(lambda p, i: field(p), 1, 16, 3, 0.5, 0.1)
    margin = paper_mise(lambda p, i: field(p), 1, 32, 2, 0.5, 0.1, margin=6.0)
    assert not (from_16.values[0] > 0).any()  # every r0-16 point is outside: the paper's rule stops there
    assert margin.round_points[0] == 17**3 and margin.resolution == default.resolution == 128
    meshes = [marching_cubes(r.values[0].numpy(), 0.0, 0.1) for r in (default, margin)]
    assert len(meshes[0].faces) > 1000 and np.array_equal(meshes[0].faces, meshes[1].faces)
    assert np.abs(meshes[0].vertices - meshes[1].vertices).max() < 1e-6
    assert margin.n_queried[0] < 0.8 * default.n_queried[0]
    # No half of an odd r0, and no upsampling means the dense grid: the margin is unused there.
    for r0, steps in ((33, 2), (32, 0)):
        paper, with_margin = (paper_mise(lambda p, i: field(p), 1, r0, steps, 0.5, 0.1, margin=m) for m in (0.0, 6.0))
        assert with_margin.round_points == paper.round_points and torch.equal(with_margin.values, paper.values)


def test_known_limit_an_isolated_speck_between_coarse_points_is_missed():
    """As the paper's MISE: a floating part that no level-0 point sees and no surface leads to is lost."""
    speck = torch.tensor([[[0.312] * 3, [0.325] * 3]], dtype=torch.float64)  # 0.013 wide, between level-0 points

    def field(p):
        return 20.0 * as_logits(torch.minimum(sphere_sdf(p, (-0.2, 0.0, 0.0), 0.15), box_sdf(p, speck)))

    result = paper_mise(lambda p, i: field(p), 1, 32, 2, 0.5, 0.1)
    dense = dense_values(field)
    assert (dense > 0).sum() > (result.values[0] > 0).sum()  # the speck is in the dense grid only
    near_sphere = lattice_to_points(torch.nonzero(dense > 0), R, 0.1)[:, 0] < 0
    assert torch.equal((result.values[0] > 0).sum(), near_sphere.sum())  # the sphere itself is complete


def _mean_vertex_distance(a, b) -> float:
    """Symmetric mean nearest-vertex distance between two meshes (issue 17's measure of an equal mesh)."""
    from vitocc.metrics import nearest

    return float((nearest(b.vertices, a.vertices)[0].mean() + nearest(a.vertices, b.vertices)[0].mean()) / 2)


def test_finest_level_interpolation_is_exact_on_a_linear_field():
    """A finest point is the mean of its voxel's corners where that lies more than `ratio` spreads from t; on a
    linear field that mean is the field itself: the paper's lattice values and mesh, for fewer queries. Every
    point near the plane is still queried (interpolated ones are at least 2 spreads, here >= 1 voxel, away)."""
    normal = torch.tensor([0.3, 0.8, -0.5])

    def field(p):
        return -20.0 * (p @ normal - 0.05)

    paper = paper_mise(lambda p, i: field(p), 1, 32, 2, THRESHOLD, 0.1)
    queried = []
    ratio = paper_mise(lambda p, i: queried.append(p) or field(p), 1, 32, 2, THRESHOLD, 0.1, ratio=2.0)
    torch.testing.assert_close(ratio.values[0], paper.values[0], rtol=0, atol=1e-4)
    assert ratio.n_interpolated[0] > 0.05 * paper.n_queried[0]
    assert ratio.n_queried[0] + ratio.n_interpolated[0] == paper.n_queried[0]
    distance_to_plane = (field(torch.cat(queried)) - logit(THRESHOLD)).abs() / (20.0 * normal.norm())
    step = 1.1 / R
    assert distance_to_plane.min() < 0.1 * step  # the points next to the surface are queried
    meshes = [marching_cubes(r.values[0].numpy(), logit(THRESHOLD), 0.1) for r in (paper, ratio)]
    assert np.array_equal(meshes[0].faces, meshes[1].faces)
    assert np.abs(meshes[0].vertices - meshes[1].vertices).max() < 1e-5


@pytest.mark.parametrize("name", ["sphere", "box", "thin_plate", "two_blobs", "chair"])
def test_finest_level_interpolation_keeps_the_mesh(fields, name):
    """The defaults (first-level margin 4, finest-level ratio 2) against the paper's MISE on curved, thin and
    many-part fields: inside/outside of every lattice point as the dense grid, the mesh within 1/50 of a voxel
    (symmetric mean nearest-vertex distance; issue 17 asks for 1/8) for at most 80% of the queries."""
    field = fields[name]
    paper = paper_mise(lambda p, i: field(p), 1, 32, 2, THRESHOLD, 0.1)
    default = mise(lambda p, i: field(p), 1, 32, 2, THRESHOLD, 0.1)
    t = logit(THRESHOLD)
    assert torch.equal(default.values[0] > t, dense_values(field) > t)
    assert default.n_interpolated[0] > 0 and default.n_queried[0] < 0.8 * paper.n_queried[0]
    meshes = [marching_cubes(r.values[0].numpy(), t, 0.1) for r in (paper, default)]
    assert abs(len(meshes[1].faces) - len(meshes[0].faces)) <= 0.002 * len(meshes[0].faces)
    assert _mean_vertex_distance(*meshes) < (1.1 / R) / 50
