"""Multiresolution IsoSurface Extraction (MISE) for a batch of shapes, on the model's device.

The octree logic of the paper (Mescheder et al. 2019, section 3.3) written as dense tensor
operations over the final lattice, so that B shapes advance together and every round sends
all their new points through one chunked `query_fn`:

* level 0 evaluates the (r0+1)^3 lattice of every shape;
* a leaf voxel of level l < depth is *active* when the known points on its closed box
  (its corners and points that finer neighbours put on its faces) lie on both sides of the
  threshold (value >= t and value <= t, as the reference); active leaves are split in 8
  and the unknown points of their 3x3x3 child lattice are queried in the next round;
* rounds repeat until no leaf changes. Points that neighbours put on a leaf's faces are
  what spreads refinement along a surface to voxels whose corners missed it. A round's
  bookkeeping runs shape by shape on the window of level-0 voxels around the points the
  shape had queried (`_window`), which holds every leaf that can change.

With a `margin` > 0 (and an even r0 and at least one upsampling step; otherwise the margin is
unused) the first level is r0/2 and one more level follows (the same final lattice); its voxels
are also split where a known point lies within `margin` logits of the threshold, so that a thin
part passing between its corners is still refined (fewer first-level queries).

With a `ratio` >= 1 a new point of the finest level (one with an odd lattice coordinate) is
interpolated, not queried, when the mean of the corners of the voxel it halves (2, 4 or 8 known
points: trilinear at its position) lies farther from the threshold than `ratio` times their
spread (max - min). Its corners then all lie on the mean's side (a mean within one spread of them
cannot be farther than one spread from a threshold between them), so a point whose corners
straddle the surface is always queried. Marching cubes reads an interpolated point only as the
far end of a crossing edge, whose vertex moves by about the interpolation error over that
distance, so the test scales with the field's own steepness. What it gives up: a surface that
only the skipped point would have shown (thinner than a finest voxel, between corners on one
side), and the refinement such a point could have spread to a neighbouring leaf.

The lattice has R+1 = r0 * 2^depth + 1 points per axis over the box [-(1+p)/2, (1+p)/2]^3;
point i sits at (i / R - 0.5) * (1 + p), the same lattice as the reference (spacing 1.1/128
for r0=32, depth 2, padding 0.1).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from vitocc.config.schema import GenerationConfig
from vitocc.models.decoder import logit

_DEFAULTS = GenerationConfig()  # the defaults have one home: the schema

# The 8 corners (-1 or +1 per axis) around a point: along the axes where it is odd.
_CORNERS = torch.tensor([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])

QueryFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""`query_fn(points (N,3) float32, index (N,) long) -> logits (N,)`: shape `index[i]` at `points[i]`.

MISE always sends `index` sorted (non-decreasing), so each shape's points are one slice.
"""


@dataclass
class MiseResult:
    """The final logit lattice of every shape and what it cost."""

    values: torch.Tensor  # (B, R+1, R+1, R+1) float32 logits; points never queried filled from their leaf
    n_queried: list[int]  # points evaluated per shape
    n_interpolated: list[int] = field(default_factory=list)  # finest-level points interpolated per shape (`ratio`)
    round_points: list[int] = field(default_factory=list)  # points queried per round, all shapes
    seconds_query: float = 0.0  # wall time inside query_fn
    seconds_total: float = 0.0  # wall time of the whole extraction

    @property
    def resolution(self) -> int:
        """R: number of cells per axis of the final lattice."""
        return self.values.shape[-1] - 1


def lattice_to_points(idx: torch.Tensor, resolution: int, padding: float) -> torch.Tensor:
    """Integer lattice coordinates (N,3) -> points (N,3) float32 in the normalised frame."""
    return (idx.float() / resolution - 0.5) * (1.0 + padding)


def mise(query_fn: QueryFn, n_shapes: int, resolution0: int = _DEFAULTS.resolution0,
         upsampling_steps: int = _DEFAULTS.upsampling_steps, threshold: float = _DEFAULTS.threshold,
         padding: float = _DEFAULTS.padding, points_batch: int = _DEFAULTS.points_batch,
         device: torch.device | str = "cpu", margin: float = _DEFAULTS.first_level_margin,
         ratio: float = _DEFAULTS.finest_level_ratio) -> MiseResult:
    """Run MISE for `n_shapes` shapes whose fields `query_fn` evaluates.

    `threshold` is a probability; the extraction compares logits with logit(threshold). `margin` (logits,
    0 = the paper's MISE): start at r0/2 and also refine its voxels with a known point that close to it
    (for an even r0 and upsampling_steps >= 1: an odd r0 has no half, and no upsampling means the dense grid).
    `ratio` (0 = the paper's MISE, else >= 1): interpolate finest-level points that far from the threshold
    (module docstring). Both 0: exactly the paper's points.
    Memory: the float32 lattices (8.6 MB per shape at R=128), the temporaries of one shape's
    bookkeeping at a time (up to ~30 MB), and the decoder's activations for `points_batch` points.
    """
    if 0 < ratio < 1:
        raise ValueError(f"ratio must be 0 or >= 1, got {ratio}")
    start = time.perf_counter()
    margin = margin if resolution0 % 2 == 0 and upsampling_steps > 0 else 0.0
    if margin > 0:
        resolution0, upsampling_steps = resolution0 // 2, upsampling_steps + 1
    depth, t = upsampling_steps, logit(threshold)
    step0 = 2**depth
    res = resolution0 * step0
    values = torch.full((n_shapes,) + (res + 1,) * 3, float("nan"), device=device)
    split = [torch.zeros((n_shapes,) + (resolution0 * 2**lvl,) * 3, dtype=torch.bool, device=device)
             for lvl in range(depth)]
    level0 = torch.arange(0, res + 1, step0, device=device)
    idx = torch.cartesian_prod(torch.arange(n_shapes, device=device), level0, level0, level0)  # (M, 4): shape, i, j, k
    result = MiseResult(values, [0] * n_shapes, [0] * n_shapes)
    ask = torch.ones(len(idx), dtype=torch.bool, device=device)
    stride = [depth] * n_shapes  # per shape: every known point lies on multiples of 2**stride[b] (`_next_points`)
    while len(idx):  # this round's new points, sorted by shape; `ask`: those to query (the rest are interpolated)
        query = idx[ask]
        result.round_points.append(len(query))
        counts = torch.bincount(idx[:, 0], minlength=n_shapes)
        queried = torch.bincount(query[:, 0], minlength=n_shapes)
        for b, (n, k) in enumerate(zip(counts.tolist(), queried.tolist())):
            result.n_queried[b] += k
            result.n_interpolated[b] += n - k
        for chunk in query.split(points_batch):
            t0 = time.perf_counter()
            logits = query_fn(lattice_to_points(chunk[:, 1:], res, padding), chunk[:, 0])
            values[chunk.unbind(1)] = logits.float().nan_to_num(nan=-1e6)  # the lattice keeps fp32 even under autocast
            result.seconds_query += time.perf_counter() - t0
        new = []
        for points in idx.split(counts.tolist()):
            if len(points):
                b = int(points[0, 0])
                stride[b] = min(stride[b], _stride_exponent(points[:, 1:], depth))
                new.append(_next_points(values, split, t, margin, ratio, points, max(stride[b] - 1, 0)))
        idx, ask = torch.cat([points for points, _ in new]), torch.cat([mask for _, mask in new])
    for shape in values.split(1):  # one shape at a time: its temporaries are lattice-sized
        _fill_unknown(shape, depth)
    result.seconds_total = time.perf_counter() - start
    return result


def _subdivide(values: torch.Tensor, split: list[torch.Tensor], t: float, margin: float) -> torch.Tensor:
    """Split every active leaf (in place in `split`); returns bool of values' shape, the child lattice points.

    values (B, n+1, n+1, n+1) and split: the whole lattice or a window of it on level-0 voxels (`_crop`).
    A leaf is split at most once per round, as in the reference (children wait for the
    next round's values).
    """
    depth = len(split)
    # Bit 1: a known point >= t, bit 2: a known point <= t, bit 4: one within margin of t (NaN compares False).
    touch = (values >= t).to(torch.uint8) | ((values <= t).to(torch.uint8) << 1)
    if margin > 0:
        touch |= ((values - t).abs() <= margin).to(torch.uint8) << 2
    active = [None] * depth
    for lvl in range(depth - 1, -1, -1):  # finest first: a voxel's closed box is its children's
        touch = _or_pool(touch, 3 if lvl == depth - 1 else 2)
        exists = torch.ones_like(split[0]) if lvl == 0 else _upsample2(split[lvl - 1])
        crossing = (touch & 3) == 3
        if lvl == 0 and margin > 0:
            crossing |= (touch & 4).bool()
        active[lvl] = exists & ~split[lvl] & crossing
    children = torch.zeros_like(values, dtype=torch.bool)
    for lvl, act in enumerate(active):
        if not act.any():
            continue
        split[lvl] |= act
        half = 2 ** (depth - lvl - 1)
        children[:, ::half, ::half, ::half] |= _child_points(act)
    return children


def _next_points(values: torch.Tensor, split: list[torch.Tensor], t: float, margin: float, ratio: float,
                 points: torch.Tensor, coarse: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The new lattice points (M, 4) long (shape, i, j, k) of the one shape whose points (N, 4) became known
    this round, after splitting its active leaves (in place in `split`), and which of them to query (M,) bool:
    with `ratio` > 0 the others are finest-level points whose interpolated values are written now.

    Shape by shape, on the window of those points (`_window`): a batch's shapes lie in different
    parts of the lattice, and their union is about the whole of it. `coarse` = k: while every known
    point of the shape lies on multiples of 2**(k+1) (the first rounds), its leaves are of the levels
    whose voxels span at least 2**(k+1) steps, so the round runs on every 2**k-th point of the window
    and on those levels (8x fewer points per step of k; the same leaves and children).
    """
    b, depth, res = int(points[0, 0]), len(split), values.shape[-1] - 1
    lower, upper = _window(points[:, 1:], 2**depth, res)
    step = 2**coarse
    window = _crop(values[b:b + 1], lower, upper, 1)
    sub = window[:, ::step, ::step, ::step]
    levels = [_crop(s[b:b + 1], lower, upper, 2 ** (depth - lvl)) for lvl, s in enumerate(split[:depth - coarse])]
    children = _subdivide(sub, levels, t, margin)
    idx = (children & sub.isnan()).nonzero()
    idx[:, 1:] *= step
    ask = torch.ones(len(idx), dtype=torch.bool, device=idx.device)
    if ratio > 0 and len(idx):
        ask = ~_interpolate(window[0], idx[:, 1:], t, ratio)
    idx[:, 0] = b
    idx[:, 1:] += lower
    return idx, ask


def _interpolate(values: torch.Tensor, ijk: torch.Tensor, t: float, ratio: float) -> torch.Tensor:
    """Write the interpolated value of each finest-level point of ijk (M, 3) (lattice coordinates in values
    (n+1, n+1, n+1), a window whose corner is even) whose corners' mean lies farther than `ratio` times their
    spread from t; returns which points (M,) bool. Their corners are known: the voxel a new finest point
    halves was split, so it existed, and a voxel's corners are known from the round after it appears."""
    odd = ijk % 2  # a finest-level point has an odd coordinate; its corners lie one step either way there
    corners = values[(ijk[:, None, :] + _CORNERS.to(ijk.device) * odd[:, None, :]).unbind(-1)]  # (M, 8)
    mean = corners.mean(1)
    far = odd.any(1) & ((mean - t).abs() > ratio * (corners.amax(1) - corners.amin(1)))  # NaN: False, queried
    values[ijk[far].unbind(1)] = mean[far]
    return far


def _stride_exponent(ijk: torch.Tensor, cap: int) -> int:
    """The largest k <= cap such that every lattice point of ijk (M, 3) long lies on multiples of 2**k."""
    bits = ijk[:, 0] | ijk[:, 1] | ijk[:, 2]
    lowest = (bits & -bits)[bits > 0]  # the lowest set bit of each point off the origin
    return cap if len(lowest) == 0 else min(cap, int(lowest.min()).bit_length() - 1)


def _window(points: torch.Tensor, step0: int, res: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper lattice corners (3,) long, multiples of `step0`, of the level-0 voxels whose closed
    boxes hold any of the lattice points (M, 3) that became known this round (queried or interpolated).

    Only leaves with a point that became known this round on their closed box can turn active (the others
    kept all their known points and were one-sided, or were split already; children are made of
    this round's points), and every leaf lies inside a level-0 voxel: so the next round's work
    is confined to this window (about a quarter of the lattice for one object) and its result
    is the whole lattice's.
    """
    lower = ((points.amin(0) // step0 - 1) * step0).clamp(min=0)
    upper = ((points.amax(0) // step0 + 1) * step0).clamp(max=res)
    return lower, upper


def _crop(grid: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor, size: int) -> torch.Tensor:
    """A view of grid (B, n, n, n) inside the lattice window [lower, upper]: points (size 1, upper
    included) or voxels of `size` lattice steps (the voxels between the corners)."""
    stop = 1 if size == 1 else 0
    return grid[(slice(None),) + tuple(slice(lo // size, hi // size + stop) for lo, hi in zip(lower.tolist(), upper.tolist()))]


def _or_pool(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """Bitwise OR over windows of `kernel` (2 or 3) points with stride 2 on the 3 spatial axes.

    kernel 3 maps (B, 2n+1, ...) lattice points to the closed boxes of (B, n, ...) voxels;
    kernel 2 maps (B, 2n, ...) child voxels to their (B, n, ...) parents.
    """
    for dim in (1, 2, 3):
        n = (x.shape[dim] - kernel) // 2 + 1
        out = x.narrow(dim, 0, 2 * n - 1)[_every_other(dim)]
        for offset in range(1, kernel):
            out = out | x.narrow(dim, offset, 2 * n - 1)[_every_other(dim)]
        x = out
    return x


def _child_points(active: torch.Tensor) -> torch.Tensor:
    """(B, n, n, n) voxels -> (B, 2n+1, 2n+1, 2n+1) bool: the 3x3x3 child-lattice points of each."""
    x = active
    for dim in (1, 2, 3):
        shape = list(x.shape)
        shape[dim] = 2 * shape[dim] + 1
        out = torch.zeros(shape, dtype=torch.bool, device=x.device)
        for offset in range(3):  # voxel v covers points 2v, 2v+1, 2v+2 along each axis
            out.narrow(dim, offset, 2 * x.shape[dim] - 1)[_every_other(dim)] |= x
        x = out
    return x


def _every_other(dim: int) -> tuple[slice, ...]:
    """Index taking every second element along `dim`."""
    return (slice(None),) * dim + (slice(None, None, 2),)


def _upsample2(mask: torch.Tensor) -> torch.Tensor:
    """(B, n, n, n) -> (B, 2n, 2n, 2n): every voxel's value copied to its 8 children."""
    return mask.repeat_interleave(2, 1).repeat_interleave(2, 2).repeat_interleave(2, 3)


def _fill_unknown(values: torch.Tensor, depth: int) -> None:
    """Give every never-queried point (NaN) a value from a known point of the leaf containing it.

    Points are unknown only inside leaves that were not split, whose known points all lie
    on one side of the threshold, so marching cubes sees no surface there (as the
    reference's to_dense). Finest level first: the lower corner of the level-l voxel
    around a point is known whenever that voxel exists.
    """
    size = values.shape[-1]
    for lvl in range(depth - 1, -1, -1):
        step = 2 ** (depth - lvl)
        corners = values[:, ::step, ::step, ::step]
        lower = corners.repeat_interleave(step, 1)[:, :size].repeat_interleave(step, 2)[:, :, :size]
        lower = lower.repeat_interleave(step, 3)[:, :, :, :size]
        torch.where(values.isnan(), lower, values, out=values)
