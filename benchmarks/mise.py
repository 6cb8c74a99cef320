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

    python benchmarks/mise.py [--batches 1 8 32] [--threads 2] [--amp off|bf16]
"""

from __future__ import annotations

import argparse
import os
import time

# Idle OpenMP threads sleep instead of spinning (as `vitocc mise` sets it): on a shared CPU
# spinning threads made the decoder 2-3x slower. Read when torch loads, hence first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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


def run_batch(decoder: CBNDecoder, n: int, rng: np.random.Generator, amp: str) -> dict[str, float]:
    """MISE + marching cubes for n shapes at once; seconds by stage and points queried."""
    boxes = random_chairs(n, rng)
    c = torch.randn(n, 256, generator=torch.Generator().manual_seed(int(rng.integers(1 << 30))))
    clock = {"decoder": 0.0, "analytic": 0.0}

    def query(points: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp == "bf16"):
            learned = decoder(points, c, index).float()  # as `generate_meshes` calls decode_flat
        t1 = time.perf_counter()
        sdf = chair_sdf(points, boxes[index]).float()
        clock["decoder"] += t1 - t0
        clock["analytic"] += time.perf_counter() - t1
        return -50.0 * sdf + 0.1 * learned

    with torch.inference_mode():
        result = mise(query, n, 32, 2, 0.2, 0.1, points_batch=100_000)
    t0 = time.perf_counter()
    faces = [len(marching_cubes(v.numpy(), logit(0.2), 0.1).faces) for v in result.values]
    mc = time.perf_counter() - t0
    bookkeeping = result.seconds_total - result.seconds_query
    pipeline = clock["decoder"] + bookkeeping + mc  # everything but the analytic chair
    return {"shapes": n, "s_per_shape": pipeline / n, "points_per_shape": float(np.mean(result.n_queried)),
            "min_points": min(result.n_queried), "max_points": max(result.n_queried),
            "decoder_s": clock["decoder"] / n, "bookkeeping_s": bookkeeping / n, "mc_s": mc / n,
            "analytic_s": clock["analytic"] / n, "outside_share": (bookkeeping + mc) / pipeline,
            "faces": float(np.mean(faces)), "pts_per_s": sum(result.n_queried) / clock["decoder"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--amp", choices=["off", "bf16"], default="off")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    decoder = CBNDecoder(256, 256, 5).eval()
    rng = np.random.default_rng(args.seed)
    run_batch(decoder, 1, rng, args.amp)  # warm-up
    print(f"torch {torch.__version__}, {args.threads} threads, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, amp {args.amp}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print("batch | s/shape | points/shape (min-max) | % of 129^3 | decoder s | bookkeeping s | "
          "marching cubes s | outside decoder | decoder points/s | faces | load")
    for b in args.batches:
        r = run_batch(decoder, b, rng, args.amp)
        print(f"{b:5d} | {r['s_per_shape']:7.2f} | {r['points_per_shape']:,.0f} ({r['min_points']:,}-{r['max_points']:,}) | "
              f"{100 * r['points_per_shape'] / DENSE:5.1f}% | {r['decoder_s']:.2f} | {r['bookkeeping_s']:.3f} | "
              f"{r['mc_s']:.3f} | {100 * r['outside_share']:.1f}% | {r['pts_per_s']:,.0f} | {r['faces']:,.0f} | "
              f"{os.getloadavg()[0]:.1f}   (analytic chair, not counted: {r['analytic_s']:.2f} s/shape)", flush=True)

if __name__ == "__main__":
    main()
