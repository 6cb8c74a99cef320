"""Run directories written by the tests: config.yaml and checkpoints/last.pt of a given model.

The checkpoint holds only what `vitocc.models.load_model` reads (model weights and config),
as a checkpoint from `vitocc train` does among its other entries. Import it as
`from run_dirs import write_run` (tests/ is on sys.path through the root conftest).
"""

from __future__ import annotations

from pathlib import Path

import torch

from vitocc.config import Config, config_to_dict, save_config


def write_run(run: Path, cfg: Config, model: torch.nn.Module) -> Path:
    """Write `run`/config.yaml and `run`/checkpoints/last.pt for `model`; returns `run`."""
    save_config(cfg, run / "config.yaml")
    (run / "checkpoints").mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "config": config_to_dict(cfg)}, run / "checkpoints" / "last.pt")
    return run
