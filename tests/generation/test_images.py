"""Users' pictures: every kind of file becomes a square RGB picture on white, or one clear error."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitocc.errors import UserError
from vitocc.generation import images
from vitocc.generation.images import OBJECT_FILL, find_images, load_image


def object_box(image: Image.Image) -> tuple[int, int, int, int]:
    """Bounding box of the non-white pixels."""
    dark = (np.asarray(image) < 200).any(axis=2)
    rows, cols = np.flatnonzero(dark.any(1)), np.flatnonzero(dark.any(0))
    return cols[0], rows[0], cols[-1] + 1, rows[-1] + 1


def photo(width=300, height=200, box=(40, 50, 140, 110), background=(240, 240, 235)) -> Image.Image:
    """A dark red rectangle `box` on a light background."""
    image = Image.new("RGB", (width, height), background)
    image.paste((150, 20, 20), box)
    return image


def test_crop_centres_the_object_with_the_training_margin(tmp_path):
    photo().save(tmp_path / "p.png")
    out = load_image(tmp_path / "p.png")
    assert out.mode == "RGB" and out.width == out.height == round(100 / OBJECT_FILL)
    left, top, right, bottom = object_box(out)
    assert right - left == 100 and bottom - top == 60
    assert abs((left + right) / 2 - out.width / 2) <= 1 and abs((top + bottom) / 2 - out.height / 2) <= 1
    assert tuple(np.asarray(out)[0, 0]) == (240, 240, 235)  # the photo's own background is kept


def test_an_object_at_the_edge_is_padded_with_white(tmp_path):
    photo(box=(0, 0, 100, 60)).save(tmp_path / "corner.png")
    out = np.asarray(load_image(tmp_path / "corner.png"))
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[-1, -1]) == (240, 240, 235)
    assert object_box(Image.fromarray(out))[2] - object_box(Image.fromarray(out))[0] == 100


def test_no_crop_keeps_the_whole_frame_padded_to_a_square(tmp_path):
    photo().save(tmp_path / "p.png")
    out = load_image(tmp_path / "p.png", crop=False)
    assert out.size == (300, 300)
    assert object_box(out) == (40, 50 + 50, 140, 110 + 50)


def test_rgba_is_composited_on_white_and_cropped_by_alpha(tmp_path):
    rgba = np.zeros((100, 120, 4), np.uint8)  # transparent black background
    rgba[30:70, 20:60] = (0, 0, 255, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    out = np.asarray(load_image(tmp_path / "cut.png"))
    assert tuple(out[0, 0]) == (255, 255, 255)
    assert tuple(out[out.shape[0] // 2, out.shape[1] // 2]) == (0, 0, 255)
    assert out.shape[0] == round(40 / OBJECT_FILL)


def test_grayscale_and_16_bit_become_8_bit_rgb(tmp_path):
    gray = np.full((64, 64), 230, np.uint8)
    gray[16:48, 16:48] = 30
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "deep.png")  # 16-bit PNG
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    for name in ("gray.png", "deep.png"):
        out = np.asarray(load_image(tmp_path / name))
        assert out.dtype == np.uint8 and out.shape[2] == 3
        assert tuple(out[out.shape[0] // 2, out.shape[1] // 2]) == (30, 30, 30)


def test_exif_orientation_is_honoured(tmp_path):
    image = photo(300, 200, box=(0, 0, 100, 200))  # dark band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: viewers rotate 90 degrees clockwise
    image.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    out = np.asarray(load_image(tmp_path / "phone.jpg", crop=False))
    assert out.shape[:2] == (300, 300)
    assert out[:100, 150].mean() < 150 and out[-50:, 150].mean() > 200  # the band is now at the top


def test_huge_and_tiny_images(tmp_path):
    photo(6000, 4000, box=(1000, 1000, 3000, 2500)).save(tmp_path / "huge.png")
    huge = load_image(tmp_path / "huge.png")
    assert huge.width == huge.height and huge.width <= 2048 / OBJECT_FILL
    photo(3, 2, box=(1, 0, 2, 1)).save(tmp_path / "tiny.png")
    with pytest.raises(UserError, match="tiny.png: the picture is only 3x2 px"):
        load_image(tmp_path / "tiny.png")
    Image.new("RGB", (1, 1), (10, 20, 30)).save(tmp_path / "one.png")  # dark: no cut is tried, no warning first
    with pytest.raises(UserError, match="one.png: the picture is only 1x1 px"):
        load_image(tmp_path / "one.png")
    photo(200, 200, box=(90, 90, 110, 110)).save(tmp_path / "speck.png")
    with pytest.raises(UserError, match="speck.png: the object is only 20 px across"):
        load_image(tmp_path / "speck.png")


def test_pictures_without_an_object_are_refused(tmp_path):
    Image.new("RGB", (200, 200), (255, 255, 255)).save(tmp_path / "white.png")
    Image.new("RGBA", (200, 200), (90, 0, 0, 0)).save(tmp_path / "clear.png")
    for name in ("white.png", "clear.png"):
        with pytest.raises(UserError, match=f"{name}: no object found"):
            load_image(tmp_path / name)


def test_an_object_cut_by_the_frame_is_warned_about(tmp_path, caplog):
    photo(300, 300, box=(150, 60, 300, 240)).save(tmp_path / "cut.png")  # runs off the right edge
    with caplog.at_level("WARNING", logger="vitocc"):
        load_image(tmp_path / "cut.png")
    assert "touches the edge" in caplog.text


@pytest.mark.parametrize("name,content,message", [
    ("notes.png", b"this is text, not a picture\n", "not an image"),
    ("empty.jpg", b"", "empty"),
    ("broken.jpg", None, "damaged image"),
])
def test_bad_files_are_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:  # a real JPEG cut in half
        photo().save(tmp_path / "whole.jpg", quality=95)
        content = (tmp_path / "whole.jpg").read_bytes()[:600]
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as info:
        load_image(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_folders(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_image(tmp_path / "nope.png")
    (tmp_path / "pics").mkdir()
    with pytest.raises(UserError, match="holds no images"):
        find_images([tmp_path / "pics"])
    photo().save(tmp_path / "pics" / "b.png")
    photo().save(tmp_path / "pics" / "a.JPG")
    (tmp_path / "pics" / "readme.txt").write_text("hi")
    assert [p.name for p in find_images([tmp_path / "pics"])] == ["a.JPG", "b.png"]


def test_sensor_noise_does_not_stretch_the_crop():
    rng = np.random.default_rng(0)
    noisy = np.asarray(photo(300, 300, box=(40, 150, 100, 190)), np.float64) + rng.normal(0, 8, (300, 300, 3))
    noisy = np.clip(np.round(noisy), 0, 255).astype(np.uint8)  # ~1% of the background pixels pass the tolerance
    opaque = np.full((300, 300), 255, np.uint8)
    assert images.object_box(noisy, opaque) == (40, 150, 100, 190)
    speck = np.full((5, 5, 3), 255, np.uint8)
    speck[2, 3] = 0  # a lone dark pixel is still an object when nothing else stands out
    assert images.object_box(speck, opaque[:5, :5]) == (3, 2, 4, 3)


def test_a_background_that_is_not_plain_is_warned_about(tmp_path, caplog):
    ramp = np.linspace(90, 230, 200)[:, None, None] * np.ones((200, 300, 3))  # a studio gradient, top to bottom
    ramp[80:120, 100:200] = (150, 20, 20)
    Image.fromarray(ramp.astype(np.uint8)).save(tmp_path / "gradient.png")
    photo().save(tmp_path / "plain.png")
    with caplog.at_level(logging.WARNING, logger="vitocc.generation.images"):
        load_image(tmp_path / "plain.png")
        load_image(tmp_path / "gradient.png", crop=False, cut_background=False)  # the whole frame: nothing to warn about
        cut = np.asarray(load_image(tmp_path / "gradient.png"))  # the default cuts the background away: no warning
        assert not caplog.records
        load_image(tmp_path / "gradient.png", cut_background=False)
    assert len(caplog.records) == 1
    assert (cut[0, 0] == 255).all() and (np.abs(cut[cut.shape[0] // 2, cut.shape[1] // 2] - (150, 20, 20)) < 5).all()
    assert str(tmp_path / "gradient.png") in caplog.text and "not plain" in caplog.text
    assert images.plain_border_share(ramp.astype(np.uint8)) < images.PLAIN_BORDER
    assert images.plain_border_share(np.asarray(photo(box=(0, 50, 300, 110)))) > images.PLAIN_BORDER  # touches two sides


def test_pictures_framed_like_the_training_renders_keep_their_framing(tmp_path):
    """The object's size in a render tells the model its scale: re-cropping it to OBJECT_FILL
    would change that, so render-like pictures (square, centred, training fill) stay as they are."""
    examples = sorted((Path(__file__).parents[2] / "examples").glob("*.png"))
    assert examples
    for path in examples:  # renders of the synthetic test split
        with Image.open(path) as original:
            assert np.array_equal(np.asarray(load_image(path)), np.asarray(original.convert("RGB"))), path.name
    photo(137, 137, box=(40, 45, 100, 95)).save(tmp_path / "framed.png")  # fill 0.44, centred
    assert load_image(tmp_path / "framed.png").size == (137, 137)
    photo(300, 300, box=(130, 130, 170, 160)).save(tmp_path / "small.png")  # fill 0.13: cropped around it
    assert load_image(tmp_path / "small.png").size == (round(40 / OBJECT_FILL),) * 2


@pytest.mark.parametrize("box, width, height, framed", [
    ((40, 45, 100, 95), 137, 137, True),
    ((40, 45, 100, 95), 180, 137, False),  # not square
    ((0, 45, 60, 95), 137, 137, False),  # touches the edge
    ((5, 5, 45, 45), 137, 137, False),  # off-centre
    ((10, 10, 127, 127), 137, 137, True),  # fill 0.85
    ((2, 2, 135, 135), 137, 137, False),  # fill 0.97: tighter than any render
])
def test_framed_like_render(box, width, height, framed):
    assert images.framed_like_render(box, width, height) is framed
