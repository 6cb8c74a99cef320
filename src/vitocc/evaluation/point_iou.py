"""Point IoU of a trained model on a split, without meshing: the threshold sweep that picks
`test.threshold` (as the Occupancy Networks paper picked its 0.2 on validation) and the
train-vs-validation gap.

Shapes are scored like training's validation: view `data.test_view`, every point of
points.npz, logits in the precision meshes are made with (`generation.amp`). Each shape is
decoded once and the same logits are thresholded at every value, so a sweep's columns differ
only by the threshold. The mesh IoU of `vitocc evaluate` follows the point IoU closely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from vitocc.config import Config
from vitocc.devices import autocast
from vitocc.training.validation import decode_chunked, occupancy_iou

DEFAULT_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
POINTS_BATCH = 200_000  # decoder points per call


@dataclass
class ThresholdSweep:
    """Mean point IoU over `shapes` shapes at each threshold."""

    thresholds: tuple[float, ...]
    ious: list[float]
    shapes: int

    @property
    def best(self) -> float:
        """The threshold with the highest IoU (the first of equals)."""
        return self.thresholds[max(range(len(self.ious)), key=self.ious.__getitem__)]


def split_loader(source: str | Path | None, split: str, fields: tuple[str, ...], per_class: int | None = None,
                 data_path: str | Path | None = None,
                 device: torch.device | str = "cpu") -> tuple[torch.nn.Module, Config, torch.utils.data.DataLoader]:
    """The model of `source` (None: the shipped one) on `device` and a loader of the first
    `per_class` shapes per class of `split` (all for None), batches of 16 in a fixed order."""
    from vitocc.data.dataset import ShapeNetDataset
    from vitocc.data.loader import build_loader
    from vitocc.models import load_model

    device = torch.device(device)
    model, cfg = load_model(source, device)
    data = cfg.data
    data.max_models_per_class = per_class
    if data_path is not None:
        data.path = str(data_path)
    dataset = ShapeNetDataset(data.path, split, data, fields, image_mean=model.image_mean, image_std=model.image_std)
    return model, cfg, build_loader(dataset, 16, False, 0, device, 0)


def sweep_thresholds(source: str | Path | None, split: str = "val", thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                     per_class: int | None = None, data_path: str | Path | None = None,
                     device: torch.device | str = "cpu") -> ThresholdSweep:
    """Point IoU of `source` on `split` at each of `thresholds` (probabilities)."""
    from vitocc.data.loader import batch_to_device

    model, cfg, loader = split_loader(source, split, ("points_iou", "inputs"), per_class, data_path, device)
    thresholds = tuple(float(t) for t in thresholds)
    sums, count = torch.zeros(len(thresholds), dtype=torch.float64), 0
    with torch.no_grad(), autocast(torch.device(device), cfg.generation.amp, "generation.amp"):
        for batch in loader:
            batch = batch_to_device(batch, torch.device(device))
            logits = decode_chunked(model, batch["points_iou"], model.encode(batch["inputs"]), POINTS_BATCH).float()
            for i, threshold in enumerate(thresholds):
                sums[i] += occupancy_iou(logits, batch["points_iou.occ"], threshold).sum().item()
            count += len(logits)
    return ThresholdSweep(thresholds, (sums / max(count, 1)).tolist(), count)
