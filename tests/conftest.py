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


@pytest.fixture
def device():
    """The device of device-parametrised tests: $VITOCC_TEST_DEVICE (`cpu` by default; `cuda` in
    benchmarks/gpu_check.sh). Every test that takes this fixture is marked `device` (`pytest -m device`)."""
    import torch

    name = os.environ.get("VITOCC_TEST_DEVICE", "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        pytest.skip(f"VITOCC_TEST_DEVICE={name} but no CUDA GPU is visible")
    return torch.device(name)


def pytest_configure(config):
    config.addinivalue_line("markers", "device: runs on $VITOCC_TEST_DEVICE (the `device` fixture)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "device" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.device)
