"""The threshold sweep and split loader of evaluation.point_iou, on a tiny model over box data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from run_dirs import write_run
from vitocc.config import load_config
from vitocc.data import layout
from vitocc.evaluation.point_iou import sweep_thresholds
from vitocc.models import build_model


@pytest.fixture()
def tiny_run(tmp_path, box_dataset):
    cfg = load_config(None, ["model.encoder=resnet18", "model.c_dim=16", "model.hidden_size=16", "model.n_blocks=1",
                             "data.img_size=32", f"data.path={box_dataset}", "data.num_workers=0",
                             "generation.amp=off"])
    torch.manual_seed(0)
    return write_run(tmp_path / "run", cfg, build_model(cfg, pretrained=False))


def test_sweep_scores_every_shape_once_and_the_lowest_threshold_is_the_occupied_share(tiny_run, box_dataset):
    shapes = [m for c in layout.read_metadata(box_dataset) for m in layout.read_split_list(box_dataset / c, "val")]
    result = sweep_thresholds(tiny_run, "val", [1e-12, 0.5, 1 - 1e-12])
    assert result.shapes == len(shapes) > 0
    # everything is inside at threshold ~0: each shape's IoU is its occupied share of points_iou
    shares = [layout.read_points_npz(p, dtype=None)[1].mean() for p in sorted(box_dataset.glob("*/*/points.npz"))
              if p.parent.name in shapes]
    assert result.ious[0] == pytest.approx(np.mean(shares), abs=1e-6)
    assert result.ious[2] == pytest.approx(0.0, abs=1e-9)  # nothing is inside at ~1 (no empty GT here)
    assert result.best == 1e-12 or result.ious[1] >= result.ious[0]


def test_per_class_limits_the_shapes(tiny_run):
    assert sweep_thresholds(tiny_run, "val", [0.5], per_class=1).shapes == 2  # two classes, one shape each
