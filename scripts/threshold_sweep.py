"""Point IoU of a trained model at several occupancy thresholds: pick `test.threshold` on the
validation split, as the Occupancy Networks paper picked its 0.2.

Scores like training's validation (view `data.test_view`, every point of points.npz, no
meshing) but in the precision meshes are made with (`generation.amp`). Each shape is decoded
once and the same logits are thresholded at every value, so the columns differ only by the
threshold. The mesh IoU of `vitocc evaluate` follows the point IoU closely (MISE loses little).

Run: python scripts/threshold_sweep.py runs/resnet18-s0-18k [--split val] [--per-class 8]
"""

from __future__ import annotations

import argparse
import time

import torch

from split_iou import split_loader  # scripts/ is on the path when a script in it runs
from vitocc.devices import autocast
from vitocc.training.validation import decode_chunked, occupancy_iou

THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def sweep(source: str | None, split: str, per_class: int | None, thresholds: tuple[float, ...],
          data_path: str | None = None) -> tuple[int, list[float]]:
    """(shapes scored, mean point IoU at each threshold) of `source` (None: the shipped model)."""
    model, cfg, loader = split_loader(source, split, per_class, data_path, ("points_iou", "inputs"))
    sums, count = torch.zeros(len(thresholds), dtype=torch.float64), 0
    with torch.no_grad(), autocast(torch.device("cpu"), cfg.generation.amp):
        for batch in loader:
            logits = decode_chunked(model, batch["points_iou"], model.encode(batch["inputs"]), 200_000).float()
            for i, threshold in enumerate(thresholds):
                sums[i] += occupancy_iou(logits, batch["points_iou.occ"], threshold).sum().item()
            count += len(logits)
    return count, (sums / max(count, 1)).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=None, help="run directory or checkpoint (default: the shipped model)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--per-class", type=int, default=None, help="first N shapes per class (default: all)")
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)))
    parser.add_argument("--data", default=None, help="data set folder (default: the run's)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    thresholds = tuple(float(t) for t in args.thresholds.split(","))
    start = time.perf_counter()
    count, ious = sweep(args.source, args.split, args.per_class, thresholds, args.data)
    best = max(range(len(ious)), key=ious.__getitem__)
    print(f"{args.source or 'shipped model'}, {args.split} split, {count} shapes, "
          f"{time.perf_counter() - start:.0f} s")
    print("| threshold | " + " | ".join(f"{t:g}" for t in thresholds) + " |")
    print("|---|" + "---|" * len(thresholds))
    print("| point IoU | " + " | ".join(f"**{v:.3f}**" if i == best else f"{v:.3f}" for i, v in enumerate(ious)) + " |")


if __name__ == "__main__":
    main()
