"""Schedules, validation IoU and devices."""

from __future__ import annotations

import math

import pytest
import torch

from vitocc.config import TrainingConfig
from vitocc.devices import amp_dtype, resolve_device
from vitocc.errors import UserError
from vitocc.training.schedules import build_optimizer, build_scheduler, lr_factor
from vitocc.training.validation import occupancy_iou


def test_lr_factor_warmup_then_cosine_or_constant():
    assert [lr_factor(s, "cosine", 4, 104) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor(54, "cosine", 4, 104) == pytest.approx(0.5)
    assert lr_factor(104, "cosine", 4, 104) == pytest.approx(0.0)
    assert lr_factor(10_000, "constant", 0, None) == 1.0


def test_adamw_spares_biases_and_cosine_needs_a_length():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    opt = build_optimizer(model, TrainingConfig(optimizer="adamw", weight_decay=0.1))
    assert [len(g["params"]) for g in opt.param_groups] == [1, 3]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    with pytest.raises(UserError, match="cosine needs a length"):
        build_scheduler(opt, TrainingConfig(schedule="cosine"), None)


def test_occupancy_iou_at_threshold():
    threshold = 0.2
    at = math.log(threshold / (1 - threshold))
    logits = torch.tensor([[at + 1e-3, at - 1e-3, 5.0, -5.0], [-9.0, -9.0, -9.0, -9.0]])
    occ = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(occupancy_iou(logits, occ, threshold), torch.tensor([1 / 3, 1.0]))


def test_devices_and_amp():
    assert resolve_device(-1) == torch.device("cpu")
    assert resolve_device(None) == (torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="--gpu 0: no CUDA GPU"):
            resolve_device(0)
    cpu = torch.device("cpu")
    assert amp_dtype(cpu, "auto") is None and amp_dtype(cpu, "bf16") == torch.bfloat16
    with pytest.raises(UserError, match="generation.amp=fp16 needs a CUDA GPU"):
        amp_dtype(cpu, "fp16", "generation.amp")
