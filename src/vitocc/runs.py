"""Where a run directory keeps its checkpoints, and how results name the weights that made
them. Torch-free, so that reading results does not pay for importing torch."""

from __future__ import annotations

import time
from pathlib import Path

BEST = "best.pt"  # the best validation IoU so far
LAST = "last.pt"  # the latest step, what --resume continues from
CHECKPOINT_NAMES = (BEST, LAST)  # preferred first


CONFIG_FILE = "config.yaml"


def require_run_dir(run_dir: str | Path) -> Path:
    """`run_dir` as a Path if it is a run directory (a folder with config.yaml); else a UserError
    that says which of the two it is not."""
    from vitocc.errors import UserError

    path = Path(run_dir)
    if not path.exists():
        raise UserError(f"{path} does not exist", "pass the folder `vitocc train --out` made")
    if not (path / CONFIG_FILE).is_file():
        raise UserError(f"{path} is not a run directory (no {CONFIG_FILE})", "pass the folder `vitocc train --out` made")
    return path


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints"


def find_checkpoint(run_dir: str | Path) -> Path | None:
    """checkpoints/best.pt of a run directory, else checkpoints/last.pt, else None."""
    for name in CHECKPOINT_NAMES:
        path = checkpoint_dir(run_dir) / name
        if path.is_file():
            return path
    return None


def describe_checkpoint(path: str | Path) -> dict[str, str]:
    """{'path', 'modified'} of a weights file: the record of which weights made a result."""
    modified = time.localtime(Path(path).stat().st_mtime)
    return {"path": str(path), "modified": time.strftime("%Y-%m-%dT%H:%M:%S", modified)}
