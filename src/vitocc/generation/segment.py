"""Cut the object out of a photo with a background: OpenCV's GrabCut seeded from the picture's border.

The model was trained on objects on white; a room or a gradient behind the object is shaped
into the mesh (docs/real-style.md). GrabCut (Rother et al., SIGGRAPH 2004) fits two colour
mixtures, one to the background and one to the object, and cuts the picture along the
graph cut between them. Seeded here with no user input: a band along the border is
background for sure, everything else maybe object; no weights are downloaded. What it keeps
is then cleaned: the largest connected part and parts at least MIN_PART of its size, small
holes filled. It works at WORK_SIDE pixels (a fraction of a second) and the mask is scaled back.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

WORK_SIDE = 192  # longer side of the picture GrabCut works on
BORDER_BAND = 0.04  # share of the shorter side along the border taken as sure background
ITERATIONS = 5
SHADOW_CHROMA = 0.03  # a shadow keeps the hue of what it falls on: unit-RGB distance to a background colour
SHADOW_DARKENING = (0.25, 0.92)  # and darkens it by a factor in this range
MAX_SHADOW = 0.5  # more "shadow" than this share of the cut is the object looking like its background: no shadow pass
MIN_PART = 0.1  # parts of the cut smaller than this share of the largest part are dropped
MAX_HOLE = 0.01  # holes in the cut smaller than this share of the object are filled
MIN_OBJECT = 0.005  # a cut keeping less than this share of the picture failed
MAX_OBJECT = 0.9  # a cut keeping more than this share of the picture failed


def grabcut_mask(rgb: np.ndarray) -> np.ndarray | None:
    """(H, W) bool of the object in rgb (H, W, 3) uint8, or None when the cut finds no plausible object
    (nearly nothing, or nearly everything, kept)."""
    import cv2
    from scipy import ndimage

    h, w = rgb.shape[:2]
    factor = min(1.0, WORK_SIDE / max(h, w))
    small = np.asarray(Image.fromarray(rgb).resize((max(8, round(w * factor)), max(8, round(h * factor))),
                                                   Image.BILINEAR)) if factor < 1 else rgb
    sh, sw = small.shape[:2]
    band = max(2, round(BORDER_BAND * min(sh, sw)))
    seeds = np.full((sh, sw), cv2.GC_PR_FGD, np.uint8)
    seeds[:band], seeds[-band:], seeds[:, :band], seeds[:, -band:] = (cv2.GC_BGD,) * 4
    if not (seeds == cv2.GC_PR_FGD).any():
        return None  # too small to hold a border and an object
    bgr = np.ascontiguousarray(small[..., ::-1])
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)  # background, object mixtures
    cv2.setRNGSeed(0)  # GrabCut's k-means start: the same cut every run
    mask = _grabcut(bgr, seeds, models)
    if mask is None:
        return None
    shadow = mask & shadow_like(small, ~mask)
    if 0 < shadow.sum() <= MAX_SHADOW * mask.sum():
        # A second cut in which what looks like shadowed background may be background (else keep the first).
        seeds[shadow] = cv2.GC_PR_BGD
        second = _grabcut(bgr, seeds, models)
        mask = mask if second is None else second
    labels, n = ndimage.label(mask)
    if n == 0:
        return None
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    mask = np.isin(labels, 1 + np.flatnonzero(sizes >= MIN_PART * sizes.max()))
    # Fill small holes (specks GrabCut got wrong), keep large ones: the background seen through a chair's back.
    holes, n_holes = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    if n_holes:
        hole_sizes = ndimage.sum(np.ones_like(mask), holes, index=np.arange(1, n_holes + 1))
        mask |= np.isin(holes, 1 + np.flatnonzero(hole_sizes < MAX_HOLE * mask.sum()))
    if not MIN_OBJECT <= mask.mean() <= MAX_OBJECT:
        return None
    if factor < 1:
        mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((w, h), Image.BILINEAR)) > 127
    return mask


def _grabcut(bgr: np.ndarray, seeds: np.ndarray, models: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """GrabCut on bgr (h, w, 3) uint8 from `seeds` (h, w) (refined in place, as are the colour `models`):
    the (h, w) bool of what it keeps, or None when it cannot fit its mixtures (e.g. too few distinct colours)."""
    import cv2

    try:
        cv2.grabCut(bgr, seeds, None, *models, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return None
    return (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)


def shadow_like(rgb: np.ndarray, background: np.ndarray, samples: int = 4000) -> np.ndarray:
    """(H, W) bool: pixels of rgb (H, W, 3) uint8 that look like a colour of the `background` pixels (H, W) bool
    in shadow: the same hue and saturation (direction of the RGB vector, within SHADOW_CHROMA) but darker by a
    factor in SHADOW_DARKENING (a shadow dims the light, it does not change the surface's colour)."""
    from scipy.spatial import cKDTree

    values = rgb.reshape(-1, 3).astype(np.float64) + 1.0
    brightness = np.linalg.norm(values, axis=1)
    direction = values / brightness[:, None]
    behind = np.flatnonzero(background.ravel())
    if len(behind) == 0:
        return np.zeros(background.shape, bool)
    behind = behind[np.linspace(0, len(behind) - 1, min(samples, len(behind))).astype(int)]
    tree = cKDTree(direction[behind])
    out = np.zeros(len(values), bool)
    candidates = np.flatnonzero(~background.ravel())
    for k, near in zip(candidates, tree.query_ball_point(direction[candidates], SHADOW_CHROMA)):
        if near:
            ratio = brightness[k] / brightness[behind[near]]
            out[k] = bool(((ratio >= SHADOW_DARKENING[0]) & (ratio <= SHADOW_DARKENING[1])).any())
    return out.reshape(background.shape)
