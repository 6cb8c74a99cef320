"""Point IoU of trained models on the train and validation splits: the generalisation gap.

For each run directory (or checkpoint), the same shapes per class of each split are scored
like training's validation (view `data.test_view`, all points of points.npz, threshold
`test.threshold`, no meshing). A train IoU well above the validation IoU means the model
memorises its training shapes, i.e. the data set is too small for it.

Run: python scripts/split_iou.py runs/resnet18-s0 runs/resnet18-n25 --per-class 8
"""

from __future__ import annotations

import argparse
import time

import torch

from vitocc.evaluation.point_iou import POINTS_BATCH, split_loader
from vitocc.training.distributed import DistContext
from vitocc.training.validation import ValidationSettings, validate


def split_iou(source: str, split: str, per_class: int, data_path: str | None) -> dict[str, float]:
    """{'val_loss', 'val_iou'} of `source` on the first `per_class` shapes per class of `split`."""
    model, cfg, loader = split_loader(source, split, ("points", "points_iou", "inputs"), per_class, data_path)
    device = torch.device("cpu")
    settings = ValidationSettings(cfg.training.amp, cfg.test.threshold, POINTS_BATCH)
    return validate(model, loader, device, settings, DistContext(0, 1, 0, device))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", help="run directories or checkpoints")
    parser.add_argument("--per-class", type=int, default=8, help="shapes per class and split")
    parser.add_argument("--splits", default="train,val")
    parser.add_argument("--data", default=None, help="data set folder (default: the run's)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    splits = args.splits.split(",")
    print("| run | " + " | ".join(f"{s} IoU" for s in splits) + " | gap |")
    print("|---|" + "---|" * (len(splits) + 1))
    for source in args.sources:
        start = time.perf_counter()
        ious = [split_iou(source, split, args.per_class, args.data)["val_iou"] for split in splits]
        gap = f"{ious[0] - ious[-1]:+.3f}" if len(ious) > 1 else ""
        print(f"| {source} | " + " | ".join(f"{v:.3f}" for v in ious) + f" | {gap} |"
              f"  ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
