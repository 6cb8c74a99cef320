"""Decoder precision on the CPU with the shipped model (issue 17, point 3: options, not defaults).

For the example pictures, in one batch, at the model's default generation settings, interleaved
repeats of: fp32 (today's CPU default), bf16 autocast (`generation.amp=bf16`, for CPUs with
native bf16), and int8 dynamic quantisation of the decoder's point-wise Linear layers (the
per-shape gamma/beta layers stay fp32). Printed per variant: seconds per shape (encoder + MISE +
marching cubes), the speed-up over fp32 of the same run, and quality against the fp32 meshes:
the symmetric mean nearest-vertex distance in voxels of the 128^3 lattice (issue 17 asks for
<= 1/8 voxel), face counts, and IoU against the examples' ground truth (examples/gt/*/points.npz).

    python benchmarks/decoder_precision.py [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import statistics
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the commands set it, before torch loads

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

from vitocc.data import layout  # noqa: E402
from vitocc.data.transforms import image_to_tensor  # noqa: E402
from vitocc.generation import generate_meshes, load_image  # noqa: E402
from vitocc.metrics import inside_mesh, iou  # noqa: E402
from vitocc.models import load_model  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def quantized_decoder(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model` whose decoder's point-wise Linear layers are int8 (dynamic quantisation)."""
    from torch.ao.quantization import quantize_dynamic

    out = copy.deepcopy(model)
    names = {n for n, m in out.decoder.named_modules()
             if isinstance(m, torch.nn.Linear) and not n.endswith((".gamma", ".beta"))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates its quantized tensors in favour of torchao
        out.decoder = quantize_dynamic(out.decoder, names, dtype=torch.qint8)
    out.decoder.fold = False  # the folded form reads float weights; the int8 layers run as modules
    return out


def vertex_distance_voxels(a, b, voxel: float) -> float:
    """Symmetric mean nearest-vertex distance between meshes a and b, in voxels."""
    if len(a.vertices) == 0 or len(b.vertices) == 0:
        return float("inf") if len(a.vertices) != len(b.vertices) else 0.0
    d_ab = cKDTree(b.vertices).query(a.vertices)[0].mean()
    d_ba = cKDTree(a.vertices).query(b.vertices)[0].mean()
    return float((d_ab + d_ba) / 2 / voxel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, cfg = load_model(None)
    gen = cfg.generation
    pictures = sorted(EXAMPLES.glob("*.png"))
    images = torch.stack([image_to_tensor(load_image(p), model.image_size, model.image_mean, model.image_std)
                          for p in pictures])
    variants = {"fp32": (model, dataclasses.replace(gen, amp="off")),
                "bf16 autocast": (model, dataclasses.replace(gen, amp="bf16")),
                "int8 dynamic": (quantized_decoder(model), dataclasses.replace(gen, amp="off"))}
    voxel = (1 + gen.padding) / (gen.resolution0 * 2**gen.upsampling_steps)
    print(f"torch {torch.__version__}, {args.threads} threads, {len(pictures)} pictures in one batch, r0 "
          f"{gen.resolution0}, {gen.upsampling_steps} upsampling steps, threshold {gen.threshold}; "
          f"load average {os.getloadavg()[0]:.1f}")
    generate_meshes(model, images[:1], variants["fp32"][1])  # warm-up
    seconds = {name: [] for name in variants}
    meshes = {}
    for _ in range(args.repeats):
        for name, (m, g) in variants.items():
            t0 = time.perf_counter()
            meshes[name] = [mesh for mesh, _ in generate_meshes(m, images, g)]
            seconds[name].append((time.perf_counter() - t0) / len(pictures))
    gts = [layout.read_points_npz(EXAMPLES / "gt" / p.stem / layout.POINTS_FILE) for p in pictures]
    base = statistics.median(seconds["fp32"])
    print("variant       | s/shape (runs)              | vs fp32 | nearest-vertex distance to fp32, voxels "
          "(mean / max) | faces vs fp32 | IoU vs GT (mean)")
    for name in variants:
        dist = [vertex_distance_voxels(a, b, voxel) for a, b in zip(meshes[name], meshes["fp32"])]
        faces = [len(a.faces) / max(1, len(b.faces)) for a, b in zip(meshes[name], meshes["fp32"])]
        ious = [iou(inside_mesh(m.vertices, m.faces, pts), occ) if len(m.faces) else 0.0
                for m, (pts, occ) in zip(meshes[name], gts)]
        runs = " ".join(f"{s:.2f}" for s in seconds[name])
        print(f"{name:13s} | {statistics.median(seconds[name]):5.2f} ({runs:18s}) | "
              f"{base / statistics.median(seconds[name]):5.2f}x | {np.mean(dist):.3f} / {np.max(dist):.3f}"
              f"{'':26s} | {min(faces):.3f}-{max(faces):.3f} | {np.mean(ious):.3f}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
