"""Batched MISE on the CPU with a decoder of the paper's size: time per shape, queries, overhead.

What is measured: `vitocc.generation.mise` + marching cubes for B chair-like shapes at
once (r0 32, 2 upsampling steps, threshold 0.2, padding 0.1: the paper's settings).
Each shape's field is a randomly initialised CBN decoder of the default size (c_dim 256,
hidden 256, 5 blocks, folded eval form, one random code per shape, one ragged call per
chunk as `generate_meshes` makes) whose logits are added
(x0.1) to -50 * the signed distance of a chair made of boxes with random proportions. The
decoder runs on every queried point, so its cost is real; the analytic chair makes the
surface, and hence the queried points, chair-like (a random decoder alone has no surface).

Printed per batch size: seconds per shape (MISE + marching cubes, without the analytic
field's own cost), points queried per shape and as a share of the dense 129^3 lattice,
and the share of time outside the decoder (MISE bookkeeping + marching cubes), with the
load average at the end of each row (the machine is shared: compare rows of one run).
The paper's own figures on this machine (reference Generator3D, same settings, same
decoder size) are in the shared oracle notes and docs/performance.md.

    python benchmarks/mise.py [--batches 1 8 32] [--threads 2] [--amp off|bf16] [--margins 0 4] [--ratio 2]
                              [--before OLD/src | --against OLD/src --data DATA | --queries]

`--margins 0 4`: each batch of chairs meshed with each first-level margin (`generation.first_level_margin`),
one after the other on the same chairs, with how many meshes equal the first margin's; `--ratio R`: every row
with the finest-level interpolation ratio R (`generation.finest_level_ratio`; default 0, the paper's rule).

`--before OLD/src` (an older vitocc, e.g. `git archive COMMIT src | tar -x -C OLD`) adds, for the
shipped model on the 16 folder pictures of `benchmarks/reconstruct_latency.py`: the decoder runs once per shape,
then both versions' MISE replay its logits (a query answers from the stored lattice) in interleaved
repeats, so that the bookkeeping (MISE outside the decoder) and marching cubes of the two are timed
on real shapes without the decoder's noise, and their lattices and faces compared.

`--against OLD/src --data DATA [--batches 8] [--repeats 3]`: issue 17's comparison. The paper's MISE in fp32 with
an older vitocc (OLD/src: first-level margin 0, and no finest-level interpolation, which it may not know)
against this tree's defaults (`generation.first_level_margin` 4, `generation.finest_level_ratio` 2, the folded
decoder), each run in a fresh process with its own vitocc on the path, the two interleaved: the random-decoder
chairs above (the same decoder weights and chairs on both sides) and the shipped model on view 000 of DATA's
test split (e.g. the real-geometry split; its generation settings for the defaults). Printed: seconds per
shape (MISE + marching cubes; not the encoder, not the analytic chair) with each run, the ratio, points
queried, each new mesh's distance to the old one in voxels, and for the pictures IoU, Chamfer-L1, normal
consistency and F-score of both against the ground truth.

`--queries [--margins 0 2 4 6 8] [--data DATA] [--repeats 2]`: where the shipped model's queries go
(the 16 folder pictures, or view 000 of every test-split model of DATA, e.g. the real-geometry split),
then MISE from r0/2 with one more step and each first-level margin (`generation.first_level_margin`)
against the paper's MISE: points, interleaved time, and each mesh's distance to its mesh in voxels.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning (as `vitocc mise` sets it): on a shared CPU
# spinning threads made the decoder 2-3x slower. Read when torch loads, hence first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling benchmarks: reconstruct_latency, decoder_precision

import numpy as np  # noqa: E402
import torch  # noqa: E402

from vitocc.generation.meshing import marching_cubes  # noqa: E402
from vitocc.generation.mise import logit, mise  # noqa: E402
from vitocc.models.decoder import CBNDecoder  # noqa: E402

DENSE = 129**3


def random_chairs(n: int, rng: np.random.Generator) -> torch.Tensor:
    """(n, 6, 2, 3) float64 boxes: seat, four legs, back rest, with random proportions."""
    chairs = []
    for _ in range(n):
        w, d = rng.uniform(0.35, 0.5, 2) / 2  # half width (x), half depth (z)
        seat_top, seat_t, leg = rng.uniform(-0.1, 0.05), rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.07)
        back_top, back_t = rng.uniform(0.3, 0.5), rng.uniform(0.03, 0.07)
        seat_bottom = seat_top - seat_t
        boxes = [[[-w, seat_bottom, -d], [w, seat_top, d]],
                 [[-w, seat_top, -d], [w, back_top, -d + back_t]]]
        for sx in (-1, 1):
            for sz in (-1, 1):
                x0, z0 = (-w, w - leg)[sx > 0], (-d, d - leg)[sz > 0]
                boxes.append([[x0, -0.5, z0], [x0 + leg, seat_bottom, z0 + leg]])
        chairs.append(boxes)
    return torch.tensor(chairs, dtype=torch.float64)


def chair_sdf(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Signed distance (N,) of points (N,3) to the union of their own shape's boxes (N, 6, 2, 3)."""
    centre, half = (boxes[:, :, 0] + boxes[:, :, 1]) / 2, (boxes[:, :, 1] - boxes[:, :, 0]) / 2
    q = (points.double()[:, None, :] - centre).abs() - half
    return (q.clamp(min=0).norm(dim=2) + q.max(2).values.clamp(max=0)).min(1).values


def run_batch(decoder: CBNDecoder, n: int, rng: np.random.Generator, amp: str,
              margins: tuple[float, ...] = (0.0,), ratio: float = 0.0) -> list[dict]:
    """MISE + marching cubes for the same n random chairs at once with each first-level margin (interleaved
    in one call) and the finest-level `ratio`; per margin: seconds by stage, points queried, and the meshes
    (for comparing them)."""
    boxes, c = chairs_and_codes(n, rng)
    return [_mise_batch(decoder, boxes, c, amp, margin=m, ratio=ratio) for m in margins]


def chairs_and_codes(n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n random chairs (boxes) and a random code (n, 256) for each."""
    boxes = random_chairs(n, rng)
    return boxes, torch.randn(n, 256, generator=torch.Generator().manual_seed(int(rng.integers(1 << 30))))


def _mise_batch(decoder: CBNDecoder, boxes: torch.Tensor, c: torch.Tensor, amp: str, **settings) -> dict:
    n = len(c)
    clock = {"decoder": 0.0, "analytic": 0.0}

    def query(points: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp == "bf16"):
            learned = decoder(points, c, index).float()  # ragged, as MISE's query functions take them
        t1 = time.perf_counter()
        sdf = chair_sdf(points, boxes[index]).float()
        clock["decoder"] += t1 - t0
        clock["analytic"] += time.perf_counter() - t1
        return -50.0 * sdf + 0.1 * learned

    with torch.inference_mode():
        result = mise(query, n, 32, 2, 0.2, 0.1, points_batch=100_000, **settings)
    t0 = time.perf_counter()
    meshes = [marching_cubes(v.numpy(), logit(0.2), 0.1) for v in result.values]
    faces = [len(m.faces) for m in meshes]
    mc = time.perf_counter() - t0
    bookkeeping = result.seconds_total - result.seconds_query
    pipeline = clock["decoder"] + bookkeeping + mc  # everything but the analytic chair
    return {"shapes": n, "s_per_shape": pipeline / n, "points_per_shape": float(np.mean(result.n_queried)),
            "min_points": min(result.n_queried), "max_points": max(result.n_queried),
            "decoder_s": clock["decoder"] / n, "bookkeeping_s": bookkeeping / n, "mc_s": mc / n,
            "analytic_s": clock["analytic"] / n, "outside_share": (bookkeeping + mc) / pipeline,
            "faces": float(np.mean(faces)), "pts_per_s": sum(result.n_queried) / clock["decoder"],
            "margin": settings.get("margin"), "meshes": meshes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--amp", choices=["off", "bf16"], default="off")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", type=Path, help="src folder of an older vitocc: replay the shipped model's shapes")
    parser.add_argument("--queries", action="store_true",
                        help="where the shipped model's queries go; r0/2 with first-level margins against the paper's MISE")
    parser.add_argument("--margins", type=float, nargs="+", default=None,
                        help="first-level margins (logits): with --queries default 0 2 4 6 8, else 0 (several: interleaved)")
    parser.add_argument("--ratio", type=float, default=0.0, help="finest-level interpolation ratio of the chair rows")
    parser.add_argument("--data", type=Path, help="with --queries or --against: a data set whose test split's view 000 to mesh")
    parser.add_argument("--repeats", type=int, default=2, help="with --queries or --against: interleaved repeats")
    parser.add_argument("--against", type=Path,
                        help="src folder of an older vitocc: its paper's MISE in fp32 against this tree's defaults (issue 17)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.repeats < 1 or any(m < 0 for m in args.margins or []):
        parser.error("--repeats must be >= 1 and --margins >= 0")
    if args.against:
        if args.data is None:
            parser.error("--against needs --data (a data set whose test split's view 000 the shipped model meshes)")
        against(args.against, args.data, args.batches[0], args.repeats, args.threads, args.seed)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    decoder = CBNDecoder(256, 256, 5).eval()
    rng = np.random.default_rng(args.seed)
    margins = args.margins or ([0, 2, 4, 6, 8] if args.queries else [0])
    run_batch(decoder, 1, rng, args.amp)  # warm-up
    print(f"torch {torch.__version__}, {args.threads} threads, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, amp {args.amp}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    if args.queries:
        query_budget(margins, args.data, args.repeats)
        return
    if args.before:
        replay_shipped(args.before, args.batches, repeats=3)
        return
    print("batch | margin | s/shape | points/shape (min-max) | % of 129^3 | decoder s | bookkeeping s | "
          "marching cubes s | outside decoder | decoder points/s | faces | load")
    for b in args.batches:
        rows = run_batch(decoder, b, rng, args.amp, tuple(margins), args.ratio)
        for r in rows:
            same = sum(np.array_equal(m.faces, m0.faces) and np.allclose(m.vertices, m0.vertices, atol=1e-6)
                       for m, m0 in zip(r["meshes"], rows[0]["meshes"]))
            print(f"{b:5d} | {r['margin']:6g} | {r['s_per_shape']:7.2f} | {r['points_per_shape']:,.0f} "
                  f"({r['min_points']:,}-{r['max_points']:,}) | {100 * r['points_per_shape'] / DENSE:5.1f}% | "
                  f"{r['decoder_s']:.2f} | {r['bookkeeping_s']:.3f} | {r['mc_s']:.3f} | {100 * r['outside_share']:.1f}% | "
                  f"{r['pts_per_s']:,.0f} | {r['faces']:,.0f} | {os.getloadavg()[0]:.1f}   (analytic chair, not counted: "
                  f"{r['analytic_s']:.2f} s/shape; meshes equal to the first margin's: {same} of {b})", flush=True)

def load_module(path: Path, name: str):
    """A module of an older vitocc from its file (its own imports resolve to this vitocc)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def shipped_model(data: Path | None = None, paper: bool = True) -> tuple[torch.nn.Module, object, dict]:
    """The shipped model, its codes of the 16 folder pictures of `benchmarks/reconstruct_latency.py` (or of view 000 of
    each test-split model of the data set `data`), and its MISE settings (keyword arguments of `mise`): with the
    paper's rules (no first-level margin, no finest-level interpolation), or with `paper` False the model's own."""
    from reconstruct_latency import folder_pictures
    from vitocc.data.transforms import image_to_tensor
    from vitocc.generation import load_image
    from vitocc.models import load_model

    model, cfg = load_model(None)
    g = cfg.generation
    with tempfile.TemporaryDirectory() as tmp:
        paths = folder_pictures(Path(tmp)) if data is None else view0_pictures(data)
        pictures = [load_image(p) for p in paths]
    images = torch.stack([image_to_tensor(p, model.image_size, model.image_mean, model.image_std) for p in pictures])
    settings = {"resolution0": g.resolution0, "upsampling_steps": g.upsampling_steps, "threshold": g.threshold,
                "padding": g.padding, "points_batch": g.points_batch, "margin": 0.0, "ratio": 0.0}
    if not paper:  # an older vitocc's config may not know the ratio
        settings.update(margin=g.first_level_margin, ratio=getattr(g, "finest_level_ratio", 0.0))
    with torch.inference_mode():
        return model, model.encode(images), settings


def _query(model, c):
    """MISE's query function for the codes c: the prepared one (`model.field`) where the vitocc has it."""
    return model.field(c) if hasattr(model, "field") else (lambda p, i: model.decode_flat(p, c, i))


def view0_pictures(data: Path) -> list[Path]:
    """View 000 of every model of the test split of the data set folder `data` (the real-geometry split's pictures)."""
    return [data / c.name / name / "img_choy2016" / "000.jpg" for c in sorted(p for p in data.iterdir() if p.is_dir())
            if (c / "test.lst").is_file() for name in (c / "test.lst").read_text().split()]


def shipped_logits() -> tuple[torch.Tensor, dict]:
    """The 16 folder pictures' lattices (16, 129, 129, 129) float32 of the shipped model with the paper's MISE
    at its settings (first-level margin 0, whatever the shipped config says) (logits where MISE queried), and those settings."""
    model, c, settings = shipped_model()
    with torch.inference_mode():
        return mise(_query(model, c), len(c.c), **settings).values, settings


def needed_points(values: torch.Tensor, t: float) -> torch.Tensor:
    """(R+1, R+1, R+1) bool: the corners of the cells whose corners lie on both sides of t in values
    (R+1, R+1, R+1): the points whose values marching cubes uses."""
    inside, r = values > t, values.shape[0] - 1
    corners = [(slice(d[0], d[0] + r), slice(d[1], d[1] + r), slice(d[2], d[2] + r)) for d in np.ndindex(2, 2, 2)]
    some, every = torch.zeros((r,) * 3, dtype=torch.bool), torch.ones((r,) * 3, dtype=torch.bool)
    for c in corners:
        some |= inside[c]
        every &= inside[c]
    needed = torch.zeros_like(inside)
    for c in corners:
        needed[c] |= some & ~every
    return needed


def first_levels(model, c, settings: dict, margins: list[float], repeats: int) -> None:
    """MISE with each first-level margin of `margins` logits (`mise`'s margin: it starts at r0/2 with one more
    step, the same lattice; 0: from r0/2 by the paper's rule) against the paper's MISE (from r0, no margin) on
    the shapes of codes c: points queried, time (interleaved repeats, the median) and each shape's mesh against
    the paper's (symmetric mean nearest-vertex distance in voxels; issue 17's bar for an equal mesh: 1/8 voxel)."""
    from decoder_precision import vertex_distance_voxels

    t, res = logit(settings["threshold"]), settings["resolution0"] * 2 ** settings["upsampling_steps"]
    voxel = (1 + settings["padding"]) / res
    variants = {"paper's MISE": settings} | {
        (f"r0 {settings['resolution0'] // 2}, margin {m:g}" if m else f"r0 {settings['resolution0'] // 2}, no margin"):
        dict(settings, margin=m) if m else dict(settings, resolution0=settings["resolution0"] // 2,
                                                 upsampling_steps=settings["upsampling_steps"] + 1)
        for m in margins}
    seconds, results = {name: [] for name in variants}, {}
    with torch.inference_mode():
        for _ in range(repeats):
            for name, kwargs in variants.items():
                t0 = time.perf_counter()
                results[name] = mise(_query(model, c), len(c.c), **kwargs)
                seconds[name].append(time.perf_counter() - t0)
    meshes = {name: [marching_cubes(v.numpy(), t, settings["padding"]) for v in r.values] for name, r in results.items()}
    base = sum(results["paper's MISE"].n_queried)
    print(f"{len(c.c)} shapes, {repeats} interleaved repeats, MISE seconds (median) and points against the paper's MISE")
    for name, r in results.items():
        d = np.array([vertex_distance_voxels(a, b, voxel) for a, b in zip(meshes["paper's MISE"], meshes[name])])
        print(f"   {name:16s} {statistics.median(seconds[name]):6.2f} s  points {sum(r.n_queried):9,d} "
              f"({sum(r.n_queried) / base:.2f}x)  mesh distance to the paper's (voxels): mean {d.mean():.3f}, "
              f"max {d.max():.3f}, shapes above 1/8: {int((d > 0.125).sum())}")


def query_budget(margins: list[float], data: Path | None, repeats: int) -> None:
    """Where the shipped model's queries go, by kind of lattice point, then `first_levels` on the same
    shapes: the 16 folder pictures, or view 000 of every test-split model of the data set `data`."""
    model, c, settings = shipped_model(data)
    t = logit(settings["threshold"])
    queried = []
    with torch.inference_mode():
        field = _query(model, c)

        def query(points: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
            queried.append((points, index))
            return field(points, index)

        default = mise(query, len(c.c), **settings)
    res = default.resolution
    kinds = np.zeros((4, 2), int)  # rows: level 0-1 points, edge midpoints, face centres, voxel centres; (queried, needed)
    for points, index in queried:
        ijk = torch.round((points / (1 + settings["padding"]) + 0.5) * res).long()
        odd = (ijk % 2).sum(1)
        for b in index.unique().tolist():
            rows = index == b
            need = needed_points(default.values[b], t)[ijk[rows, 0], ijk[rows, 1], ijk[rows, 2]]
            for kind in range(4):
                kinds[kind] += [int((odd[rows] == kind).sum()), int(need[odd[rows] == kind].sum())]
    print(f"shipped model, {len(c.c)} pictures, settings {settings}: {sum(default.n_queried):,} points queried")
    for name, (n, need) in zip(("level 0-1 points", "finest: edge midpoints", "finest: face centres",
                                "finest: voxel centres"), kinds):
        print(f"   {name:24s} queried {n:9,d}  used by marching cubes {need:9,d} ({100 * need / max(n, 1):.0f}%)")
    first_levels(model, c, settings, margins, repeats)


def replay(values: torch.Tensor, padding: float):
    """A query_fn answering each lattice point with its stored logit in values (B, R+1, R+1, R+1)."""
    res = values.shape[-1] - 1

    def query(points: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ijk = torch.round((points / (1.0 + padding) + 0.5) * res).long()
        return values[index, ijk[:, 0], ijk[:, 1], ijk[:, 2]]
    return query


def replay_shipped(before: Path, batches: list[int], repeats: int) -> None:
    """MISE bookkeeping and marching cubes of this vitocc and an older one on the shipped model's shapes."""
    versions = {"now": (sys.modules["vitocc.generation.mise"].mise, marching_cubes),
                "before": (load_module(before / "vitocc/generation/mise.py", "before_mise").mise,
                           load_module(before / "vitocc/generation/meshing.py", "before_meshing").marching_cubes)}
    values, settings = shipped_logits()
    t, voxel = logit(settings["threshold"]), (1 + settings["padding"]) / (values.shape[-1] - 1)
    print(f"shipped model, {len(values)} folder pictures, settings {settings}; MISE replays the stored logits; "
          f"load average {os.getloadavg()[0]:.1f}")
    for batch in batches:
        clock = {(tag, stage): [] for tag in versions for stage in ("bookkeeping", "marching_cubes")}
        same, moved = True, 0.0
        for k in range(repeats):
            meshes = {}
            for tag in (list(versions) if k % 2 == 0 else list(versions)[::-1]):
                run_mise, run_mc = versions[tag]
                lattices, seconds = [], 0.0
                for first in range(0, len(values), batch):
                    part = values[first:first + batch]
                    result = run_mise(replay(part, settings["padding"]), len(part), **accepted(run_mise, settings))
                    seconds += result.seconds_total - result.seconds_query
                    lattices.append(result.values)
                t0 = time.perf_counter()
                meshes_of_tag = [run_mc(v.numpy(), t, settings["padding"]) for v in torch.cat(lattices)]
                clock[tag, "marching_cubes"].append((time.perf_counter() - t0) / len(values))
                clock[tag, "bookkeeping"].append(seconds / len(values))
                meshes[tag] = torch.cat(lattices), meshes_of_tag
            same &= torch.equal(meshes["now"][0], meshes["before"][0])
            same &= all(np.array_equal(a.faces, b.faces) for a, b in zip(meshes["now"][1], meshes["before"][1]))
            moved = max(moved, max(np.abs(a.vertices - b.vertices).max() for a, b in zip(meshes["now"][1], meshes["before"][1])))
        print(f"batch {batch:2d}: " + "; ".join(_before_now(clock, stage) for stage in ("bookkeeping", "marching_cubes"))
              + f"; same lattices and faces: {'yes' if same else 'NO'}, vertices within {moved / voxel:.1e} voxel; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)


def accepted(fn, kwargs: dict) -> dict:
    """The keyword arguments that `fn` (maybe an older vitocc's) takes."""
    return {k: v for k, v in kwargs.items() if k in inspect.signature(fn).parameters}


def _before_now(clock: dict, stage: str) -> str:
    """'stage s/shape before B now N (B/N x)' from the medians of interleaved runs."""
    before, now = statistics.median(clock["before", stage]), statistics.median(clock["now", stage])
    return f"{stage} s/shape before {before:.4f} now {now:.4f} ({before / now:.2f}x)"

def against(old_src: Path, data: Path, batch: int, repeats: int, threads: int, seed: int) -> None:
    """Issue 17's comparison: this vitocc's defaults against the paper's MISE in fp32 with an older vitocc (`old_src`),
    each run in a fresh process, interleaved, on random-decoder chairs and on the shipped model's pictures of
    `data`: seconds per shape (MISE + marching cubes), points, and the new meshes against the old ones (and,
    for the pictures, both against the ground truth)."""
    from decoder_precision import vertex_distance_voxels
    from vitocc.metrics import evaluate_mesh, load_ground_truth

    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(seed)
        torch.save(CBNDecoder(256, 256, 5).state_dict(), Path(tmp) / "decoder.pt")
        tasks = {"random-decoder chairs (c_dim 256, hidden 256, threshold 0.2)":
                 {"kind": "chairs", "decoder": str(Path(tmp) / "decoder.pt"), "seed": seed},
                 f"shipped model, view 000 of the test split of {data}": {"kind": "shipped", "data": str(data)}}
        versions = {"before": ("paper", old_src), "now": ("default", None)}
        for title, task in tasks.items():
            runs = {tag: [] for tag in versions}
            for k in range(repeats):
                for tag in (list(versions) if k % 2 == 0 else list(versions)[::-1]):
                    settings, src = versions[tag]
                    job = dict(task, settings=settings, batch=batch, threads=threads, out=str(Path(tmp) / f"{tag}.npz"))
                    runs[tag].append(_run_worker(job, src))
            meshes = {tag: _read_meshes(Path(tmp) / f"{tag}.npz") for tag in versions}  # the last repeat's
            print(f"{title}, batch {batch}, {len(meshes['now'])} shapes, {repeats} interleaved runs in fresh processes; "
                  f"load average {os.getloadavg()[0]:.1f}")
            for tag, (settings, src) in versions.items():
                times = [r["s_per_shape"] for r in runs[tag]]
                r = runs[tag][-1]
                print(f"   {tag:6s} ({'the paper' if settings == 'paper' else 'default'}'s MISE, fp32, {src or 'this tree'}): "
                      f"{statistics.median(times):.3f} s/shape ({' '.join(f'{x:.3f}' for x in times)}); decoder "
                      f"{r['decoder_s']:.3f}, bookkeeping {r['bookkeeping_s']:.3f}, marching cubes {r['mc_s']:.3f}; "
                      f"points {r['points_per_shape']:,.0f}, faces {r['faces']:,.0f}")
            per_run = [b["s_per_shape"] / n["s_per_shape"] for b, n in zip(runs["before"], runs["now"])]
            before, now = (statistics.median(r["s_per_shape"] for r in runs[tag]) for tag in versions)
            voxel = 1.1 / 128
            d = np.array([vertex_distance_voxels(a, b, voxel) for a, b in zip(meshes["before"], meshes["now"])])
            print(f"   before / now: {before / now:.2f}x (median of the per-run ratios {statistics.median(per_run):.2f}x); "
                  f"points {runs['now'][-1]['points_per_shape'] / runs['before'][-1]['points_per_shape']:.2f}x; meshes now "
                  f"against before: symmetric mean nearest-vertex distance mean {d.mean():.4f}, max {d.max():.4f} voxel "
                  f"(issue 17's bar 0.125), shapes above 1/8: {int((d > 0.125).sum())}")
            if task["kind"] == "shipped":
                folders = [p.parents[1] for p in view0_pictures(data)]
                for tag in versions:
                    scores = [evaluate_mesh(m.vertices, m.faces, load_ground_truth(f, np.random.default_rng(0)),
                                            np.random.default_rng(0)) for m, f in zip(meshes[tag], folders)]
                    mean = {name: np.mean([getattr(x, name) for x in scores]) for name in ("iou", "chamfer_l1",
                                                                                           "normal_consistency")}
                    print(f"   {tag:6s} against the ground truth (mean of {len(scores)}; evaluate_mesh, seed 0): IoU "
                          f"{mean['iou']:.4f}, Chamfer-L1 x10 {10 * mean['chamfer_l1']:.4f}, normal consistency "
                          f"{mean['normal_consistency']:.4f}, F@1% {np.mean([x.fscore[0.01] for x in scores]):.4f}", flush=True)


def _run_worker(job: dict, src: Path | None) -> dict:
    """This script in a fresh process as a worker (`--worker`), with an older vitocc's src first on the path if given."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src)] + ([env["PYTHONPATH"]] if "PYTHONPATH" in env else []))
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _read_meshes(path: Path) -> list:
    """The meshes a worker wrote: objects with vertices and faces."""
    from types import SimpleNamespace

    data = np.load(path)
    return [SimpleNamespace(vertices=data[f"v{k}"], faces=data[f"f{k}"]) for k in range(len(data.files) // 2)]


def worker(job: dict) -> None:
    """One run of `against`: MISE + marching cubes of a batch of chairs or the shipped model's pictures with the
    paper's settings or the defaults of the vitocc on the path; prints a JSON line and writes the meshes."""
    torch.set_num_threads(job["threads"])
    paper = job["settings"] == "paper"
    if job["kind"] == "chairs":
        decoder = CBNDecoder(256, 256, 5)
        decoder.load_state_dict(torch.load(job["decoder"]))
        boxes, c = chairs_and_codes(job["batch"], np.random.default_rng(job["seed"]))
        settings = accepted(mise, {"margin": 0.0, "ratio": 0.0}) if paper else {}
        _mise_batch(decoder.eval(), boxes[:1], c[:1], "off", **settings)  # warm-up
        r = _mise_batch(decoder, boxes, c, "off", **settings)
        out, meshes = {k: r[k] for k in ("s_per_shape", "points_per_shape", "decoder_s", "bookkeeping_s", "mc_s")}, r["meshes"]
    else:
        out, meshes = _shipped_worker(Path(job["data"]), job["batch"], paper)
    out["faces"] = float(np.mean([len(m.faces) for m in meshes]))
    np.savez(job["out"], **{f"{kind}{k}": getattr(m, name) for k, m in enumerate(meshes)
                            for kind, name in (("v", "vertices"), ("f", "faces"))})
    print(json.dumps(out))


def _shipped_worker(data: Path, batch: int, paper: bool) -> tuple[dict, list]:
    """MISE + marching cubes of the shipped model on view 000 of `data`'s test split, `batch` pictures at a time (the
    encoder is not timed), with the paper's settings or the model's: seconds per shape by stage, points per
    shape, the meshes."""
    model, codes, settings = shipped_model(data, paper)
    settings = accepted(mise, settings)

    def run(c) -> object:
        return mise(_query(model, c), len(c.c), **settings)

    clock, points, meshes = {"decoder": 0.0, "bookkeeping": 0.0, "mc": 0.0}, 0, []
    with torch.inference_mode():
        run(codes[:1])  # warm-up
        for first in range(0, len(codes), batch):
            result = run(codes[first:first + batch])
            t0 = time.perf_counter()
            meshes += [marching_cubes(v.numpy(), logit(settings["threshold"]), settings["padding"]) for v in result.values]
            clock["mc"] += time.perf_counter() - t0
            clock["decoder"] += result.seconds_query
            clock["bookkeeping"] += result.seconds_total - result.seconds_query
            points += sum(result.n_queried)
    n = len(meshes)
    return ({"s_per_shape": sum(clock.values()) / n, "points_per_shape": points / n, "decoder_s": clock["decoder"] / n,
             "bookkeeping_s": clock["bookkeeping"] / n, "mc_s": clock["mc"] / n}, meshes)


if __name__ == "__main__":
    main()
