"""A tiny training configuration over the shared box data set."""

from __future__ import annotations

import pytest
import torch

from box_data import write_box_dataset
from vitocc.config import load_config

TINY_TRAINING = [
    "model.encoder=vit_tiny_patch16_224", "data.img_size=32", "model.hidden_size=32", "model.c_dim=32",
    "model.n_blocks=2", "data.points_subsample=64", "data.n_views=3", "data.num_workers=0",
    "training.batch_size=2", "training.lr=1e-3", "training.log_every=1", "training.validate_every=2",
    "training.checkpoint_every=2", "training.threads=1", "generation.points_batch=4096",
]


@pytest.fixture
def tiny_overrides(box_dataset) -> list[str]:
    """`--set` overrides of a model and run small enough for a few CPU steps per second."""
    return TINY_TRAINING + [f"data.path={box_dataset}"]


@pytest.fixture
def tiny_cfg(tiny_overrides):
    return load_config(None, tiny_overrides)


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def write_boxes():
    """`box_data.write_box_dataset`, for tests that write their own data set."""
    return write_box_dataset
