"""Shared fixtures: the read-only box data set in the real layout, and no model-hub access."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from box_data import write_box_dataset

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test ever reaches a model hub


@pytest.fixture(scope="session")
def box_dataset(tmp_path_factory) -> Path:
    """A read-only 2-class box data set (4 models each: 2 train, 1 val, 1 test). Do not modify."""
    root = tmp_path_factory.mktemp("box_dataset") / "ShapeNet"
    return write_box_dataset(root, {"03001627": "chair", "04379243": "table"})
