"""Users' pictures to model inputs: decoded safely, upright, RGB on white, cropped like the renders.

The model was trained on 137x137 renders of one object on a white background, filling
about 70% of the frame. A photo or a cut-out PNG is brought to that look:
EXIF orientation applied, transparency composited on white, 16-bit and grayscale images
converted to 8-bit RGB, then (unless `crop=False`) cropped around the object and padded
to a square with a margin. Every failure is one UserError naming the file. An opaque picture
whose background is not plain white (a room, a gradient, a grey backdrop) is cut out first (`generation.segment`,
GrabCut seeded from the border) unless `cut_background=False`: neither the crop nor the
model can tell the object from such a background (docs/real-style.md); a user's own mask
(`mask`) replaces the cut.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from vitocc.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
OBJECT_FILL = 0.7  # longer side of the object / side of the square: 0.5-0.85 in the training renders
BACKGROUND_TOLERANCE = 24  # 8-bit difference from the border colour that counts as object
MAX_WORKING_SIDE = 2048  # huge photos are reduced to this before anything else
WHITE = (255, 255, 255)
PLAIN_BORDER = 0.5  # below this share of border pixels in the border's median colour, the background is not plain
# A square picture whose object fills and sits like in the training renders is kept as it is framed:
# the object's size in the frame tells the model its scale (1st-99th percentile of 600 renders:
# fill 0.37-0.93, centre offset <= 0.12 of the side).
RENDER_FILL = (0.35, 0.95)
RENDER_OFFSET = 0.15
MIN_OBJECT_PX = 32  # an object smaller than this across carries too little for a 137 px input

log = logging.getLogger(__name__)


def load_image(path: str | Path, crop: bool = True, cut_background: bool = True,
               mask: str | Path | None = None) -> Image.Image:
    """A square RGB picture of the object in file `path`, ready for `image_to_tensor`.

    `mask`: an image file whose white (or opaque) pixels are the object (see `prepare_image`).
    UserError if the file (or the mask) is missing, empty, not an image, or damaged.
    """
    path = Path(path)
    image = _read(path)
    object_mask = None
    if mask is not None:
        object_mask = mask_array(_read(Path(mask)), image.size, f"--mask {mask}")
    return prepare_image(image, crop=crop, name=str(path), cut_background=cut_background, mask=object_mask)


def mask_array(image: Image.Image, size: tuple[int, int], name: str = "mask") -> np.ndarray:
    """(H, W) bool of a mask picture for a picture of `size` (W, H): its alpha where it has transparency,
    else its grey level above half. A mask of another size but the same shape is scaled; UserError otherwise."""
    if image.size != size:
        if abs(image.width / image.height - size[0] / size[1]) > 0.01 * size[0] / size[1]:
            raise UserError(f"{name}: the mask is {image.width}x{image.height}, the picture {size[0]}x{size[1]}",
                            "give a mask of the picture's size")
        image = image.resize(size, Image.NEAREST)
    rgba = np.asarray(to_rgba8(image))
    values = rgba[..., 3] if rgba[..., 3].min() < 255 else rgba[..., :3].max(axis=2)
    found = values > 127
    if not found.any():
        raise UserError(f"{name}: the mask is empty (no white or opaque pixel)")
    return found


def _read(path: Path) -> Image.Image:
    """The decoded, upright image in file `path`; UserError naming it when it cannot be read."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: the file is empty")
    try:
        with Image.open(path) as image:
            image.draft("RGB", (MAX_WORKING_SIDE, MAX_WORKING_SIDE))  # JPEG: decode at reduced size
            image.load()
            image = ImageOps.exif_transpose(image)
    except UnidentifiedImageError:
        raise UserError(f"{path}: not an image (or a format Pillow cannot read)") from None
    except Image.DecompressionBombError:
        raise UserError(f"{path}: the image is too large to decode safely", "downscale it first") from None
    except (OSError, ValueError, SyntaxError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: damaged image ({reason})") from None
    if image.width == 0 or image.height == 0:
        raise UserError(f"{path}: the image has no pixels")
    return image


def prepare_image(image: Image.Image, crop: bool = True, name: str = "picture", cut_background: bool = True,
                  mask: np.ndarray | None = None) -> Image.Image:
    """Any PIL image -> square 8-bit RGB on white, cropped around the object when `crop`.

    `mask` (H, W) bool of the image's size: the object (everything else becomes white). Without it an
    opaque picture that `needs_cut` is cut out with `segment.grabcut_mask` when
    `cut_background` (a warning if the cut fails, and the picture is kept whole).

    UserError (naming `name`) when no mesh can come of it: the picture or the object in it is under
    MIN_OBJECT_PX across, nothing stands out from the background (a blank or fully transparent
    picture), or the automatic cut finds no object (the picture used whole gives a slab of
    background: IoU 0.159 against 0.671 for the same objects on white, docs/real-style.md).
    When cropping, logs a warning if an opaque picture's background is not plain (kept with
    `cut_background=False`) or the object touches the frame (it may be cut off: the frame-tight
    renders, often cut by the edges, still score IoU 0.428 against 0.626 in docs/real-style.md,
    so such pictures are warned about, not refused).
    """
    if max(image.size) < MIN_OBJECT_PX:
        raise UserError(f"{name}: the picture is only {image.width}x{image.height} px",
                        f"an object needs at least {MIN_OBJECT_PX} px across")
    if max(image.size) > MAX_WORKING_SIDE:
        image = image.copy()
        image.thumbnail((MAX_WORKING_SIDE, MAX_WORKING_SIDE), Image.BILINEAR)
    rgba = to_rgba8(image)
    if mask is None and cut_background and np.asarray(rgba)[..., 3].min() == 255 and needs_cut(np.asarray(rgba)[..., :3]):
        mask = _cut(np.asarray(rgba)[..., :3], name)
    if mask is not None:
        if mask.shape != (image.height, image.width):
            mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(image.size, Image.NEAREST)) > 127
        rgba = np.asarray(rgba).copy()
        rgba[..., 3] = np.minimum(rgba[..., 3], mask.astype(np.uint8) * 255)
        rgba = Image.fromarray(rgba)
    rgb = np.asarray(rgba, dtype=np.float32)
    alpha = rgb[..., 3:] / 255.0
    rgb = np.round(rgb[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    alpha8 = np.asarray(rgba)[..., 3]
    box = object_box(rgb, alpha8)
    if box is None:
        raise UserError(f"{name}: no object found (the picture is blank, or fully transparent)")
    if max(box[2] - box[0], box[3] - box[1]) < MIN_OBJECT_PX:
        raise UserError(f"{name}: the object is only {max(box[2] - box[0], box[3] - box[1])} px across",
                        f"at least {MIN_OBJECT_PX} px are needed")
    if not crop:
        return square(Image.fromarray(rgb), None)
    _warn_about_framing(rgb, box, alpha8.min() == 255, name)
    if framed_like_render(box, rgb.shape[1], rgb.shape[0]):
        box = None
    return square(Image.fromarray(rgb), box)


def _warn_about_framing(rgb: np.ndarray, box: tuple[int, int, int, int], opaque: bool, name: str) -> None:
    """Warn when an opaque picture's background is not plain (it was kept), else when the object touches the edge."""
    if opaque and (plain := plain_border_share(rgb)) < PLAIN_BORDER:
        log.warning("%s: the background is not plain (only %.0f%% of the border is one colour) and is kept: the "
                    "auto-crop cannot find the object and the model, trained on objects on white, will shape the "
                    "background too; let the automatic cut run (no --keep-background), give a --mask, or use a "
                    "cut-out PNG with transparency", name, 100 * plain)
    elif box[0] == 0 or box[1] == 0 or box[2] == rgb.shape[1] or box[3] == rgb.shape[0]:
        log.warning("%s: the object touches the edge of the picture and may be cut off; the mesh will lack what "
                    "the picture does not show", name)


def needs_cut(rgb: np.ndarray) -> bool:
    """Whether the background of an opaque picture rgb (H, W, 3) uint8 must be cut away: its border is not plain
    (a room, a gradient), or it is plain but not white (a grey backdrop, a uniform texture such as a floor seen
    from above, which the border test takes as plain), which the model never saw behind an object."""
    if plain_border_share(rgb) < PLAIN_BORDER:
        return True
    return bool((np.median(_border(rgb), axis=0) < 255 - BACKGROUND_TOLERANCE).any())


def _cut(rgb: np.ndarray, name: str) -> np.ndarray:
    """The object's mask (H, W) bool in rgb (H, W, 3) uint8, a picture that `needs_cut` (on plain white the
    crop finds the object, and white is what the model saw behind it); a UserError when GrabCut finds no
    object (see `prepare_image`)."""
    from vitocc.generation.segment import grabcut_mask

    found = grabcut_mask(rgb)
    if found is None:
        raise UserError(f"{name}: the background is not plain white and the automatic cut found no object in it",
                        "give --mask MASK.png to say where the object is, or --keep-background to use the picture "
                        "whole (then the mesh is mostly background)")
    return found


def framed_like_render(box: tuple[int, int, int, int], width: int, height: int) -> bool:
    """Whether an object at `box` in a width x height picture is framed like the training renders:
    a square picture, the object clear of the edges, filling RENDER_FILL and near the centre."""
    left, top, right, bottom = box
    side = max(width, height)
    fill = max(right - left, bottom - top) / side
    offset = max(abs(left + right - width), abs(top + bottom - height)) / (2 * side)
    return (abs(width - height) <= 0.01 * side and left > 0 and top > 0 and right < width and bottom < height
            and RENDER_FILL[0] <= fill <= RENDER_FILL[1] and offset <= RENDER_OFFSET)


def to_rgba8(image: Image.Image) -> Image.Image:
    """8-bit RGBA of any mode: 16/32-bit and float grayscale rescaled, palettes expanded."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        # 16-bit files hold 0..65535; float images are taken as 0..1 when they look like it.
        top = 1.0 if image.mode == "F" and values.max() <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        gray = np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGBA")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("PA")
    return image.convert("RGBA")


def object_box(rgb: np.ndarray, alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the object in rgb (H,W,3) uint8 with alpha (H,W) uint8.

    The object is where alpha is set (when the image has real transparency), else where
    the colour differs from the border's median colour; there, isolated specks (sensor noise:
    one stray pixel would stretch the box to the frame) are dropped by a 3x3 majority
    filter, unless nothing else stands out. None when nothing stands out.
    """
    if alpha.min() < 255:
        mask = alpha > 127
    else:
        background = np.median(_border(rgb), axis=0)
        mask = np.abs(rgb.astype(np.int16) - background).max(axis=2) > BACKGROUND_TOLERANCE
        despeckled = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MedianFilter(3))) > 0
        mask = despeckled if despeckled.any() else mask
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def plain_border_share(rgb: np.ndarray) -> float:
    """Share of the outermost pixels of rgb (H,W,3) uint8 within BACKGROUND_TOLERANCE of their median colour.

    ~1 for an object on a plain backdrop (a little less when it touches the frame); far
    lower for a room, a floor or a colour gradient.
    """
    border = _border(rgb).astype(np.int16)
    return float(np.mean(np.abs(border - np.median(border, axis=0)).max(axis=1) <= BACKGROUND_TOLERANCE))


def _border(rgb: np.ndarray) -> np.ndarray:
    """The outermost pixels (K,3) of rgb (H,W,3), corners twice."""
    return np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])


def square(image: Image.Image, box: tuple[int, int, int, int] | None) -> Image.Image:
    """The square, white-padded picture around `box` (object filling OBJECT_FILL), or the whole frame padded."""
    if box is None:
        left, top, right, bottom = 0, 0, image.width, image.height
        side = max(image.width, image.height)
    else:
        left, top, right, bottom = box
        side = max(1, round(max(right - left, bottom - top) / OBJECT_FILL))
    out = Image.new("RGB", (side, side), WHITE)
    # Centre the box; parts of the frame that fall outside the square are cut, missing parts stay white.
    out.paste(image, ((side - left - right) // 2, (side - top - bottom) // 2))
    return out


def find_images(inputs: list[str | Path]) -> list[Path]:
    """Folders expanded to their image files (sorted, not recursive); anything else kept as is.

    Missing files are kept so that `load_image` reports them with the other bad files;
    a folder without images is a UserError.
    """
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            images = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not images:
                raise UserError(f"folder {item} holds no images", f"suffixes read: {' '.join(IMAGE_SUFFIXES)}")
            found += images
        else:
            found.append(item)
    return found
