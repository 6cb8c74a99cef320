"""The synthetic data set: plan model ids and seeds, run the writer, write lists and a preview sheet."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vitocc.data import layout, writer
from vitocc.errors import UserError

GENERATOR_VERSION = 6  # bump when shapes or renders change, so resumed data sets are not mixed


def resolve_classes(names: Sequence[str] | None) -> dict[str, str]:
    """Synset -> name for class names or synset ids (all 13 when `names` is empty)."""
    if not names:
        return dict(layout.SHAPENET_CLASSES)
    by_name = {name: synset for synset, name in layout.SHAPENET_CLASSES.items()}
    chosen = {}
    for name in names:
        synset = name if name in layout.SHAPENET_CLASSES else by_name.get(name.lower())
        if synset is None:
            raise UserError(f"unknown class {name!r}", f"choose from {', '.join(sorted(by_name))} (or their synset ids)")
        chosen[synset] = layout.SHAPENET_CLASSES[synset]
    return dict(sorted(chosen.items()))


def model_id(seed: int, synset: str, index: int) -> str:
    """A 32-hex-digit id like ShapeNet's, fixed by (seed, synset, index)."""
    return hashlib.sha256(f"vitocc-synth/{seed}/{synset}/{index}".encode()).hexdigest()[:32]


def plan(dest: Path, classes: dict[str, str], shapes_per_class: int, seed: int) -> list[writer.ModelTask]:
    """One task per model; each has its own random stream (seed, synset, index)."""
    return [writer.ModelTask(dest / synset / model_id(seed, synset, i), (synset, i), (seed, int(synset), i))
            for synset in classes for i in range(shapes_per_class)]


def generate_dataset(dest: str | Path, shapes_per_class: int = 200, counts: writer.Counts = writer.Counts(),
                     seed: int = 0, workers: int = 2, classes: Sequence[str] | None = None,
                     show_progress: bool = True) -> writer.BuildReport:
    """Write (or resume) the synthetic data set in the real layout under `dest`.

    The same seed and options give byte-identical npz files; models already on disk are
    kept, so a killed run continues where it stopped. Lists and metadata.yaml are written
    last, over the models that exist; failed shapes are listed in the report, not raised.
    """
    from vitocc.data.synth import make_source

    if shapes_per_class < 1:
        raise UserError(f"--shapes-per-class must be >= 1, got {shapes_per_class}")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest} exists and is not a folder", "choose another --dest")
    chosen = resolve_classes(classes)
    if dest.is_dir() and any(dest.iterdir()) and not (dest / writer.PARAMS_FILE).is_file():
        raise UserError(f"{dest} is not empty and was not made by vitocc synth",
                        "choose a new or empty --dest (its lists and metadata.yaml would be rewritten)")
    dest.mkdir(parents=True, exist_ok=True)
    writer.check_build_params(dest, writer.params_of(counts, generator="vitocc synth", version=GENERATOR_VERSION,
                                                        seed=seed))
    tasks = plan(dest, chosen, shapes_per_class, seed)
    report = writer.build_models(tasks, make_source, counts, workers, show_progress, label="synth")
    known = layout.read_metadata(dest) if (dest / layout.METADATA_FILE).is_file() else {}
    classes_on_disk = dict(sorted({**known, **chosen}.items()))  # runs may add classes to a data set
    splits = {}
    for synset in classes_on_disk:
        ids = [p.name for p in (dest / synset).iterdir() if p.is_dir() and not p.name.startswith(".")]
        splits[synset] = writer.split_ids(ids, seed)
    writer.write_dataset_index(dest, classes_on_disk, splits)
    return report


def preview_sheet(root: str | Path, per_class: int = 20, view: int = 0, label_width: int = 90) -> np.ndarray:
    """Contact sheet (H,W,3) uint8: one row per class (name on the left), view `view` of its
    first `per_class` models (ids sorted)."""
    from PIL import Image, ImageDraw

    from vitocc.render import contact_sheet

    root = Path(root)
    rows = []
    for synset, name in layout.read_metadata(root).items():
        folders = sorted(p for p in (root / synset).iterdir() if p.is_dir() and not p.name.startswith("."))
        images = []
        for folder in folders[:per_class]:
            with Image.open(folder / layout.IMG_FOLDER / layout.image_name(view)) as image:
                images.append(np.asarray(image.convert("RGB")))
        if images:
            rows.append((name, images))
    if not rows:
        raise UserError(f"no models under {root}", "generate some first with vitocc synth")
    columns = max(len(images) for _, images in rows)
    blank = np.full_like(rows[0][1][0], 255)
    tiles = [image for _, images in rows for image in images + [blank] * (columns - len(images))]
    sheet = Image.fromarray(np.pad(contact_sheet(tiles, columns), ((0, 0), (label_width, 0), (0, 0)), constant_values=255))
    draw = ImageDraw.Draw(sheet)
    row_height = (sheet.height - 2) // len(rows)
    for i, (name, _) in enumerate(rows):
        draw.text((6, 2 + i * row_height + row_height // 2 - 6), name, fill=(0, 0, 0))
    return np.asarray(sheet)


def write_preview(root: str | Path, path: str | Path, per_class: int = 20) -> None:
    """Write :func:`preview_sheet` as a PNG with a 256-colour palette (a few hundred KB)."""
    from PIL import Image

    from vitocc.io import atomic_path

    sheet = Image.fromarray(preview_sheet(root, per_class))
    palette = sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    with atomic_path(path) as tmp:
        palette.save(tmp, format="PNG", optimize=True)
