"""Write model folders and whole data sets in the real layout, from meshes with known inside tests.

One writer serves `vitocc synth` (procedural meshes, exact occupancy) and
`vitocc build-dataset` (user meshes, winding-number occupancy): give it a
:class:`ModelSource` and it writes points.npz, pointcloud.npz and img_choy2016/
(JPEG views + cameras.npz) exactly as docs/design.md section 2, into a temporary folder that is
renamed into place when complete, so a killed run never leaves a half-written model.
:func:`build_models` runs many of them in worker processes, skipping finished folders
(resumable); :func:`split_ids` and :func:`write_dataset_index` write the lists and
metadata.yaml.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vitocc.data import cameras, layout
from vitocc.errors import UserError, stop_if_interrupted
from vitocc.io import atomic_path, write_text

if TYPE_CHECKING:
    from vitocc.render import Light

log = logging.getLogger(__name__)

BOX_HALF = 0.55  # points.npz: uniform in [-0.55, 0.55]^3 (unit cube + padding 0.1)
SPLIT_FRACTIONS = (0.8, 0.05, 0.15)  # train, val, test
PARAMS_FILE = "vitocc_build.json"  # how the data set was made; a resumed run must match it
TEMP_MARK = ".tmp-"


@dataclass
class ModelSource:
    """Everything needed to write one model folder; all geometry in the normalised frame.

    mesh: what the cameras see (bounding box centred at 0, longest side 1, y up, front +x).
    occupancy_fn: points (N,3) float64 -> (N,) bool inside (exact for synth, winding
        number for user meshes). Evaluated on the float16-rounded points that are stored.
    surface: the mesh whose surface pointcloud.npz samples (default: `mesh`); give the
        watertight outer surface when `mesh` has inner or open parts.
    face_colors: (F,3) float in [0,1] per face of `mesh`; color_fn: see `vitocc.render`.
    smooth_angle_deg: faces meeting at less than this are shaded smooth (None: all flat).
    light: the renders' light (default `vitocc.render.Light()`).
    """

    mesh: Any  # trimesh.Trimesh
    occupancy_fn: Callable[[np.ndarray], np.ndarray]
    surface: Any | None = None
    face_colors: np.ndarray | None = None
    color_fn: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    smooth_angle_deg: float | None = 20.0
    light: Light | None = None


@dataclass(frozen=True)
class Counts:
    """How much to write per model (the real data: 100000 points, 100000 surface points, 24 views)."""

    n_points: int = 100_000
    n_surface: int = 100_000
    n_views: int = 24
    image_size: int = cameras.IMAGE_SIZE
    antialias: int = 3  # supersampling factor per axis of the renders
    jpeg_quality: int = 90


def bbox_scale(mesh) -> float:
    """`scale` of the npz files: 1 / bounding-box diagonal, so the render frame has diagonal 1 (real data)."""
    return float(1.0 / np.linalg.norm(mesh.bounds[1] - mesh.bounds[0]))


def sample_surface(mesh, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted points on the surface and their face normals.

    Returns points (n, 3) float64 and unit normals (n, 3) float64, in the mesh's frame.
    """
    area = mesh.area_faces
    face = rng.choice(len(area), n, p=area / area.sum())
    u, v = rng.random((2, n))
    flip = u + v > 1  # fold the unit square onto the triangle: uniform barycentric
    u, v = np.where(flip, 1 - u, u), np.where(flip, 1 - v, v)
    tri = mesh.triangles[face]
    points = tri[:, 0] + u[:, None] * (tri[:, 1] - tri[:, 0]) + v[:, None] * (tri[:, 2] - tri[:, 0])
    return points, mesh.face_normals[face]


def sample_points(occupancy_fn: Callable[[np.ndarray], np.ndarray], n: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n uniform points in [-0.55, 0.55]^3 as stored (float16-rounded, returned float64) and their occupancy."""
    points = rng.uniform(-BOX_HALF, BOX_HALF, (n, 3)).astype(np.float16).astype(np.float64)
    return points, np.asarray(occupancy_fn(points), dtype=bool)


def write_model(folder: str | Path, source: ModelSource, counts: Counts, rng: np.random.Generator) -> None:
    """Write one complete model folder atomically (temp folder next to it, renamed when done).

    `folder` must not exist yet. The same `rng` state gives byte-identical npz files and images.
    """
    from PIL import Image

    from vitocc.render import Light, corner_normals, render_mesh

    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder} exists; model folders are never overwritten")
    tmp = folder.parent / f".{folder.name}{TEMP_MARK}{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        scale = bbox_scale(source.mesh)
        points, occ = sample_points(source.occupancy_fn, counts.n_points, rng)
        layout.write_points_npz(tmp / layout.POINTS_FILE, points, occ, scale=scale)
        surf, normals = sample_surface(source.mesh if source.surface is None else source.surface, counts.n_surface, rng)
        layout.write_pointcloud_npz(tmp / layout.POINTCLOUD_FILE, surf, normals, scale=scale)

        world, cams = cameras.sample_cameras(counts.n_views, rng, counts.image_size)
        shading = None if source.smooth_angle_deg is None else corner_normals(source.mesh, source.smooth_angle_deg)
        img_dir = tmp / layout.IMG_FOLDER
        for view in range(counts.n_views):
            image = render_mesh(source.mesh, world[view], cams[view], counts.image_size, scale=scale,
                                face_colors=source.face_colors, color_fn=source.color_fn,
                                antialias=counts.antialias, normals=shading, light=source.light or Light())
            # no fsync per image: the folder becomes visible only by the rename below
            with atomic_path(img_dir / layout.image_name(view), fsync=False) as path:
                Image.fromarray(image).save(path, format="JPEG", quality=counts.jpeg_quality)
        layout.write_cameras_npz(img_dir / layout.CAMERAS_FILE, world, cams)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def split_ids(ids: Sequence[str], seed: int = 0,
              fractions: Sequence[float] = SPLIT_FRACTIONS) -> dict[str, list[str]]:
    """Deterministic train/val/test split of model ids (each list sorted).

    Val and test get round(fraction * n) ids, at least one each (unless its fraction is 0) when
    there are >= 3 ids;
    train gets the rest. The same ids and seed always give the same split.
    """
    ids = sorted(ids)
    order = np.random.default_rng(seed).permutation(len(ids))
    n_val, n_test = (round(f * len(ids)) for f in fractions[1:])
    if len(ids) >= 3:  # a split that was asked for gets at least one id
        n_val, n_test = (max(n, 1) if f > 0 else n for n, f in zip((n_val, n_test), fractions[1:]))
    shuffled = [ids[i] for i in order]
    parts = {"val": shuffled[:n_val], "test": shuffled[n_val:n_val + n_test],
             "train": shuffled[n_val + n_test:]}
    return {split: sorted(parts[split]) for split in layout.SPLITS}


def write_dataset_index(root: str | Path, classes: dict[str, str], splits: dict[str, dict[str, list[str]]]) -> None:
    """metadata.yaml for `classes` (synset -> name) and train/val/test.lst per synset in `splits`."""
    root = Path(root)
    layout.write_metadata(root, classes)
    for synset, lists in splits.items():
        layout.write_split_lists(root / synset, lists)


def check_build_params(root: str | Path, params: dict[str, Any]) -> None:
    """Record how a data set is made (PARAMS_FILE); refuse to resume it with other settings.

    A resumed run that changed, say, --points would silently mix two kinds of models.
    """
    path = Path(root) / PARAMS_FILE
    params = json.loads(json.dumps(params))  # normalise tuples/paths the way the file stores them
    if path.is_file():
        old = json.loads(path.read_text())
        if _maker(old) != _maker(params):  # every setting would differ: say what matters
            raise UserError(f"{root} holds a data set made by {_maker(old)}, not {_maker(params)}",
                            "choose another --dest")
        changed = sorted(k for k in set(old) | set(params) if old.get(k) != params.get(k))
        if changed:
            raise UserError(
                f"{root} was made with other settings: "
                + ", ".join(f"{k} {old.get(k)!r} there, {params.get(k)!r} now" for k in changed),
                "use the same options to resume, or another --dest",
            )
        return
    write_text(path, json.dumps(params, indent=2, sort_keys=True) + "\n")


def _maker(params: dict[str, Any]) -> str:
    """The command that made a data set, from its PARAMS_FILE: 'vitocc synth' or 'vitocc build-dataset'."""
    return params.get("generator") or f"vitocc {params.get('source', '(unknown)')}"


@dataclass(frozen=True)
class ModelTask:
    """One model to write: its folder, what `make_source` needs, and its own random stream.

    `seed` is the entropy of a np.random.SeedSequence, so a model's files depend only on
    it, not on the order, the number of workers or the models already on disk.
    """

    folder: Path
    payload: Any
    seed: tuple[int, ...]


# make_source(payload, rng) -> ModelSource; must be a module-level function (sent to workers).
SourceFn = Callable[[Any, np.random.Generator], ModelSource]


@dataclass
class BuildReport:
    """What :func:`build_models` did."""

    built: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # complete before this run
    failed: list[tuple[Path, str]] = field(default_factory=list)  # folder, one-line reason
    seconds: float = 0.0

    @property
    def shapes_per_second(self) -> float:
        return len(self.built) / self.seconds if self.seconds > 0 else 0.0


def build_one(task: ModelTask, make_source: SourceFn, counts: Counts) -> str | None:
    """Write `task`'s folder; returns None, or a one-line reason it failed (the folder is not written)."""
    rng = np.random.default_rng(np.random.SeedSequence(list(task.seed)))
    try:
        write_model(task.folder, make_source(task.payload, rng), counts, rng)
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop a long run
        log.debug("model %s failed:\n%s", task.folder, traceback.format_exc())
        return f"{type(exc).__name__}: {exc}"
    return None


def remove_stale_temps(folders: Sequence[Path]) -> int:
    """Delete temporary model folders that killed runs left inside `folders`; returns how many."""
    removed = 0
    for parent in folders:
        if parent.is_dir():
            for tmp in parent.glob(f".*{TEMP_MARK}*"):
                shutil.rmtree(tmp, ignore_errors=True)
                removed += 1
    return removed


def build_models(tasks: Sequence[ModelTask], make_source: SourceFn, counts: Counts = Counts(), workers: int = 1,
                 show_progress: bool = True, label: str = "shapes") -> BuildReport:
    """Write every task's folder that does not exist yet, in `workers` processes.

    Resumable: finished folders are skipped and leftovers of killed runs removed first.
    Failures are collected in the report, not raised. Progress (shapes/s, ETA) on stderr.
    """
    report = BuildReport()
    todo = [t for t in tasks if not t.folder.is_dir()]
    report.skipped = [t.folder for t in tasks if t.folder.is_dir()]
    removed = remove_stale_temps(sorted({t.folder.parent for t in todo}))
    if removed:
        log.info("removed %d unfinished model folder(s) of an interrupted run", removed)
    start = time.perf_counter()
    with _progress(show_progress) as progress:
        bar = progress.add_task(label, total=len(todo))

        def done(task: ModelTask, error: str | None) -> None:
            if error is None:
                report.built.append(task.folder)
            else:
                report.failed.append((task.folder, error))
                log.debug("%s: %s", task.folder, error)  # the commands list failures once, at the end
            progress.advance(bar)

        if workers <= 1 or len(todo) <= 1:
            for task in todo:
                done(task, build_one(task, make_source, counts))
                stop_if_interrupted()  # a Ctrl-C a library swallowed during that model
        else:
            _run_pool(todo, make_source, counts, workers, done)
    report.seconds = time.perf_counter() - start
    return report


def _run_pool(todo: Sequence[ModelTask], make_source: SourceFn, counts: Counts, workers: int,
              done: Callable[[ModelTask, str | None], None]) -> None:
    """Run build_one over `todo` in worker processes, reporting each result as it arrives."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # fork starts workers at once and shares the parent's imports; spawn where fork is missing.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), initializer=_ignore_ctrl_c)
    try:
        futures = {pool.submit(build_one, task, make_source, counts): task for task in todo}
        for future in as_completed(futures):
            done(futures[future], future.result())
    finally:
        # One shutdown: a second one (a `with` block's, after an interrupt) reset cancel_futures before the
        # pool read it, and a Ctrl-C then waited for every remaining model. Now it waits for those in progress.
        pool.shutdown(wait=True, cancel_futures=True)


def _ignore_ctrl_c() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it cancels what has not started and waits for the models in
    progress); a worker that took it would report it as that model's failure and go on with the next one."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _progress(show: bool):
    """A rich progress bar with models/s and ETA on stderr (disabled when `show` is False)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class RateColumn(TextColumn):
        def render(self, task):  # noqa: D102 - rich column protocol
            from rich.text import Text

            speed = task.finished_speed or task.speed
            return Text(f"{speed:.2f}/s" if speed else "-/s")

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                    RateColumn(""), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not show, transient=False)


def params_of(counts: Counts, **extra: Any) -> dict[str, Any]:
    """The parameters recorded in PARAMS_FILE: the counts plus generator options."""
    return {**asdict(counts), **extra}
