"""Optimisers and learning-rate schedules from `training.*` settings.

Adam at a constant 1e-4 is the paper's; AdamW with linear warmup and cosine decay is what
Vision Transformers trained from scratch need.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from vitocc.config import TrainingConfig
from vitocc.errors import UserError


def build_optimizer(model: nn.Module, cfg: TrainingConfig) -> torch.optim.Optimizer:
    """Adam or AdamW over the trainable parameters; AdamW spares biases and norm parameters
    (1-D tensors) and ViT tokens/embeddings from weight decay."""
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if cfg.optimizer == "adam":
        return torch.optim.Adam([p for _, p in params], lr=cfg.lr, weight_decay=cfg.weight_decay)
    no_decay = {"cls_token", "pos_embed", "reg_token", "dist_token"}
    decay = [p for n, p in params if p.ndim > 1 and n.rsplit(".", 1)[-1] not in no_decay]
    rest = [p for n, p in params if not (p.ndim > 1 and n.rsplit(".", 1)[-1] not in no_decay)]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr)


def lr_factor(step: int, schedule: str, warmup_steps: int, total_steps: int | None) -> float:
    """Multiplier of the base learning rate at `step` (0-based): linear warmup, then
    constant or cosine decay to zero at `total_steps`."""
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainingConfig,
                    total_steps: int | None) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step LambdaLR over `lr_factor`; cosine needs a known number of steps.

    The cosine reaches zero at `cfg.schedule_steps` when set, else at `total_steps` (the
    planned last step), so a run can stop early on the curve of a longer one.
    """
    total_steps = cfg.schedule_steps or total_steps
    if cfg.schedule == "cosine" and not total_steps:
        raise UserError("training.schedule=cosine needs a length",
                        "set training.max_steps, training.max_epochs or training.schedule_steps (or --max-steps)")
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, cfg.schedule, cfg.warmup_steps, total_steps))
