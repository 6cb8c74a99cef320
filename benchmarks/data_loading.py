"""Training data loader throughput: samples/s with 0, 1 and 2 worker processes.

Writes a data set of real-size files (points.npz with 100k points, 24 JPEG views of
137x137, cameras) into a temporary folder, then times full training batches (2048 points +
one image resized to the encoder size) through `vitocc.data.loader.build_loader`.

Run: python benchmarks/data_loading.py [--shapes 64] [--img-size 224] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from vitocc.config import DataConfig
from vitocc.data import cameras, layout
from vitocc.data.dataset import ShapeNetDataset
from vitocc.data.loader import build_loader

SYNSET = "03001627"


def write_dataset(root: Path, n_shapes: int, n_views: int, rng: np.random.Generator) -> None:
    """`n_shapes` spheres of random radius in the real layout, with blob images (JPEG like the renders)."""
    ids = [f"shape{i:04d}" for i in range(n_shapes)]
    layout.write_metadata(root, {SYNSET: "chair"})
    layout.write_split_lists(root / SYNSET, {"train": ids, "val": [], "test": []})
    for model in ids:
        folder = root / SYNSET / model
        points = rng.uniform(-0.55, 0.55, (100_000, 3))
        occ = np.linalg.norm(points, axis=1) < rng.uniform(0.2, 0.5)
        layout.write_points_npz(folder / layout.POINTS_FILE, points, occ)
        img_dir = folder / layout.IMG_FOLDER
        img_dir.mkdir(parents=True)
        for v in range(n_views):
            image = Image.new("RGB", (137, 137), "white")
            draw = ImageDraw.Draw(image)
            for _ in range(4):
                x, y = rng.integers(20, 117, 2)
                r = int(rng.integers(8, 30))
                draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
            image.save(img_dir / layout.image_name(v), quality=90)
        world, cams = cameras.sample_cameras(n_views, rng)
        layout.write_cameras_npz(img_dir / layout.CAMERAS_FILE, world, cams)


def stage_ms(root: Path, img_size: int, repeats: int = 200) -> dict[str, float]:
    """Milliseconds per item of each loading stage, in this process."""
    from vitocc.data.dataset import _load_image
    from vitocc.data.transforms import image_to_tensor

    data = ShapeNetDataset(root, "train", DataConfig(img_size=img_size), fields=("points", "inputs"), train=True)
    folder = data.shapes[0].folder
    image = _load_image(folder / layout.IMG_FOLDER / "000.jpg")
    items = [data[(i % len(data), i)] for i in range(32)]
    stages = {
        "read points.npz": lambda: layout.read_points_npz(folder / layout.POINTS_FILE, dtype=None),
        "decode JPEG": lambda: _load_image(folder / layout.IMG_FOLDER / "000.jpg"),
        "resize + normalise": lambda: image_to_tensor(image, img_size, (0.5,) * 3, (0.5,) * 3),
        "whole item": lambda: data[(0, 1)],
        "collate (per item)": lambda: torch.utils.data.default_collate(items),
    }
    out = {}
    for name, fn in stages.items():
        n = repeats // 32 if name.startswith("collate") else repeats
        start = time.perf_counter()
        for _ in range(n):
            fn()
        out[name] = (time.perf_counter() - start) / n * 1000 / (32 if name.startswith("collate") else 1)
    return out


def samples_per_second(root: Path, workers: int, img_size: int, batch_size: int, epochs: int) -> float:
    cfg = DataConfig(img_size=img_size, n_views=24)
    data = ShapeNetDataset(root, "train", cfg, fields=("points", "inputs"), train=True)
    loader = build_loader(data, batch_size, shuffle=True, num_workers=workers, device=torch.device("cpu"), seed=0)
    loader.sampler.set_epoch(0)
    for _ in loader:  # warm-up: workers started, files in the page cache
        pass
    start, n = time.perf_counter(), 0
    for epoch in range(1, epochs + 1):
        loader.sampler.set_epoch(epoch)
        for batch in loader:
            n += len(batch["inputs"])
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=int, default=64)
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ShapeNet"
        start = time.perf_counter()
        write_dataset(root, args.shapes, 24, np.random.default_rng(0))
        print(f"wrote {args.shapes} shapes (100k points, 24 views each) in {time.perf_counter() - start:.1f} s")
        stages = stage_ms(root, args.img_size)
        print("per item, one process: " + ", ".join(f"{k} {v:.2f} ms" for k, v in stages.items()))
        for workers in args.workers:
            rate = samples_per_second(root, workers, args.img_size, args.batch_size, args.epochs)
            per = f", {rate / workers:.0f} per worker" if workers else ""
            print(f"{workers} workers, img_size {args.img_size}, batch {args.batch_size}: "
                  f"{rate:.0f} samples/s{per}")


if __name__ == "__main__":
    main()
