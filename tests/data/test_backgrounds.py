"""Training-side backgrounds (data.background_prob): renders on white composited over procedural backgrounds."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vitocc.config import DataConfig, load_config
from vitocc.data.dataset import ShapeNetDataset
from vitocc.data.transforms import BACKGROUND_KINDS, composite_background, object_coverage, procedural_background
from vitocc.errors import UserError


def render_on_white(size: int = 64) -> np.ndarray:
    image = np.full((size, size, 3), 255, np.uint8)
    image[20:50, 16:48] = (180, 40, 40)
    return image


@pytest.mark.parametrize("kind", BACKGROUND_KINDS)
def test_each_background_kind_varies_and_keeps_the_object(kind):
    rgb = render_on_white()
    behind = procedural_background(rgb.shape[:2], kind, np.random.default_rng(0), object_coverage(rgb))
    assert behind.shape == (64, 64, 3) and 0 <= behind.min() and behind.max() <= 255
    assert behind.reshape(-1, 3).std(axis=0).max() > 5  # not one colour
    out = np.asarray(composite_background(Image.fromarray(rgb), np.random.default_rng(0)))
    assert np.array_equal(out[20:50, 16:48], rgb[20:50, 16:48])
    assert (np.abs(out[:10].astype(int) - 255).max(axis=2) > 0).mean() > 0.9  # the white is gone
    wide = procedural_background((40, 90), kind, np.random.default_rng(1))
    assert wide.shape == (40, 90, 3)


def test_the_floor_carries_the_objects_shadow():
    rgb = render_on_white()
    with_shadow = procedural_background((64, 64), "floor", np.random.default_rng(3), object_coverage(rgb))
    without = procedural_background((64, 64), "floor", np.random.default_rng(3))
    darker = (with_shadow.sum(axis=2) < without.sum(axis=2) - 10)
    assert darker[40:64].any() and not darker[:15].any()  # below the object's bottom, not at the top


def test_the_dataset_composites_training_pictures_only_when_asked(box_dataset):
    off = ShapeNetDataset(box_dataset, "train", DataConfig(img_size=64, num_workers=0), fields=("inputs", "points"),
                          train=True)
    on = ShapeNetDataset(box_dataset, "train", DataConfig(img_size=64, num_workers=0, background_prob=1.0),
                         fields=("inputs", "points"), train=True)
    plain, composited = off[(0, 7)], on[(0, 7)]
    corner = (slice(None), slice(0, 4), slice(0, 4))
    white = plain["inputs"][corner]
    assert not np.allclose(composited["inputs"][corner].numpy(), white.numpy())
    evaluation = ShapeNetDataset(box_dataset, "val", DataConfig(img_size=64, num_workers=0, background_prob=1.0),
                                 fields=("inputs",))
    reference = ShapeNetDataset(box_dataset, "val", DataConfig(img_size=64, num_workers=0), fields=("inputs",))
    assert np.array_equal(evaluation[0]["inputs"].numpy(), reference[0]["inputs"].numpy())  # never at evaluation


def test_background_prob_is_checked_when_the_config_loads():
    assert load_config(None, ["data.background_prob=0.5"]).data.background_prob == 0.5
    with pytest.raises(UserError, match="data.background_prob must be in"):
        load_config(None, ["data.background_prob=1.5"])
