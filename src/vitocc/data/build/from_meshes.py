"""`vitocc build-dataset`: a data set in the real layout from a folder of the user's own meshes.

Every mesh file becomes a model: it is loaded with its appearance (`meshes`), labelled
with winding-number occupancy (`occupancy`), coloured from its textures and materials
(`mesh_colors`) and written by the same writer as `vitocc synth` (`vitocc.data.writer`), in worker
processes, resumably. Files that cannot become a model are skipped with a reason, listed
at the end and in DEST/build_report.json.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from vitocc.data import layout, writer
from vitocc.data.build.meshes import MESH_SUFFIXES, InvalidMesh, axes_rotation, find_mesh_files
from vitocc.errors import UserError
from vitocc.io import write_json

log = logging.getLogger(__name__)

REPORT_FILE = "build_report.json"
SHEET_WARNING_FRACTION = 0.05  # warn when more of the surface than this is single-sided sheets
# Parts with no colour of their own get a random material of these kinds (synth's palette).
FALLBACK_MATERIALS = {"paint": 3.0, "wood": 1.5, "metal": 1.0, "fabric": 1.0, "light": 1.0, "dark": 0.5}
_NAME_TO_SYNSET = {name: synset for synset, name in layout.SHAPENET_CLASSES.items()}


@dataclass(frozen=True)
class BuildOptions:
    """How meshes become models (everything a resumed run must keep the same)."""

    up: str = "y"  # the file's up axis, e.g. "z" for z-up data sets
    front: str = "+x"  # the axis the objects face in the file
    thicken: float = 0.0  # single-sided sheets count as inside within this distance (normalised frame)
    split: tuple[float, float, float] = writer.SPLIT_FRACTIONS
    seed: int = 0
    classes_from_folders: bool = False
    texture_filter: str = "bilinear"  # or "nearest"


@dataclass(frozen=True)
class MeshEntry:
    """One mesh file and the model it becomes."""

    path: Path
    synset: str
    model: str


@dataclass(frozen=True)
class MeshJob:
    """What a worker needs to turn one file into a model (picklable)."""

    path: str
    rotation: tuple[tuple[float, ...], ...]
    thicken: float
    texture_filter: str


@dataclass
class DatasetBuild:
    """Outcome of :func:`build_dataset`."""

    dest: Path
    classes: dict[str, str]  # synset -> name
    built: list[MeshEntry] = field(default_factory=list)
    existing: list[MeshEntry] = field(default_factory=list)  # complete before this run
    failed: list[tuple[Path, str]] = field(default_factory=list)  # file, one-line reason
    splits: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def n_models(self) -> int:
        return len(self.built) + len(self.existing)


def class_of_folder(name: str) -> tuple[str, str]:
    """(synset, name) of a class folder: ShapeNet synsets and names map to the real pair, others keep the name."""
    if name in layout.SHAPENET_CLASSES:
        return name, layout.SHAPENET_CLASSES[name]
    if name.lower() in _NAME_TO_SYNSET:
        return _NAME_TO_SYNSET[name.lower()], name.lower()
    return safe_id(name), name


def safe_id(text: str) -> str:
    """A folder-safe id: characters other than letters, digits, '_', '-' and '.' become '_'."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")
    return cleaned or "model"


def model_ids(relative_paths: list[Path]) -> list[str]:
    """Unique model ids for files of one class, from their paths relative to the class folder.

    The file stem when stems are unique; otherwise the path minus the components all
    files share at the end (ShapeNetCore's `<id>/models/model_normalized.obj` -> `<id>`),
    joined with '-'; a counter settles whatever still collides.
    """
    stems = [p.with_suffix("").parts for p in relative_paths]
    if len({s[-1] for s in stems}) < len(stems):
        common = 0
        while all(len(s) > common + 1 for s in stems) and len({s[-1 - common] for s in stems}) == 1:
            common += 1
        stems = [s[: len(s) - common] for s in stems]
    else:
        stems = [s[-1:] for s in stems]
    ids, seen = [], defaultdict(int)
    for parts in stems:
        base = safe_id("-".join(parts))
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def discover(mesh_dir: str | Path, classes_from_folders: bool) -> tuple[dict[str, str], list[MeshEntry], list[tuple[Path, str]]]:
    """Classes (synset -> name), mesh entries, and files that belong to no class (with a reason).

    With `classes_from_folders` every top-level subfolder is a class; else all files form
    one class named after `mesh_dir`.
    """
    root = Path(mesh_dir)
    if not root.is_dir():
        raise UserError(f"mesh folder {root} does not exist", "give a folder of .obj/.off/.ply/.stl/.glb files")
    files = find_mesh_files(root)
    if not files:
        raise UserError(f"no mesh files under {root}", f"supported: {', '.join(MESH_SUFFIXES)}")
    groups: dict[str, list[Path]] = defaultdict(list)
    orphans = []
    for path in files:
        rel = path.relative_to(root)
        if not classes_from_folders:
            groups[root.resolve().name].append(path)
        elif len(rel.parts) > 1:
            groups[rel.parts[0]].append(path)
        else:
            orphans.append((path, "not inside a class folder (--classes-from-folders)"))
    classes, entries = {}, []
    for folder, paths in sorted(groups.items()):
        synset, name = class_of_folder(folder)
        if synset in classes:
            raise UserError(f"class folders {classes[synset]!r} and {folder!r} both map to {synset}",
                            "rename one of them")
        classes[synset] = name
        base = root / folder if classes_from_folders else root
        ids = model_ids([p.relative_to(base) for p in paths])
        entries += [MeshEntry(p, synset, m) for p, m in zip(paths, ids)]
    return classes, entries, orphans


def mesh_source(job: MeshJob, rng: np.random.Generator) -> writer.ModelSource:
    """Load, label and colour one mesh file for the writer (runs in a worker process)."""
    import trimesh

    from vitocc.data.build.mesh_colors import constant_color_fn, mesh_color_fn
    from vitocc.data.build.meshes import load_normalised
    from vitocc.data.build.occupancy import occupancy, prepare
    from vitocc.data.synth.materials import pick

    normalised = load_normalised(job.path, np.asarray(job.rotation))
    prepared = prepare(normalised.mesh.vertices, normalised.mesh.faces)
    if not len(prepared.faces):
        raise InvalidMesh("no faces with area")
    if job.thicken <= 0:
        sheets = prepared.sheet_area_fraction(rng)
        if sheets > SHEET_WARNING_FRACTION:
            log.warning("%s: %.0f%% of the surface is single-sided sheets, empty in points.npz "
                        "(--thicken 0.01 gives them a thickness)", job.path, 100 * sheets)
    colors, _ = mesh_color_fn(normalised.parts, normalised.part_faces, mode=job.texture_filter,
                              fallback=lambda k: constant_color_fn(pick(rng, **FALLBACK_MATERIALS).color))
    return writer.ModelSource(
        mesh=normalised.mesh,
        occupancy_fn=partial(occupancy, prepared, thicken=job.thicken),
        surface=trimesh.Trimesh(prepared.vertices, prepared.faces, process=False),  # oriented, no duplicates
        color_fn=colors,
    )


def _check_dest(mesh_dir: Path, dest: Path) -> None:
    """Refuse a `dest` that is a file, a folder of something else (its metadata.yaml would be replaced), or
    one that overlaps `mesh_dir`: the class folders would be written among the user's meshes
    (`build-dataset data/raw --dest data` writes class 'raw' into data/raw itself)."""
    if dest.exists() and not dest.is_dir():
        raise UserError(f"--dest {dest} is a file, not a folder", "choose another --dest")
    inside, outside = mesh_dir.resolve(), dest.resolve()
    if inside == outside or inside in outside.parents or outside in inside.parents:
        raise UserError(f"--dest {dest} overlaps MESH_DIR {mesh_dir}: the data set would be written among the meshes",
                        "choose a --dest outside MESH_DIR and not above it")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / writer.PARAMS_FILE).is_file():
        raise UserError(f"--dest {dest} is not empty and was not made by vitocc build-dataset",
                        "choose a new or empty --dest: its metadata.yaml and lists would be rewritten")


def build_dataset(mesh_dir: str | Path, dest: str | Path, options: BuildOptions = BuildOptions(),
                  counts: writer.Counts = writer.Counts(), workers: int = 1,
                  show_progress: bool = True) -> DatasetBuild:
    """Turn every mesh under `mesh_dir` into a model of a data set at `dest` (real layout).

    Resumable: models already in `dest` are kept; a run with other options is refused.
    Broken files are skipped and reported (DatasetBuild.failed and DEST/build_report.json).
    """
    try:
        rotation = axes_rotation(options.up, options.front)
    except ValueError as exc:
        raise UserError(f"bad axis convention: {exc}", "e.g. --up z --front +x") from None
    if options.texture_filter not in ("nearest", "bilinear"):
        raise UserError(f"unknown texture filter {options.texture_filter!r}", "use nearest or bilinear")
    classes, entries, orphans = discover(mesh_dir, options.classes_from_folders)
    dest = Path(dest)
    _check_dest(Path(mesh_dir), dest)
    writer.check_build_params(dest, writer.params_of(
        counts, source="build-dataset", up=options.up, front=options.front, thicken=options.thicken,
        seed=options.seed, classes_from_folders=options.classes_from_folders,
        texture_filter=options.texture_filter,
    ))
    job_rotation = tuple(tuple(float(v) for v in row) for row in rotation)
    tasks = [
        writer.ModelTask(
            folder=dest / e.synset / e.model,
            payload=MeshJob(str(e.path), job_rotation, options.thicken, options.texture_filter),
            seed=(options.seed, zlib.crc32(f"{e.synset}/{e.model}".encode())),
        )
        for e in entries
    ]
    report = writer.build_models(tasks, mesh_source, counts, workers, show_progress, label="meshes")
    by_folder = {t.folder: e for t, e in zip(tasks, entries)}
    result = DatasetBuild(dest, classes, seconds=report.seconds)
    result.built = [by_folder[f] for f in report.built]
    result.existing = [by_folder[f] for f in report.skipped]
    result.failed = orphans + [(by_folder[f].path, _reason(text)) for f, text in report.failed]
    ids: dict[str, list[str]] = {synset: [] for synset in classes}
    for entry in result.built + result.existing:
        ids[entry.synset].append(entry.model)
    built_classes = {s: n for s, n in classes.items() if ids[s]}
    result.splits = {s: writer.split_ids(ids[s], options.seed, options.split) for s in built_classes}
    if result.n_models:
        writer.write_dataset_index(dest, built_classes, result.splits)
    write_report(result, Path(mesh_dir), options)
    return result


def write_report(result: DatasetBuild, mesh_dir: Path, options: BuildOptions) -> Path:
    """DEST/build_report.json: every file, the model it became (and its split) or why it was skipped."""
    split_of = {(s, m): split for s, lists in result.splits.items() for split, ms in lists.items() for m in ms}

    def row(entry: MeshEntry, status: str) -> dict:
        return {"file": _relative(entry.path, mesh_dir), "class": entry.synset, "model": entry.model,
                "split": split_of.get((entry.synset, entry.model)), "status": status}

    path = result.dest / REPORT_FILE
    write_json(path, {
        "mesh_dir": str(mesh_dir.resolve()),
        "options": {"up": options.up, "front": options.front, "thicken": options.thicken,
                    "split": list(options.split), "seed": options.seed,
                    "classes_from_folders": options.classes_from_folders},
        "classes": result.classes,
        "counts": {"built": len(result.built), "existing": len(result.existing), "failed": len(result.failed)},
        "models": [row(e, "built") for e in result.built] + [row(e, "existing") for e in result.existing],
        "failed": [{"file": _relative(p, mesh_dir), "reason": reason} for p, reason in result.failed],
        "seconds": round(result.seconds, 2),
    })
    return path


def parse_split(text: str) -> tuple[float, float, float]:
    """"80/5/15" -> (0.8, 0.05, 0.15): train/val/test percentages, which must sum to 100."""
    try:
        parts = [float(p) for p in text.split("/")]
    except ValueError:
        parts = []
    if len(parts) != 3 or min(parts) < 0:
        raise UserError(f"bad split {text!r}", "give train/val/test percentages, e.g. 80/5/15")
    if abs(sum(parts) - 100) > 1e-6:
        raise UserError(f"split {text!r} sums to {sum(parts):g}, not 100", "e.g. 80/5/15")
    return parts[0] / 100, parts[1] / 100, parts[2] / 100


def _reason(text: str) -> str:
    """The writer's "Type: message" -> the message alone for files we rejected on purpose."""
    prefix = f"{InvalidMesh.__name__}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
