"""Every model of a data set split to a mesh, as the evaluation protocol prescribes (view
`data.test_view`): RUN_DIR/generation/<split>/meshes/<class>/<model>.obj, the input pictures in
inputs/, and stats.json with the time of every stage (paths from `vitocc.runs.RunDir`).

`plan_split` loads the model and lists the split; `generate_split` runs the plan with typed
generation settings (the plan's config unless given) and returns `runs.GenerationStats`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vitocc.config import Config, GenerationConfig
from vitocc.generation.generate import STAGES, generate_meshes
from vitocc.runs import GenerationStats, RunDir

log = logging.getLogger(__name__)


@dataclass
class SplitPlan:
    """A split ready to generate: the model (on `device`), its config, the shapes, where they go."""

    run: RunDir
    split: str
    model: torch.nn.Module
    cfg: Config
    dataset: Any  # ShapeNetDataset with the `inputs` field
    checkpoint: dict[str, str]  # describe_checkpoint of the weights
    device: torch.device
    seconds: float  # loading the model and listing the split


def plan_split(run_dir: str | Path, split: str = "test", source: str | Path | None = None,
               data: str | Path | None = None, device: torch.device | str = "cpu") -> SplitPlan:
    """Load the weights of `source` (default: the run's best, else last checkpoint) and list
    `split` of `data` (default: `data.path` of the model's config)."""
    from vitocc.data.dataset import ShapeNetDataset
    from vitocc.models import load_model
    from vitocc.models.loading import checkpoint_file
    from vitocc.runs import describe_checkpoint

    start = time.perf_counter()
    weights = checkpoint_file(source if source is not None else run_dir)
    model, cfg = load_model(weights, device)
    dataset = ShapeNetDataset(Path(data) if data is not None else Path(cfg.data.path), split, cfg.data,
                              fields=("inputs",), image_mean=model.image_mean, image_std=model.image_std)
    return SplitPlan(RunDir(run_dir), split, model, cfg, dataset, describe_checkpoint(weights),
                     torch.device(device), time.perf_counter() - start)


def generate_split(plan: SplitPlan, gen: GenerationConfig | None = None, overwrite: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> GenerationStats:
    """Generate the mesh of every shape of the plan (kept on disk unless `overwrite`) with `gen`
    (default: the plan's `generation` settings); `progress(done, total)` after every batch.

    The stats are written to generation/<split>/stats.json, unless this call generated nothing
    (then the file keeps the figures of the run that made the meshes).
    """
    start = time.perf_counter()
    gen = gen or plan.cfg.generation
    shapes = plan.dataset.shapes
    todo = [i for i, s in enumerate(shapes) if overwrite or not plan.run.mesh(plan.split, s.class_id, s.model_id).is_file()]
    stats_path = plan.run.generation_stats(plan.split)
    if todo:
        _warn_if_other_checkpoint(stats_path, plan.checkpoint["path"], len(shapes) - len(todo))
    seconds, per_shape, failed = dict.fromkeys(STAGES, 0.0), [], []
    if progress:
        progress(0, len(todo))
    for first in range(0, len(todo), gen.batch_size):
        keys = todo[first:first + gen.batch_size]
        rows, errors = _generate_batch(plan, gen, keys, seconds)
        per_shape += rows
        failed += errors
        if progress:
            progress(min(first + gen.batch_size, len(todo)), len(todo))
    stats = _stats(plan, gen, per_shape, failed, len(todo), seconds, time.perf_counter() - start)
    if stats.generated or failed or not stats_path.is_file():
        from vitocc.io import write_json

        write_json(stats_path, stats.to_json())
    return stats


def _generate_batch(plan: SplitPlan, gen: GenerationConfig, keys: list[int],
                    seconds: dict[str, float]) -> tuple[list[dict], list[dict]]:
    """Load, generate and write the shapes `keys` of the plan; add stage times to `seconds`.
    Returns the per-shape rows and the failures (pictures that could not be read)."""
    from vitocc.data import layout
    from vitocc.io import write_bytes
    from vitocc.mesh_io import save_mesh

    t0 = time.perf_counter()
    items = plan.dataset.__getitems__(keys)
    failed = []
    for key, item in zip(keys, items):
        if "broken" in item:
            shape = plan.dataset.shapes[key]
            failed.append({"class_id": shape.class_id, "model_id": shape.model_id, "error": item["broken"]})
            log.error("%s", item["broken"])
    good = [item for item in items if "broken" not in item]
    seconds["load"] += time.perf_counter() - t0
    if not good:
        return [], failed
    rows = []
    data = plan.cfg.data
    for item, (mesh, info) in zip(good, generate_meshes(plan.model, torch.stack([it["inputs"] for it in good]),
                                                         gen, plan.device)):
        t1 = time.perf_counter()
        shape = plan.dataset.shapes[item["index"]]
        # The mesh last: a rerun skips the shapes whose mesh exists, so a process killed between the two writes
        # must leave the mesh missing (redone, input rewritten), not the input (never written again).
        picture = shape.folder / data.img_folder / layout.image_name(data.test_view)
        write_bytes(plan.run.input_picture(plan.split, shape.class_id, shape.model_id, picture.suffix),
                    picture.read_bytes())
        save_mesh(mesh, plan.run.mesh(plan.split, shape.class_id, shape.model_id))
        info.stages["write"] = time.perf_counter() - t1
        for stage, value in info.stages.items():
            seconds[stage] += value
        rows.append({"class_id": shape.class_id, "model_id": shape.model_id, "seconds": info.seconds,
                     "points_queried": info.points_queried, "vertices": info.vertices, "faces": info.faces,
                     "watertight": info.watertight})
    return rows, failed


def _stats(plan: SplitPlan, gen: GenerationConfig, per_shape: list[dict], failed: list[dict], todo: int,
           seconds: dict[str, float], run_seconds: float) -> GenerationStats:
    n = len(per_shape)
    total = plan.seconds + run_seconds
    return GenerationStats(
        split=plan.split, device=str(plan.device), checkpoint=plan.checkpoint, generation=dataclasses.asdict(gen),
        shapes=len(plan.dataset), generated=n, skipped=len(plan.dataset) - todo, failed=failed,
        seconds_total=total, seconds_setup=plan.seconds, seconds_per_shape=run_seconds / n if n else None,
        seconds_by_stage=seconds,
        points_queried_per_shape=sum(s["points_queried"] for s in per_shape) / n if n else None,
        dense_points=(gen.resolution0 * 2**gen.upsampling_steps + 1) ** 3,
        empty_meshes=sum(1 for s in per_shape if s["faces"] == 0),
        watertight_meshes=sum(1 for s in per_shape if s["watertight"]), per_shape=per_shape)


def _warn_if_other_checkpoint(stats_path: Path, checkpoint: str, kept: int) -> None:
    """Warn when meshes kept on disk were made by other weights than the ones generating now."""
    previous = GenerationStats.read(stats_path) if kept else None
    if previous is not None and previous.checkpoint.get("path") not in (None, checkpoint):
        log.warning("%d meshes in %s were made with %s, the new ones with %s: pass --overwrite to remake "
                    "them all with one checkpoint", kept, stats_path.parent, previous.checkpoint["path"], checkpoint)
