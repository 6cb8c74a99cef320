"""Point IoU of a trained model at several occupancy thresholds: pick `test.threshold` on the
validation split, as the Occupancy Networks paper picked its 0.2.

A command line over `vitocc.evaluation.point_iou.sweep_thresholds` (how shapes are scored is
written there).

Run: python scripts/threshold_sweep.py runs/resnet18-s0-18k [--split val] [--per-class 8]
"""

from __future__ import annotations

import argparse
import time

import torch

from vitocc.evaluation.point_iou import DEFAULT_THRESHOLDS, sweep_thresholds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=None, help="run directory or checkpoint (default: the shipped model)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--per-class", type=int, default=None, help="first N shapes per class (default: all)")
    parser.add_argument("--thresholds", default=",".join(map(str, DEFAULT_THRESHOLDS)))
    parser.add_argument("--data", default=None, help="data set folder (default: the run's)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    result = sweep_thresholds(args.source, args.split, [float(t) for t in args.thresholds.split(",")],
                              args.per_class, args.data)
    print(f"{args.source or 'shipped model'}, {args.split} split, {result.shapes} shapes, "
          f"{time.perf_counter() - start:.0f} s")
    print("| threshold | " + " | ".join(f"{t:g}" for t in result.thresholds) + " |")
    print("|---|" + "---|" * len(result.thresholds))
    print("| point IoU | " + " | ".join(f"**{v:.4f}**" if t == result.best else f"{v:.4f}"
                                        for t, v in zip(result.thresholds, result.ious)) + " |")


if __name__ == "__main__":
    main()
