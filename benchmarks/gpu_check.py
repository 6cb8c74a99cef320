"""Helpers of benchmarks/gpu_check.sh: measurements on one device, and one JSON file of figures.

    python benchmarks/gpu_check.py record OUT.json KEY VALUE      (VALUE parsed as JSON when it can be)
    python benchmarks/gpu_check.py train-rate RUN_DIR OUT.json KEY  (samples/s from RUN_DIR/log.jsonl)
    python benchmarks/gpu_check.py mise OUT.json --device cuda --batches 1 8 32 [--resolution 32]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def record(out: Path, key: str, value) -> None:
    """Set `key` (dots make nested objects) in the JSON file `out` (created if missing)."""
    data = json.loads(out.read_text()) if out.is_file() else {}
    node = data
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    out.write_text(json.dumps(data, indent=2) + "\n")


def train_rate(run_dir: Path) -> dict:
    """Median samples/s and steps/s of a run's log rows after the first (which holds the warm-up)."""
    import yaml

    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    rates = [r["samples_per_s"] for r in rows if "samples_per_s" in r][1:]
    if not rates:
        raise SystemExit(f"{run_dir}/log.jsonl has fewer than 2 rows with samples_per_s")
    batch = yaml.safe_load((run_dir / "config.yaml").read_text())["training"]["batch_size"]
    samples = statistics.median(rates)
    return {"samples_per_s": round(samples, 2), "steps_per_s": round(samples / batch, 3), "batch_size": batch,
            "log_rows": len(rates)}


def mise_rates(device_name: str, batches: list[int], resolution: int, repeats: int) -> dict:
    """Shapes/s of generate_meshes (encoder, batched MISE, marching cubes) with the shipped model
    on the example pictures at each batch size, under the model's default generation settings."""
    import dataclasses

    import torch

    from vitocc.data.transforms import image_to_tensor
    from vitocc.generation import generate_meshes, load_image
    from vitocc.models import load_model

    device = torch.device(device_name)
    model, cfg = load_model(None, device)
    gen = dataclasses.replace(cfg.generation, resolution0=resolution)
    pictures = [image_to_tensor(load_image(p), model.image_size, model.image_mean, model.image_std)
                for p in sorted((ROOT / "examples").glob("*.png"))]
    out = {"generation": dataclasses.asdict(gen), "device": str(device)}
    generate_meshes(model, torch.stack(pictures[:1]), gen, device)  # warm-up (kernels, allocator)
    for b in batches:
        gen_b = dataclasses.replace(gen, batch_size=b)
        images = torch.stack([pictures[i % len(pictures)] for i in range(b)])
        times, mise_s = [], []
        for _ in range(repeats):
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            results = generate_meshes(model, images, gen_b, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
            mise_s.append(sum(info.stages["mise_decoder"] + info.stages["mise_other"] for _, info in results))
        best = min(times)
        out[f"batch_{b}"] = {"shapes_per_s": round(b / best, 2), "seconds_per_batch": round(best, 3),
                             "mise_seconds_per_shape": round(min(mise_s) / b, 4),
                             "faces_mean": round(statistics.mean(info.faces for _, info in results))}
        print(f"MISE batch {b}: {b / best:.2f} shapes/s ({best:.2f} s per batch)", flush=True)
    out["folded_against_plain"] = _folded_against_plain(model, images, gen_b, device, repeats)
    return out


def _folded_against_plain(model, images, gen, device, repeats: int) -> dict:
    """The decoder's folded inference form against its plain layers (`decoder.fold = False`) in MISE on the
    last batch, interleaved: seconds of MISE's decoder per shape and the largest face-count difference."""
    import torch

    from vitocc.generation import generate_meshes

    seconds, faces = {"folded": [], "plain": []}, {}
    for _ in range(repeats):
        for name, fold in (("folded", True), ("plain", False)):
            model.decoder.fold = fold
            results = generate_meshes(model, images, gen, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds[name].append(sum(info.stages["mise_decoder"] for _, info in results) / len(results))
            faces[name] = [info.faces for _, info in results]
    model.decoder.fold = True
    folded, plain = min(seconds["folded"]), min(seconds["plain"])
    print(f"MISE decoder per shape: folded {folded:.4f} s, plain {plain:.4f} s ({plain / folded:.2f}x)", flush=True)
    return {"decoder_seconds_per_shape_folded": round(folded, 4), "decoder_seconds_per_shape_plain": round(plain, 4),
            "plain_over_folded": round(plain / folded, 3),
            "max_face_difference": max(abs(a - b) for a, b in zip(faces["folded"], faces["plain"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("record")
    p.add_argument("out", type=Path)
    p.add_argument("key")
    p.add_argument("value")
    p = sub.add_parser("train-rate")
    p.add_argument("run_dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("key")
    p = sub.add_parser("mise")
    p.add_argument("out", type=Path)
    p.add_argument("--device", default="cuda")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.cmd == "record":
        try:
            value = json.loads(args.value)
        except ValueError:
            value = args.value
        record(args.out, args.key, value)
    elif args.cmd == "train-rate":
        rate = train_rate(args.run_dir)
        record(args.out, args.key, rate)
        print(f"{args.key}: {rate}")
    else:
        record(args.out, "mise", mise_rates(args.device, args.batches, args.resolution, args.repeats))


if __name__ == "__main__":
    main()
