"""`vitocc evaluate`: the paper's metrics for every generated mesh of a run's split.

RUN_DIR/generation/<split>/meshes/<class>/<model>.obj against the GT of the data set
(points.npz, pointcloud.npz) -> RUN_DIR/evaluation/<split>/per_shape.csv, per_class.csv,
summary.json. Shapes are evaluated in worker processes; each result is cached in
evaluation/<split>/cache/<class>/<model>.json together with a hash of its mesh and the
settings, so a rerun (or a killed run started again) only evaluates what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vitocc import __version__, metrics
from vitocc.errors import UserError
from vitocc.evaluation import results
from vitocc.io import atomic_path, write_json
from vitocc.mesh_io import load_mesh
from vitocc.runs import GenerationStats, RunDir, describe_checkpoint, find_checkpoint, require_run_dir

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

SHAPE_COLUMNS = ("class_id", "class", "model_id", "vertices", "faces")


@dataclass(frozen=True)
class EvalSettings:
    """Everything that changes a per-shape result; part of every cache key."""

    n_points: int = metrics.N_SURFACE_POINTS
    thresholds: tuple[float, ...] = metrics.FSCORE_THRESHOLDS
    inside: str = "ray"
    seed: int = 0
    points_noise: float = metrics.POINTS_NOISE
    points_file: str = "points.npz"
    pointcloud_file: str = "pointcloud.npz"

    def metric_keys(self) -> list[str]:
        """The metric columns of per_shape.csv, in order."""
        return [k for k in results.METRICS if k != "chamfer_l1_x10"] + [
            m.key for m in results.fscore_metrics(self.thresholds)]


@dataclass(frozen=True)
class ShapeJob:
    """One mesh to evaluate and where its GT and cache entry live."""

    class_id: str
    class_name: str
    model_id: str
    mesh: Path
    gt_folder: Path
    cache: Path


@dataclass
class RunEvaluation:
    """The result of :func:`evaluate_run` (the same content as the files it wrote)."""

    out_dir: Path
    per_shape: list[dict]
    per_class: list[dict]  # one row per class, then the `mean` row (mean over classes)
    summary: dict[str, Any]
    thresholds: tuple[float, ...]
    cached: int = 0  # shapes whose result came from the cache


def evaluate_run(run_dir: str | Path, split: str = "test", data: str | Path | None = None,
                 workers: int | None = None, thresholds: Sequence[float] | None = None,
                 inside: str = "ray", n_points: int | None = None, device: torch.device | str | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 generation_progress: Callable[[int, int], None] | None = None) -> RunEvaluation:
    """Evaluate every mesh of RUN_DIR/generation/<split>/ and write evaluation/<split>/.

    `data`: data set folder (default: `data.path` of the run's config.yaml); `workers`:
    processes (default `test.num_workers`); `thresholds`: F-score taus (default
    `test.fscore_thresholds`); `inside`: "ray" or "winding" (see vitocc.metrics). Missing
    meshes are generated first with the run's checkpoint (`vitocc mise`) on `device` (a torch device;
    None: cuda:0 if a GPU is visible, else the CPU, as `--gpu` of every command).
    `progress(done, total)` follows the shapes.
    """
    from vitocc.config import load_config, with_values

    start = time.perf_counter()
    run_dir = require_run_dir(run_dir)
    run = RunDir(run_dir)
    cfg = with_values(load_config(str(run.config)), test={  # the flags, checked as the config's own values
        "fscore_thresholds": list(thresholds) if thresholds else None, "n_points": n_points, "num_workers": workers})
    root = Path(data) if data is not None else Path(cfg.data.path)
    if not root.is_dir():
        raise UserError(f"data set folder {root} does not exist", "pass --data DIR (the folder with metadata.yaml)")
    if inside not in metrics.INSIDE_METHODS:
        raise UserError(f"unknown inside test '{inside}'", f"use one of {', '.join(metrics.INSIDE_METHODS)}")
    settings = EvalSettings(n_points=cfg.test.n_points, thresholds=tuple(cfg.test.fscore_thresholds), inside=inside,
                            seed=cfg.test.seed, points_noise=cfg.data.points_noise,
                            points_file=cfg.data.points_file, pointcloud_file=cfg.data.pointcloud_file)
    jobs = _jobs(run, split, root, cfg)
    missing = [j for j in jobs if not j.mesh.is_file()]
    if missing:
        _generate_missing(run_dir, split, root, missing, device, generation_progress)
    rows, cached = _score(jobs, settings, cfg.test.num_workers, progress)
    per_class = results.class_means(rows, settings.metric_keys())
    summary = _summary(run_dir, split, root, cfg, settings, per_class, rows, time.perf_counter() - start)
    _write_results(run, split, settings, rows, per_class, summary)
    return RunEvaluation(run.evaluation(split), rows, per_class, summary, settings.thresholds, cached)


def _jobs(run: RunDir, split: str, root: Path, cfg) -> list[ShapeJob]:
    """One job per shape of `split` in the data set `root`: its mesh, GT folder and cache entry."""
    from vitocc.data.layout import list_shapes, select_classes

    classes = select_classes(root, cfg.data.classes)
    shapes = list_shapes(root, split, classes, cfg.data.max_models_per_class)
    if not shapes:
        raise UserError(f"split '{split}' of {root} has no models", f"check the {split}.lst files")
    return [ShapeJob(s.class_id, classes[s.class_id], s.model_id, run.mesh(split, s.class_id, s.model_id),
                     s.folder, run.eval_cache(split, s.class_id, s.model_id)) for s in shapes]


def _score(jobs: list[ShapeJob], settings: EvalSettings, workers: int,
           progress: Callable[[int, int], None] | None) -> tuple[list[dict], int]:
    """The per_shape.csv rows of `jobs` (cached ones read back, the rest evaluated in `workers`
    processes) and how many came from the cache; a UserError if some shape could not be read."""
    rows: list[dict | None] = [_read_cache(job, settings) for job in jobs]
    todo = [i for i, row in enumerate(rows) if row is None]
    cached = len(jobs) - len(todo)
    if progress:
        progress(cached, len(jobs))
    for i, row in _run_jobs([jobs[i] for i in todo], settings, workers, todo, cached, len(jobs), progress):
        rows[i] = row
    failures = [r["error"] for r in rows if "error" in r]
    if failures:
        raise UserError(f"{len(failures)} of {len(jobs)} shapes could not be evaluated; first: {failures[0]}",
                        "regenerate the broken meshes with `vitocc mise RUN_DIR --overwrite` or fix the data set; "
                        "finished shapes are cached")
    return rows, cached


def _write_results(run: RunDir, split: str, settings: EvalSettings, rows: list[dict], per_class: list[dict],
                   summary: dict[str, Any]) -> None:
    """per_shape.csv, per_class.csv and summary.json, each written atomically."""
    keys = settings.metric_keys()
    results.write_csv(run.per_shape(split), rows, [*SHAPE_COLUMNS, "empty", *keys, "seconds"])
    results.write_csv(run.per_class(split), per_class,
                      ["class_id", "class", "n_shapes", "n_empty", "iou", "chamfer_l1_x10", *(k for k in keys if k != "iou")])
    write_json(run.summary(split), _json_safe(summary))


@dataclass
class PreparedShape:
    """What :func:`prepare_shape` did for one job: mesh, GT, the inside test of the GT's IoU
    points, the generator that goes on to draw the surface samples, the SHA-1 of the mesh file's
    bytes that were read and the seconds it took; or only `error` when a file could not be read."""

    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None
    gt: metrics.GroundTruth | None = None
    occupancy: np.ndarray | None = None
    rng: np.random.Generator | None = None
    mesh_sha1: str = ""
    seconds: float = 0.0
    error: str | None = None


def prepare_shape(job: ShapeJob, settings: EvalSettings) -> PreparedShape:
    """Everything of one job before the surface samples: read its mesh and GT (the IoU points
    jittered with the shape's own generator) and run the inside test on the IoU points."""
    start = time.perf_counter()
    try:
        data = job.mesh.read_bytes()  # read once: parsed, and hashed for the cache key
        vertices, faces = load_mesh(job.mesh, data)
        rng = np.random.default_rng([settings.seed, zlib.crc32(f"{job.class_id}/{job.model_id}".encode())])
        gt = metrics.load_ground_truth(job.gt_folder, rng, settings.points_noise,
                                       settings.points_file, settings.pointcloud_file)
    except (OSError, ValueError, KeyError, EOFError, IndexError) as exc:
        return PreparedShape(error=f"{job.class_id}/{job.model_id}: {type(exc).__name__}: {exc}")
    occupancy = metrics.inside_mesh(vertices, faces, gt.points, settings.inside)
    return PreparedShape(vertices, faces, gt, occupancy, rng, hashlib.sha1(data).hexdigest(),
                         time.perf_counter() - start)


def score_shape(job: ShapeJob, settings: EvalSettings, shape: PreparedShape) -> dict:
    """The metrics of a prepared shape: write its cache entry, return its per_shape.csv row
    (`{"error": message}` for a shape that could not be read)."""
    if shape.error is not None:
        return {"error": shape.error}
    start = time.perf_counter()
    result = metrics.evaluate_mesh(shape.vertices, shape.faces, shape.gt, shape.rng, settings.n_points,
                                   settings.thresholds, settings.inside, shape.occupancy)
    row = {"class_id": job.class_id, "class": job.class_name, "model_id": job.model_id,
           "vertices": len(shape.vertices), "faces": len(shape.faces), **result.to_row(),
           "seconds": shape.seconds + time.perf_counter() - start}
    # no fsync: a cache entry lost in a crash is only recomputed (entries are checked on reading)
    with atomic_path(job.cache, fsync=False) as tmp:
        tmp.write_text(json.dumps({"key": _cache_key(job, settings, shape.mesh_sha1), "row": row}))
    return row


def evaluate_shape(job: ShapeJob, settings: EvalSettings) -> dict:
    """Evaluate one mesh, write its cache entry and return its per_shape.csv row.

    A mesh or GT file that cannot be read gives `{"error": message}` instead.
    """
    return score_shape(job, settings, prepare_shape(job, settings))


def _cache_key(job: ShapeJob, settings: EvalSettings, mesh_sha1: str | None = None) -> dict:
    """What a cache entry must match; `mesh_sha1`: the hash of the mesh bytes that were evaluated
    (None: hash the file now)."""
    digest = mesh_sha1 or hashlib.sha1(job.mesh.read_bytes()).hexdigest()
    return {"mesh_sha1": digest, "gt": str(job.gt_folder.resolve()), "settings": json.loads(json.dumps(asdict(settings)))}


def _read_cache(job: ShapeJob, settings: EvalSettings) -> dict | None:
    """The cached row of `job` if it was computed from the same mesh, GT and settings."""
    if not job.cache.is_file():
        return None
    try:
        entry = json.loads(job.cache.read_text())
    except (OSError, ValueError):
        return None
    return entry.get("row") if entry.get("key") == _cache_key(job, settings) else None


def _run_jobs(jobs: list[ShapeJob], settings: EvalSettings, workers: int, index: list[int], done: int,
              total: int, progress: Callable[[int, int], None] | None):
    """Yield (index, row) as shapes finish, in this process (1 worker) or in a process pool."""
    if not jobs:
        return
    if workers == 1 or len(jobs) == 1:
        from concurrent.futures import ThreadPoolExecutor

        # a thread prepares the next shape (files, inside test) while this one is scored: that
        # work is mostly zlib and numpy, which release the GIL, so it uses the core the scoring
        # leaves free
        with ThreadPoolExecutor(max_workers=1) as preparer:
            ahead = preparer.submit(prepare_shape, jobs[0], settings)
            for k, (i, job) in enumerate(zip(index, jobs)):
                shape = ahead.result()
                if k + 1 < len(jobs):
                    ahead = preparer.submit(prepare_shape, jobs[k + 1], settings)
                yield i, score_shape(job, settings, shape)
                done += 1
                if progress:
                    progress(done, total)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: the parent may hold torch/OpenMP threads (after generation), which
    # forked children inherit in a broken state. One kd-tree thread per worker.
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)
    try:
        futures = {pool.submit(evaluate_shape, job, settings): i for i, job in zip(index, jobs)}
        for future in as_completed(futures):
            yield futures[future], future.result()
            done += 1
            if progress:
                progress(done, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _init_worker() -> None:
    import signal

    os.environ["OMP_NUM_THREADS"] = "1"  # read by pykdtree's OpenMP when it is first imported
    # Ctrl-C is the parent's: it cancels the shapes not started; an idle worker that took it would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _generate_missing(run_dir: Path, split: str, root: Path, missing: list[ShapeJob], device: torch.device | str | None,
                      progress: Callable[[int, int], None] | None) -> None:
    """Generate the meshes that are not on disk yet with the run's checkpoint (`vitocc mise`)."""
    if find_checkpoint(run_dir) is None:
        raise UserError(f"{len(missing)} meshes of split '{split}' are missing (e.g. {missing[0].mesh}) and "
                        f"{run_dir} has no checkpoint to generate them",
                        "train first, or run `vitocc mise RUN_DIR` where the checkpoint is")
    from vitocc.devices import resolve_device
    from vitocc.generation import generate_split, plan_split

    log.info("generating %d missing meshes of split '%s'", len(missing), split)
    device = resolve_device(None) if device is None else device
    generate_split(plan_split(run_dir, split, data=root, device=device), progress=progress)
    still = [j for j in missing if not j.mesh.is_file()]
    if still:
        raise UserError(f"{len(still)} meshes could not be generated (e.g. {still[0].mesh})",
                        f"see {RunDir(run_dir).generation_stats(split)}")


def _json_safe(obj: Any) -> Any:
    """NaN (the Chamfer of a class whose meshes are all empty) -> null: strict JSON has no NaN."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return None if isinstance(obj, float) and obj != obj else obj


def _summary(run_dir: Path, split: str, root: Path, cfg, settings: EvalSettings, per_class: list[dict],
             rows: list[dict], seconds: float) -> dict[str, Any]:
    """summary.json: the means, and everything needed to know what they mean."""
    gen_stats = GenerationStats.read(RunDir(run_dir).generation_stats(split))
    gen = gen_stats.generation if gen_stats else asdict(cfg.generation)
    # The weights that made the meshes; meshes from before vitocc recorded them: the run's default.
    checkpoint = (gen_stats.checkpoint if gen_stats else None) or (
        describe_checkpoint(path) if (path := find_checkpoint(run_dir)) is not None else None)
    keys = ["iou", "chamfer_l1_x10"] + [k for k in settings.metric_keys() if k != "iou"]
    definitions = {k: {"definition": results.metric_for(k).definition,
                       "better": "higher" if results.metric_for(k).higher_is_better else "lower"} for k in keys}
    mean = per_class[-1]
    return {
        "run": str(run_dir),
        "split": split,
        "data": str(root),
        "checkpoint": checkpoint,
        "view": cfg.data.test_view,
        "generation": {**gen, "resolution": gen.get("resolution0", 0) * 2 ** gen.get("upsampling_steps", 0)},
        "evaluation": {**asdict(settings), "averaging": "mean over shapes per class, then mean over classes"},
        "units": results.UNITS,
        "empty_meshes": results.EMPTY_CONVENTION,
        "metrics": definitions,
        "n_classes": len(per_class) - 1,
        "n_shapes": len(rows),
        "n_empty": int(mean["n_empty"]),
        "mean_over_classes": {k: mean[k] for k in keys},
        "per_class": {r["class"]: {"class_id": r["class_id"], "n_shapes": r["n_shapes"], "n_empty": r["n_empty"],
                                   **{k: r[k] for k in keys}} for r in per_class[:-1]},
        "seconds": seconds,
        "vitocc_version": __version__,
    }
