"""Copy example pictures (and their ground truth) from the test split of a synthetic data set.

For each requested class, the first model of its test.lst gives `examples/<class>.png`
(view 000, as rendered by `vitocc synth`) and `examples/gt/<class>/points.npz` (20k of
the model's 100k IoU points, same format), so tests can score reconstructions of the
README's pictures.

Run: python scripts/make_examples.py data/synthetic --out examples --classes chair,car,airplane,table
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from vitocc.data import layout
from vitocc.io import atomic_path, write_text

N_GT_POINTS = 20_000


def make_examples(data: Path, out: Path, classes: list[str]) -> list[Path]:
    """Write one picture + GT per class name; returns the picture paths."""
    by_name = {name: synset for synset, name in layout.read_metadata(data).items()}
    written = []
    for name in classes:
        synset = by_name[name]
        model = layout.read_split_list(data / synset, "test")[0]
        folder = data / synset / model
        picture = out / f"{name}.png"
        with atomic_path(picture) as tmp:
            Image.open(folder / layout.IMG_FOLDER / layout.image_name(0)).convert("RGB").save(tmp)
        points, occ = layout.read_points_npz(folder / layout.POINTS_FILE)
        keep = np.random.default_rng(0).choice(len(points), N_GT_POINTS, replace=False)
        with np.load(folder / layout.POINTS_FILE) as f:
            loc, scale = f["loc"], float(f["scale"])
        layout.write_points_npz(out / "gt" / name / layout.POINTS_FILE, points[keep], occ[keep], loc, scale)
        write_text(out / "gt" / name / "source.txt", f"{synset}/{model} (test split), view 000\n")
        written.append(picture)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--out", type=Path, default=Path("examples"))
    parser.add_argument("--classes", default="chair,car,airplane,table")
    args = parser.parse_args()
    for path in make_examples(args.data, args.out, args.classes.split(",")):
        print(path)


if __name__ == "__main__":
    main()
