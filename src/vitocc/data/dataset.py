"""The Occupancy Networks ShapeNet layout as a torch Dataset (docs/design.md section 2), read as is.

An item is a dict of tensors named after its fields plus `class_id`, `model_id` and
`index`:

- `points` (T,3) float32 and `points.occ` (T,) float32: `data.points_subsample` points of
  points.npz drawn with replacement, jittered by `data.points_noise` (float16 files); in
  training, a share `data.surface_fraction` of them (default 0) among the points within
  `data.surface_band` of the surface;
- `points_iou` (N,3) and `points_iou.occ` (N,): all points, jittered, for validation IoU;
- `inputs` (3,S,S) float32: one view resized to `data.img_size` and normalised with the
  encoder's mean/std: a random view in training, view `data.test_view` otherwise;
- `pointcloud` (M,3) and `pointcloud.normals` (M,3) float32: the surface, for evaluation;
- `cameras`: `inputs.world_mat` (3,4), `inputs.camera_mat` (3,3) of the view in `inputs`,
  `inputs.loc` (3,) and `inputs.scale` () from points.npz (pixel = K (R (X s + loc) + t) / z), and
  `inputs.projection` (3,4): the same camera from the normalised frame to [-1, 1] image coordinates.

Randomness (view, subsample, jitter) comes from a per-item seed: the sampler of
:mod:`vitocc.data.loader` hands out `(index, seed)` keys, so a data stream is a function of
the run's seed and epoch alone (whatever the number of workers, and across `--resume`);
evaluation items are seeded by their index and identical in every run.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from PIL import Image

from vitocc.config import DataConfig
from vitocc.data import cameras, layout
from vitocc.data.layout import ShapeEntry, list_shapes, select_classes  # noqa: F401 (re-exported)
from vitocc.data.transforms import (
    composite_background,
    image_to_tensor,
    jitter_points,
    near_surface_indices,
    subsample_near_surface,
    subsample_points,
)
from vitocc.errors import UserError

FIELDS = ("points", "points_iou", "inputs", "pointcloud", "cameras")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# What a damaged or truncated file raises from numpy's zip reader and PIL's decoders.
_READ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)

T = TypeVar("T")


class BrokenFile(UserError):
    """A file of the data set is missing or cannot be read; the message names it."""


def _read(path: Path, reader: Callable[[Path], T]) -> T:
    """`reader(path)`, with a missing or unreadable file turned into a BrokenFile naming it."""
    if not path.is_file():
        raise BrokenFile(f"missing file {path}", "set data.skip_broken=true to skip broken shapes")
    try:
        return reader(path)
    except _READ_ERRORS as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BrokenFile(f"cannot read {path}: {reason}",
                         "re-download or rebuild it, or set data.skip_broken=true") from None


def _load_image(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()  # decode now, so a truncated JPEG fails here and not later
        return image.copy()


def _load_loc_scale(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as f:
        return f["loc"].astype(np.float32), np.asarray(f["scale"], np.float32)


class ShapeNetDataset(torch.utils.data.Dataset):
    """Shapes of one split of a data set in the Occupancy Networks layout.

    `fields` picks what an item holds (see the module docstring); `train` draws a random
    view per item, evaluation uses `cfg.test_view`. `image_mean`/`image_std` should be the
    encoder's (`model.image_mean`); ImageNet's are the default.
    """

    def __init__(self, root: str | os.PathLike, split: str, cfg: DataConfig,
                 fields: Sequence[str] = ("points", "inputs"), train: bool = False,
                 image_mean: Sequence[float] = IMAGENET_MEAN, image_std: Sequence[float] = IMAGENET_STD):
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; valid: {FIELDS}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise UserError(f"data set folder {self.root} does not exist",
                            "run `vitocc synth` or `vitocc download shapenet`, or point --data at it")
        self.split = split
        self.cfg = cfg
        self.fields = tuple(fields)
        self.train = train
        self.image_mean = tuple(image_mean)
        self.image_std = tuple(image_std)
        self.classes = select_classes(self.root, cfg.classes)
        self.shapes = list_shapes(self.root, split, self.classes, cfg.max_models_per_class)
        if not self.shapes:
            raise UserError(f"split '{split}' of {self.root} has no models",
                            f"check the {split}.lst files of the classes {', '.join(self.classes)}")
        self._view_counts: dict[int, int] = {}
        self._near: dict[int, np.ndarray] = {}  # shape index -> its points near the surface

    def __len__(self) -> int:
        return len(self.shapes)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        """Item `key` (an index, or `(index, seed)` from the loader's sampler); BrokenFile if unreadable."""
        index, seed = key if isinstance(key, tuple) else (key, None)
        if not self.train:
            seed = index  # evaluation items are the same in every run
        elif seed is None:
            seed = int(np.random.randint(2**31))  # the worker's seeded global stream
        return self.load(index, np.random.default_rng(seed))

    def __getitems__(self, keys: Sequence[int | tuple[int, int]]) -> list[dict[str, Any]]:
        """Items of a batch; a broken shape becomes `{"broken": message}` so that the error
        reaches the main process as one line (see `vitocc.data.loader.take_broken`)."""
        items = []
        for key in keys:
            try:
                items.append(self[key])
            except BrokenFile as exc:
                items.append({"broken": str(exc)})
        return items

    def view_count(self, index: int) -> int:
        """Number of rendered views of shape `index` usable for training (at most `data.n_views`)."""
        if index not in self._view_counts:
            folder = self.shapes[index].folder / self.cfg.img_folder
            names = os.listdir(folder) if folder.is_dir() else []
            count = sum(1 for v in range(self.cfg.n_views) if layout.image_name(v) in names)
            if count == 0:
                raise BrokenFile(f"no images {layout.image_name(0)}... in {folder}",
                                 "set data.skip_broken=true to skip shapes without renders")
            self._view_counts[index] = count
        return self._view_counts[index]

    def near_surface(self, index: int, points: np.ndarray) -> np.ndarray:
        """Indices of the points of shape `index` within `data.surface_band` of its surface
        (pointcloud.npz); computed once per shape and worker (a kd-tree query, 20-50 ms)."""
        if index not in self._near:
            surface, _ = _read(self.shapes[index].folder / self.cfg.pointcloud_file, layout.read_pointcloud_npz)
            self._near[index] = near_surface_indices(points, surface, self.cfg.surface_band)
        return self._near[index]

    def load(self, index: int, rng: np.random.Generator) -> dict[str, Any]:
        """Read shape `index` with the randomness of `rng` (view first, then points, then jitter)."""
        shape = self.shapes[index]
        item: dict[str, Any] = {"class_id": shape.class_id, "model_id": shape.model_id, "index": index}
        need_view = "inputs" in self.fields or "cameras" in self.fields
        view = int(rng.integers(self.view_count(index))) if self.train and need_view else self.cfg.test_view
        img_dir = shape.folder / self.cfg.img_folder
        if "inputs" in self.fields:
            image = _read(img_dir / layout.image_name(view), _load_image)
            if self.train and self.cfg.background_prob > 0 and rng.random() < self.cfg.background_prob:
                image = composite_background(image, rng)
            item["inputs"] = image_to_tensor(image, self.cfg.img_size, self.image_mean, self.image_std)
        if "points" in self.fields or "points_iou" in self.fields:
            points, occ = _read(shape.folder / self.cfg.points_file, lambda p: layout.read_points_npz(p, dtype=None))
            if "points" in self.fields:
                if self.train and self.cfg.surface_fraction > 0:
                    sub, sub_occ = subsample_near_surface(points, occ, self.near_surface(index, points),
                                                          self.cfg.points_subsample, self.cfg.surface_fraction, rng)
                else:
                    sub, sub_occ = subsample_points(points, occ, self.cfg.points_subsample, rng)
                item["points"] = torch.from_numpy(jitter_points(sub, self.cfg.points_noise, rng))
                item["points.occ"] = torch.from_numpy(sub_occ.astype(np.float32))
            if "points_iou" in self.fields:
                item["points_iou"] = torch.from_numpy(jitter_points(points, self.cfg.points_noise, rng))
                item["points_iou.occ"] = torch.from_numpy(occ.astype(np.float32))
        if "pointcloud" in self.fields:
            surface, normals = _read(shape.folder / self.cfg.pointcloud_file, layout.read_pointcloud_npz)
            item["pointcloud"] = torch.from_numpy(surface)
            item["pointcloud.normals"] = torch.from_numpy(normals)
        if "cameras" in self.fields:
            world, cam = _read(img_dir / layout.CAMERAS_FILE, lambda p: layout.read_cameras_npz(p, view))
            loc, scale = _read(shape.folder / self.cfg.points_file, _load_loc_scale)
            item["inputs.world_mat"] = torch.from_numpy(world.astype(np.float32))
            item["inputs.camera_mat"] = torch.from_numpy(cam.astype(np.float32))
            item["inputs.loc"] = torch.from_numpy(loc)
            item["inputs.scale"] = torch.from_numpy(scale)
            item["inputs.projection"] = torch.from_numpy(cameras.grid_projection(world, cam, loc, scale))
        return item


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack items into a batch: tensors (B, ...), `class_id`/`model_id` lists, `index` (B,) long.

    Broken items (see `ShapeNetDataset.__getitems__`) are left out and their messages kept
    in `batch["broken"]`.
    """
    good = [item for item in items if "broken" not in item]
    batch = torch.utils.data.default_collate(good) if good else {}
    batch["broken"] = [item["broken"] for item in items if "broken" in item]
    return batch
