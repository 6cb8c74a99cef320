"""Run directories in the real layout for the evaluation tests: box GT, predicted meshes as box unions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from box_data import write_box_dataset
from vitocc.config import Config, save_config
from vitocc.data import layout

CLASSES = {"03001627": "chair", "04379243": "table"}


def box_union(boxes: np.ndarray, shift: float = 0.0):
    """The closed union of (n, 2, 3) [min, max] boxes, translated by `shift` along x."""
    import trimesh

    parts = [trimesh.creation.box(bounds=b + np.array([shift, 0.0, 0.0])) for b in boxes]
    return parts[0] if len(parts) == 1 else trimesh.boolean.union(parts, engine="manifold")


def _make_run(root: Path, name: str, data: Path, shift: float = 0.0, empty: tuple[str, ...] = ()) -> Path:
    """A run directory whose test meshes are the GT boxes shifted by `shift`; models in `empty` get empty OBJs."""
    run = root / name
    cfg = Config()
    cfg.data.path = str(data)
    cfg.test.num_workers = 1
    cfg.test.n_points = 20_000  # GT has 4096 points: 20k prediction samples keep the tests quick
    save_config(cfg, run / "config.yaml")
    for synset in layout.read_metadata(data):
        for model in layout.read_split_list(data / synset, "test"):
            path = run / "generation" / "test" / "meshes" / synset / f"{model}.obj"
            path.parent.mkdir(parents=True, exist_ok=True)
            if model in empty:
                path.write_text("# empty mesh: nothing was above the threshold\n")
            else:
                box_union(np.load(data / synset / model / "boxes.npy"), shift).export(path)
    return run


@pytest.fixture(scope="session")
def eval_data(tmp_path_factory) -> Path:
    """8 box models per class (2 in the test split), 4096 points, one view. Read-only."""
    root = tmp_path_factory.mktemp("eval_data") / "ShapeNet"
    return write_box_dataset(root, CLASSES, models_per_class=8, n_points=4096, n_views=1, seed=3)


@pytest.fixture(scope="session")
def make_run():
    """`make_run(root, name, data, shift=0.0, empty=())` -> a run directory (see `_make_run`)."""
    return _make_run
