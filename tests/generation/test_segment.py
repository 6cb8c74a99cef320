"""Photos with backgrounds: the automatic cut (generation.segment), a user's mask, and when neither applies."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from vitocc.errors import UserError
from vitocc.generation import images, segment
from vitocc.generation.images import load_image, prepare_image


def scene(size: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like picture (size, size, 3) uint8 and its object (size, size) bool: a two-tone object (a red
    body and a dark blue top) on a wooden-looking floor under a grey-blue wall, with a soft shadow."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 1, size)[:, None, None]
    wall = (1 - rows) * np.array([150, 165, 185]) + rows * np.array([200, 195, 180])
    floor = np.array([150, 100, 60]) * (0.85 + 0.15 * np.sin(np.arange(size) / 5.0))[None, :, None]
    image = np.where(rows * np.ones((size, size, 1)) > 0.55, floor, wall) + rng.normal(0, 4, (size, size, 3))
    shadow = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shadow).ellipse((70, 150, 220, 190), fill=255)
    shadow = np.asarray(shadow.filter(ImageFilter.GaussianBlur(6)), np.float64)[..., None] / 255
    image = image * (1 - 0.5 * shadow)
    obj = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(obj)
    draw.rectangle((60, 90, 180, 170), fill=1)
    draw.rectangle((80, 60, 160, 90), fill=2)
    labels = np.asarray(obj)
    image[labels == 1] = (200, 40, 40)
    image[labels == 2] = (30, 40, 110)
    return np.clip(image, 0, 255).astype(np.uint8), labels > 0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


def test_grabcut_finds_the_object_on_a_background_with_a_shadow():
    picture, truth = scene()
    assert images.plain_border_share(picture) < images.PLAIN_BORDER  # the default pipeline would cut it
    found = segment.grabcut_mask(picture)
    assert found is not None and found.shape == truth.shape
    assert iou(found, truth) > 0.85
    assert np.array_equal(found, segment.grabcut_mask(picture))  # the same cut every time


def test_grabcut_gives_up_on_a_picture_with_no_object():
    noise = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    assert segment.grabcut_mask(noise) is None


def test_the_default_pipeline_cuts_only_opaque_pictures_without_a_plain_background(monkeypatch):
    picture, truth = scene()
    calls = []
    real = segment.grabcut_mask
    monkeypatch.setattr(segment, "grabcut_mask", lambda rgb: calls.append(rgb.shape) or real(rgb))
    cut = np.asarray(prepare_image(Image.fromarray(picture), crop=False))
    assert calls == [picture.shape[:1] * 2 + (3,)]
    assert (cut[~truth] == 255).mean() > 0.9 and np.abs(cut[truth].astype(int) - picture[truth]).max() == 0
    kept = np.asarray(prepare_image(Image.fromarray(picture), crop=False, cut_background=False))
    assert np.array_equal(kept, picture) and len(calls) == 1
    plain = np.full((100, 100, 3), 255, np.uint8)
    plain[30:70, 30:70] = (10, 120, 10)
    prepare_image(Image.fromarray(plain))
    rgba = np.dstack([picture, truth.astype(np.uint8) * 255])
    prepare_image(Image.fromarray(rgba, "RGBA"))  # a cut-out: its alpha is the mask
    assert len(calls) == 1
    grey = np.full((100, 100, 3), 128, np.uint8)  # plain but not white: the model never saw it behind an object
    grey[30:70, 30:70] = (200, 30, 30)
    cut = np.asarray(prepare_image(Image.fromarray(grey), crop=False))
    assert len(calls) == 2 and (cut[:25] == 255).all() and (cut[40:60, 40:60] == (200, 30, 30)).all()


def test_a_users_mask_replaces_the_cut(tmp_path, monkeypatch):
    picture, truth = scene()
    Image.fromarray(picture).save(tmp_path / "photo.png")
    monkeypatch.setattr(segment, "grabcut_mask", lambda rgb: pytest.fail("the cut ran despite the mask"))
    Image.fromarray(truth.astype(np.uint8) * 255).save(tmp_path / "mask.png")
    cut = np.asarray(load_image(tmp_path / "photo.png", crop=False, mask=tmp_path / "mask.png"))
    assert (cut[~truth] == 255).all() and np.array_equal(cut[truth], picture[truth])
    # a mask at half the size is scaled; transparency counts as "not the object"
    half = Image.fromarray(np.dstack([np.zeros((240, 240, 3), np.uint8), truth.astype(np.uint8) * 255]), "RGBA")
    half.resize((120, 120), Image.NEAREST).save(tmp_path / "half.png")
    scaled = np.asarray(load_image(tmp_path / "photo.png", crop=False, mask=tmp_path / "half.png"))
    assert ((scaled != 255).any(axis=2) == truth).mean() > 0.98
    Image.new("L", (240, 100), 255).save(tmp_path / "wide.png")
    with pytest.raises(UserError, match="the mask is 240x100, the picture 240x240"):
        load_image(tmp_path / "photo.png", mask=tmp_path / "wide.png")
    Image.new("L", (240, 240), 0).save(tmp_path / "black.png")
    with pytest.raises(UserError, match="the mask is empty"):
        load_image(tmp_path / "photo.png", mask=tmp_path / "black.png")
    with pytest.raises(UserError, match="no such file"):
        load_image(tmp_path / "photo.png", mask=tmp_path / "missing.png")


@pytest.mark.parametrize("size, colour", [((1, 1), (10, 20, 30)), ((3, 40), (90, 90, 90)), ((60, 60), (90, 90, 90))])
def test_tiny_and_uniform_pictures_give_no_cut(size, colour):
    assert segment.grabcut_mask(np.full((*size, 3), colour, np.uint8)) is None


def test_a_failed_cut_refuses_the_picture_and_keep_background_takes_it_whole(monkeypatch):
    """Used whole, such a picture gives a slab of background (IoU 0.159 against 0.671 on white,
    docs/real-style.md): refused with a line naming the ways out; --keep-background is the user's choice."""
    picture, _ = scene()
    monkeypatch.setattr(segment, "grabcut_mask", lambda rgb: None)
    with pytest.raises(UserError, match="photo.jpg: the background is not plain white and the automatic cut found no "
                                        "object in it.*--mask.*--keep-background"):
        prepare_image(Image.fromarray(picture), name="photo.jpg")
    out = np.asarray(prepare_image(Image.fromarray(picture), name="photo.jpg", cut_background=False))
    assert (out != 255).any(axis=2).mean() > 0.4  # the background is still there (the frame at 0.7 of the square)
