"""Photos with backgrounds: what the automatic cut (generation.segment) wins back, on 20 composited pictures.

20 fresh synthetic shapes (the first of each of the 13 classes, then the second of the first 7;
seed `--seed`, never seen in training, exact meshes and occupancy known, as
benchmarks/real_style.py makes them) are lit from the upper left (real_style's SIDE_LIGHT, so
that the object casts a shadow) and composited over backgrounds that no training run uses,
one per picture in turn, each with the object's soft cast shadow on its floor and wall:

    room       a wooden plank floor and a beige wall (real_style's)
    gradient   a studio gradient (real_style's colours) on the floor and wall
    stone      a mottled grey-green stone floor and wall (a texture, not a smooth backdrop)

Rows: the same pictures on white with the training light (plain, synth light) and with the
side light (plain, side light: the reference for the composites, since only the background
and its shadow differ from it), then the composites as `vitocc reconstruct --keep-background`
makes them (today's pipeline) and as the default pipeline makes them (the cut). Scored as
real_style.py does (IoU on 20k uniform points, exact GT). "lost" is the IoU lost against the
plain side-light row; the issue's target is that the default loses at most a third of what
--keep-background loses.

    python benchmarks/backgrounds.py [--checkpoint RUN|CKPT|model.safetensors] [--seed 2026] \
        [--out docs/images/backgrounds.png]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep (shared CPU)

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_style as rs  # noqa: E402  (the real-style study's shapes and renderer)
from vitocc.metrics import evaluate_mesh  # noqa: E402

BACKGROUNDS = ("room", "gradient", "stone")
N_SHAPES = 20


def pick_shapes(seed: int) -> list[rs.TestShape]:
    """The first shape of each class, then the second of the first classes: N_SHAPES in all."""
    shapes = rs.make_shapes(2, seed)
    return (shapes[0::2] + shapes[1::2])[:N_SHAPES]


def composite(shape: rs.TestShape, background: str, rng: np.random.Generator) -> np.ndarray:
    """(S, S, 3) uint8: the shape under the side light over `background`, with its cast shadow."""
    view = rs.View(light=rs.SIDE_LIGHT, background="room" if background == "room" else "shadow")
    picture = rs.take_picture(shape, view, rng)
    if background == "room":
        return picture.image
    # The white sweep's picture holds the shadow as a darkening of 250: repaint the sweep, keep the object.
    world = rs.cameras.world_matrix(shape.distance, shape.elevation, shape.azimuth)
    sweep = rs.backdrop(shape, world, rs.cameras.camera_matrix(), view, rs.SIDE_LIGHT, rng)  # 250 * (1 - shadow)
    darkening = sweep / 250.0
    size = picture.image.shape[0]
    rows = np.linspace(0.0, 1.0, size)[:, None, None]
    cols = np.linspace(0.0, 1.0, size)[None, :, None]
    if background == "gradient":
        paint = (1 - rows) * np.array([140, 158, 184]) + rows * np.array([226, 210, 186]) + 12.0 * (cols - 0.5)
    else:  # stone: a few octaves of value noise in grey-green
        noise = np.zeros((size, size))
        for octave in range(1, 5):
            cells = 4 * 2**octave
            coarse = rng.uniform(-1, 1, (cells, cells))
            noise += np.asarray(Image.fromarray(coarse.astype(np.float32)).resize((size, size), Image.BICUBIC)) / octave
        paint = np.array([128, 134, 118])[None, None] * (1.0 + 0.25 * noise[..., None])
    behind = paint * darkening
    coverage = picture.coverage[..., None]
    image = picture.image * coverage + behind * (1 - coverage)  # object pixels from the render, the rest repainted
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def score(model, gen, shapes, pictures, seed: int, cut: bool) -> tuple[list[float], list]:
    from vitocc.generation.reconstruct import reconstruct_images

    results = reconstruct_images([Image.fromarray(p) for p in pictures], model, gen, colour=False, cut_background=cut)
    ious = [evaluate_mesh(mesh.vertices, mesh.faces, shape.gt, np.random.default_rng(seed), rs.N_POINTS).iou
            for shape, (mesh, _) in zip(shapes, results)]
    return ious, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="run dir, .pt or .safetensors (default: the shipped model)")
    parser.add_argument("--seed", type=int, default=2026, help="shapes and backgrounds; the data set used seed 0")
    parser.add_argument("--out", default="docs/images/backgrounds.png", help="contact sheet PNG")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("vitocc").setLevel(logging.ERROR)

    from vitocc.io import atomic_path
    from vitocc.models import load_model
    from vitocc.render import contact_sheet

    start = time.perf_counter()
    model, cfg = load_model(args.checkpoint)
    shapes = pick_shapes(args.seed)
    print(f"backgrounds benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {rs.model_label(args.checkpoint)}, "
          f"{len(shapes)} shapes (seed {args.seed})", flush=True)
    rng = np.random.default_rng(args.seed)
    plain = [rs.take_picture(s, rs.View(), rng).image for s in shapes]
    plain_side = [rs.take_picture(s, rs.View(light=rs.SIDE_LIGHT), rng).image for s in shapes]
    composites = [composite(s, BACKGROUNDS[i % len(BACKGROUNDS)], rng) for i, s in enumerate(shapes)]
    rows = {}
    rows["plain, synth light"], _ = score(model, cfg.generation, shapes, plain, args.seed, True)
    rows["plain, side light"], _ = score(model, cfg.generation, shapes, plain_side, args.seed, True)
    rows["composite, --keep-background (today)"], kept = score(model, cfg.generation, shapes, composites, args.seed, False)
    t0 = time.perf_counter()
    rows["composite, default (cut)"], cut = score(model, cfg.generation, shapes, composites, args.seed, True)
    cut_seconds = (time.perf_counter() - t0) / len(shapes)
    reference = np.mean(rows["plain, side light"])
    print("| pictures | IoU | lost vs plain side light (± s.e.) |")
    print("|---|---:|---:|")
    for name, ious in rows.items():
        diff = np.asarray(rows["plain, side light"]) - np.asarray(ious)
        print(f"| {name} | {np.mean(ious):.3f} | {np.mean(diff):+.3f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.3f} |")
    lost_before = reference - np.mean(rows["composite, --keep-background (today)"])
    lost_after = reference - np.mean(rows["composite, default (cut)"])
    print(f"share of today's loss that remains: {lost_after / lost_before:.2f} (target <= 0.33); "
          f"per background: " + ", ".join(
              f"{b} {np.mean(rows['composite, default (cut)'][i::3]):.3f} vs kept "
              f"{np.mean(rows['composite, --keep-background (today)'][i::3]):.3f}" for i, b in enumerate(BACKGROUNDS)))
    print(f"default pipeline on a composite: {cut_seconds:.2f} s per picture (cut + mesh)")
    tiles = []
    for i in range(min(6, len(shapes))):
        size = 128
        panels = [np.asarray(Image.fromarray(composites[i]).resize((size, size))),
                  np.asarray(kept[i][1].picture.resize((size, size))), np.asarray(cut[i][1].picture.resize((size, size)))]
        tiles.append(np.concatenate(panels, axis=1))
    with atomic_path(Path(args.out)) as tmp:
        Image.fromarray(contact_sheet(tiles, columns=2)).save(tmp, format="PNG", optimize=True)
    print(f"sheet (composite, what the model saw with --keep-background, with the cut): {args.out}; "
          f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
