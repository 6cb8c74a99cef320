"""The Occupancy Networks ShapeNet layout: names, and readers/writers of its small files.

One place knows the file names, keys, dtypes and packing of the real data
(docs/design.md section 2); the data reader, `vitocc synth`, `vitocc build-dataset`, the
downloader and the evaluator all go through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from vitocc.errors import UserError
from vitocc.io import atomic_path, write_text

POINTS_FILE = "points.npz"
POINTCLOUD_FILE = "pointcloud.npz"
IMG_FOLDER = "img_choy2016"
CAMERAS_FILE = "cameras.npz"
METADATA_FILE = "metadata.yaml"
SPLITS = ("train", "val", "test")

# The 13 classes of the single-image benchmark: synset id -> name (the real metadata.yaml).
SHAPENET_CLASSES: dict[str, str] = {
    "02691156": "airplane",
    "02828884": "bench",
    "02933112": "cabinet",
    "02958343": "car",
    "03001627": "chair",
    "03211117": "display",
    "03636649": "lamp",
    "03691459": "loudspeaker",
    "04090263": "rifle",
    "04256520": "sofa",
    "04379243": "table",
    "04401088": "telephone",
    "04530566": "vessel",
}


def image_name(view: int) -> str:
    """File name of view `view` inside img_choy2016 (000.jpg ...)."""
    return f"{view:03d}.jpg"


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """np.savez without timestamps: the same arrays always give byte-identical files.

    np.savez stamps every zip entry with the current time; a fixed date makes data sets
    reproducible per seed (checksums, caches, `git diff`). Written atomically, uncompressed.
    """
    import zipfile

    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)


def write_points_npz(path: str | Path, points: np.ndarray, occupancies: np.ndarray,
                     loc: np.ndarray | None = None, scale: float = 1.0) -> None:
    """points.npz: points (N,3) float16, occupancies np.packbits(bool N), loc (3,), scale ()."""
    points = np.asarray(points)
    occupancies = np.asarray(occupancies, dtype=bool)
    if points.ndim != 2 or points.shape[1] != 3 or len(occupancies) != len(points):
        raise ValueError(f"points {points.shape} and occupancies {occupancies.shape} do not match")
    save_npz(
        path,
        points=points.astype(np.float16),
        occupancies=np.packbits(occupancies),
        loc=np.zeros(3) if loc is None else np.asarray(loc, dtype=np.float64),
        scale=np.asarray(scale, dtype=np.float64),
    )


def write_pointcloud_npz(path: str | Path, points: np.ndarray, normals: np.ndarray,
                         loc: np.ndarray | None = None, scale: float = 1.0) -> None:
    """pointcloud.npz: surface points and unit normals (N,3) float16, loc (3,), scale ()."""
    save_npz(
        path,
        points=np.asarray(points).astype(np.float16),
        normals=np.asarray(normals).astype(np.float16),
        loc=np.zeros(3) if loc is None else np.asarray(loc, dtype=np.float64),
        scale=np.asarray(scale, dtype=np.float64),
    )


def write_cameras_npz(path: str | Path, world_mats: np.ndarray, camera_mats: np.ndarray) -> None:
    """cameras.npz: world_mat_i (3,4) and camera_mat_i (3,3) for every view i."""
    arrays = {}
    for i, (world, cam) in enumerate(zip(world_mats, camera_mats)):
        arrays[f"world_mat_{i}"] = np.asarray(world, dtype=np.float64)
        arrays[f"camera_mat_{i}"] = np.asarray(cam, dtype=np.float64)
    save_npz(path, **arrays)


def write_split_lists(class_dir: str | Path, splits: dict[str, list[str]]) -> None:
    """`train.lst`, `val.lst`, `test.lst`: one model id per line, as the real data."""
    for split, models in splits.items():
        write_text(Path(class_dir) / f"{split}.lst", "\n".join(models))


def write_metadata(root: str | Path, classes: dict[str, str]) -> None:
    """metadata.yaml: {synset: {id: synset, name: name}} in the real file's shape."""
    data = {synset: {"id": synset, "name": name} for synset, name in classes.items()}
    write_text(Path(root) / METADATA_FILE, yaml.safe_dump(data, sort_keys=True))


def read_metadata(root: str | Path) -> dict[str, str]:
    """Synset -> class name from metadata.yaml, or from the class folders when it is missing."""
    root = Path(root)
    path = root / METADATA_FILE
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            raise UserError(f"{path} is not valid YAML", "delete it to fall back to folder names") from None
        return {str(k): str(v.get("name", k)) if isinstance(v, dict) else str(k) for k, v in data.items()}
    folders = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return {f: SHAPENET_CLASSES.get(f, f) for f in folders}


def read_split_list(class_dir: str | Path, split: str) -> list[str]:
    """Model ids of `split` in a class folder (empty lines ignored)."""
    path = Path(class_dir) / f"{split}.lst"
    if not path.is_file():
        raise UserError(f"missing split list {path}", "every class folder needs train/val/test.lst")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def read_points_npz(path: str | Path, dtype: type | None = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """points (N,3) `dtype` (None: as stored, float16) and occupancies (N,) bool from a points.npz (packbits cut to N)."""
    with np.load(path) as f:
        points = f["points"] if dtype is None else f["points"].astype(dtype)
        occ = np.unpackbits(f["occupancies"])[: len(points)].astype(bool)
    return points, occ


def read_pointcloud_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Surface points (N,3) and normals (N,3), float32, from a pointcloud.npz."""
    with np.load(path) as f:
        return f["points"].astype(np.float32), f["normals"].astype(np.float32)


def read_cameras_npz(path: str | Path, view: int) -> tuple[np.ndarray, np.ndarray]:
    """world_mat (3,4) and camera_mat (3,3) of `view`, float64."""
    with np.load(path) as f:
        return f[f"world_mat_{view}"].astype(np.float64), f[f"camera_mat_{view}"].astype(np.float64)


@dataclass(frozen=True)
class ShapeEntry:
    """One model of the data set: its class, id and folder."""

    class_id: str
    model_id: str
    folder: Path


def select_classes(root: Path, wanted: Sequence[str]) -> dict[str, str]:
    """Synset -> name of the classes to read: all with a folder, or those in `wanted` (ids or names)."""
    metadata = read_metadata(root)
    present = {k: v for k, v in metadata.items() if (root / k).is_dir()}
    if not wanted:
        if not present:
            raise UserError(f"no class folders in {root}", "expected <synset>/<model>/points.npz folders")
        return present
    by_name = {name.lower(): synset for synset, name in metadata.items()}
    chosen = {}
    for item in wanted:
        synset = item if item in metadata else by_name.get(item.lower())
        if synset is None or synset not in present:
            raise UserError(f"class '{item}' is not in {root}",
                            f"available: {', '.join(f'{k} ({v})' for k, v in present.items())}")
        chosen[synset] = metadata[synset]
    return chosen


def list_shapes(root: Path, split: str, classes: Iterable[str], max_per_class: int | None) -> list[ShapeEntry]:
    """The models of `split` in each class, in list order, at most `max_per_class` each."""
    entries = []
    for synset in classes:
        ids = read_split_list(root / synset, split)[:max_per_class]
        entries += [ShapeEntry(synset, model, root / synset / model) for model in ids]
    return entries
