"""Validation without meshing: training loss on the subsampled points and IoU on `points_iou`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vitocc.config import Config
from vitocc.data.loader import batch_to_device, take_broken
from vitocc.devices import autocast
from vitocc.models.decoder import logit
from vitocc.models.onet import OccupancyNetwork, occupancy_loss
from vitocc.training.distributed import DistContext, all_reduce_sum


def occupancy_iou(logits: torch.Tensor, occ: torch.Tensor, threshold: float) -> torch.Tensor:
    """IoU per shape (B,) of predicted occupancy (probability >= `threshold`) and ground truth.

    logits, occ: (B, N). Two empty sets count as IoU 1.
    """
    pred = logits >= logit(threshold)
    gt = occ >= 0.5
    inter = (pred & gt).sum(-1).float()
    union = (pred | gt).sum(-1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


@torch.no_grad()
def decode_chunked(model: OccupancyNetwork, points: torch.Tensor, c: torch.Tensor, points_batch: int) -> torch.Tensor:
    """Logits (B, N) of points (B, N, 3), at most about `points_batch` points per decoder call."""
    step = max(1, points_batch // points.shape[0])
    return torch.cat([model.decode(p, c) for p in points.split(step, dim=1)], dim=1)


@dataclass(frozen=True)
class ValidationSettings:
    """How validation scores: precision, IoU threshold, decoder points per call, batches, broken shapes."""

    amp: str  # training.amp
    threshold: float  # test.threshold
    points_batch: int  # generation.points_batch
    max_batches: int | None = None  # None: the whole split
    skip_broken: bool = False

    @classmethod
    def of(cls, cfg: Config) -> ValidationSettings:
        """Training's validation settings of a config (training.amp, test.threshold, ...)."""
        return cls(cfg.training.amp, cfg.test.threshold, cfg.generation.points_batch, cfg.training.val_max_batches,
                   cfg.data.skip_broken)


@torch.no_grad()
def validate(model: nn.Module, loader: torch.utils.data.DataLoader, device: torch.device,
             settings: ValidationSettings, ctx: DistContext) -> dict[str, float]:
    """Mean loss (`points`, same units as the training loss) and IoU (`points_iou`) over the
    validation shapes of every process; the model is left in eval mode."""
    model.eval()
    loss_sum = iou_sum = count = 0.0
    for i, batch in enumerate(loader):
        if settings.max_batches is not None and i >= settings.max_batches:
            break
        take_broken(batch, settings.skip_broken)
        if "inputs" not in batch:
            continue
        batch = batch_to_device(batch, device)
        with autocast(device, settings.amp):
            c = model.encode(batch["inputs"])
            logits = model.decode(batch["points"], c)
            logits_iou = decode_chunked(model, batch["points_iou"], c, settings.points_batch)
        n = len(batch["inputs"])
        loss_sum += occupancy_loss(logits, batch["points.occ"]).item() * n
        iou_sum += occupancy_iou(logits_iou.float(), batch["points_iou.occ"], settings.threshold).sum().item()
        count += n
    loss_sum, iou_sum, count = all_reduce_sum([loss_sum, iou_sum, count], ctx)
    return {"val_loss": loss_sum / max(count, 1), "val_iou": iou_sum / max(count, 1)}
