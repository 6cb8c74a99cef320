"""The run directory: every path in it, and how results name the weights that made them.

This module is the one place that spells out the layout (docs/design.md section 4)::

    RUN/config.yaml  log.jsonl  checkpoints/{best,last}.pt
    RUN/generation/<split>/meshes/<class>/<model>.obj  inputs/<class>/<model>.<ext>  stats.json
    RUN/evaluation/<split>/per_shape.csv  per_class.csv  summary.json  cache/<class>/<model>.json

Torch-free, so that reading results does not pay for importing torch.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BEST = "best.pt"  # the best validation IoU so far
LAST = "last.pt"  # the latest step, what --resume continues from
CHECKPOINT_NAMES = (BEST, LAST)  # preferred first
CONFIG_FILE = "config.yaml"


class RunDir:
    """The paths of one run directory (none is created here)."""

    __slots__ = ("root",)

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r})"

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def log(self) -> Path:
        return self.root / "log.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def generation(self, split: str) -> Path:
        return self.root / "generation" / split

    def mesh(self, split: str, class_id: str, model_id: str) -> Path:
        """The mesh `vitocc mise` makes of one shape (view 000 as input)."""
        return self.generation(split) / "meshes" / class_id / f"{model_id}.obj"

    def input_picture(self, split: str, class_id: str, model_id: str, suffix: str) -> Path:
        """A copy of the picture the mesh was made from."""
        return self.generation(split) / "inputs" / class_id / f"{model_id}{suffix}"

    def generation_stats(self, split: str) -> Path:
        return self.generation(split) / "stats.json"

    def evaluation(self, split: str) -> Path:
        return self.root / "evaluation" / split

    def per_shape(self, split: str) -> Path:
        return self.evaluation(split) / "per_shape.csv"

    def per_class(self, split: str) -> Path:
        return self.evaluation(split) / "per_class.csv"

    def summary(self, split: str) -> Path:
        return self.evaluation(split) / "summary.json"

    def eval_cache(self, split: str, class_id: str, model_id: str) -> Path:
        """One shape's cached metrics, keyed by its mesh and the settings."""
        return self.evaluation(split) / "cache" / class_id / f"{model_id}.json"


def shipped_model_dir() -> Path:
    """Folder of the model shipped inside the package (model.safetensors + config.yaml; may be absent)."""
    from importlib import resources

    return Path(str(resources.files("vitocc"))) / "assets" / "model"


def require_run_dir(run_dir: str | Path) -> Path:
    """`run_dir` as a Path if it is a run directory (a folder with config.yaml); else a UserError
    that says which of the two it is not."""
    from vitocc.errors import UserError

    path = Path(run_dir)
    if not path.exists():
        raise UserError(f"{path} does not exist", "pass the folder `vitocc train --out` made")
    if not RunDir(path).config.is_file():
        raise UserError(f"{path} is not a run directory (no {CONFIG_FILE})", "pass the folder `vitocc train --out` made")
    return path


def find_checkpoint(run_dir: str | Path) -> Path | None:
    """checkpoints/best.pt of a run directory, else checkpoints/last.pt, else None."""
    for name in CHECKPOINT_NAMES:
        path = RunDir(run_dir).checkpoints / name
        if path.is_file():
            return path
    return None


def describe_checkpoint(path: str | Path) -> dict[str, str]:
    """{'path', 'modified'} of a weights file: the record of which weights made a result."""
    modified = time.localtime(Path(path).stat().st_mtime)
    return {"path": str(path), "modified": time.strftime("%Y-%m-%dT%H:%M:%S", modified)}


@dataclass
class GenerationStats:
    """What `generate_split` did, as written to generation/<split>/stats.json."""

    split: str
    device: str
    checkpoint: dict[str, str]
    generation: dict[str, Any]  # the GenerationConfig used
    shapes: int
    generated: int
    skipped: int  # meshes already on disk
    failed: list[dict[str, str]]  # class_id, model_id, error
    seconds_total: float
    seconds_setup: float
    seconds_per_shape: float | None
    seconds_by_stage: dict[str, float]
    points_queried_per_shape: float | None
    dense_points: int
    empty_meshes: int
    watertight_meshes: int
    per_shape: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def read(cls, path: Path) -> GenerationStats | None:
        """The stats in `path`, or None when it is missing or not such a file (older or damaged)."""
        try:
            data = json.loads(path.read_text())
            return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})
        except (OSError, ValueError, KeyError, TypeError):
            return None
