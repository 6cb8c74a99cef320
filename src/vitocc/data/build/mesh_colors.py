"""Colours of a user's mesh where camera rays hit it: textures, material and vertex colours.

The renderer calls a colour function with the hit faces and barycentric coordinates; this
module builds that function from the mesh's own visuals. Texture colour is looked up at
the hit's UV (interpolated from the face's corner UVs, wrapped like glTF's REPEAT), with
nearest or bilinear filtering. Parts without any colour get a fallback colour.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ColorFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (K,) faces, (K,3) barycentric -> (K,3) RGB in [0,1]


def sample_texture(image: np.ndarray, uv: np.ndarray, mode: str = "bilinear") -> np.ndarray:
    """Texel colours (K,C) float32 of `image` (H,W,C) float at texture coordinates `uv` (K,2).

    u runs left to right, v bottom to top (OBJ/glTF convention after trimesh's loading);
    coordinates outside [0,1] repeat; bilinear filtering clamps at the image border, so
    atlas islands at one edge do not bleed into the opposite edge. `mode` is "nearest" or
    "bilinear".
    """
    h, w = image.shape[:2]
    x = np.mod(uv[:, 0], 1.0) * w - 0.5  # texel centres sit at half-integers
    y = (1.0 - np.mod(uv[:, 1], 1.0)) * h - 0.5
    if mode == "nearest":
        return image[np.mod(np.round(y).astype(np.int64), h), np.mod(np.round(x).astype(np.int64), w)].astype(np.float32)
    if mode != "bilinear":
        raise ValueError(f"unknown texture filter {mode!r}: use nearest or bilinear")
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    xs, ys = np.clip([x0, x0 + 1], 0, w - 1), np.clip([y0, y0 + 1], 0, h - 1)
    top = image[ys[0], xs[0]] * (1 - fx) + image[ys[0], xs[1]] * fx
    bottom = image[ys[1], xs[0]] * (1 - fx) + image[ys[1], xs[1]] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """sRGB [0,1] -> linear [0,1] (the standard piecewise curve)."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Linear [0,1] -> sRGB [0,1]."""
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def part_color_fn(part, mode: str = "bilinear") -> ColorFn | None:
    """Colour function of one trimesh part from its visuals, or None when it has no colour.

    Faces passed to the function index the part's own faces. Sources, first found wins:
    a texture at the hit's UV (glTF: times baseColorFactor, in linear light), a material
    colour, vertex colours (interpolated), face colours.
    """
    visual = part.visual
    if visual.kind == "texture":
        material = visual.material
        texture, factor = _material_texture_and_factor(material)
        uv = getattr(visual, "uv", None)
        if texture is not None and uv is not None and len(uv) == len(part.vertices):
            uv = np.asarray(uv, np.float64)
            faces = np.asarray(part.faces)
            image = srgb_to_linear(texture) if factor is not None else texture

            def texture_colors(face: np.ndarray, bary: np.ndarray) -> np.ndarray:
                hit_uv = np.einsum("kj,kjc->kc", bary, uv[faces[face]])
                rgb = sample_texture(image, hit_uv, mode)
                return linear_to_srgb(rgb * factor) if factor is not None else rgb

            return texture_colors
        color = _material_color(material)
        if color is not None:
            return constant_color_fn(color)
    if visual.kind == "vertex":
        vertex = np.asarray(visual.vertex_colors, np.float32)[:, :3] / 255.0
        faces = np.asarray(part.faces)
        return lambda face, bary: np.einsum("kj,kjc->kc", bary, vertex[faces[face]]).astype(np.float32)
    if visual.kind == "face":
        colors = np.asarray(visual.face_colors, np.float32)[:, :3] / 255.0
        return lambda face, bary: colors[face]
    return None


def mesh_color_fn(parts: list, part_faces: np.ndarray, fallback: Callable[[int], ColorFn],
                  mode: str = "bilinear") -> tuple[ColorFn, int]:
    """One colour function over concatenated `parts` (faces of part k at part_faces[k]:part_faces[k+1]).

    Parts with no colour of their own use `fallback(k)`. Returns the function and the
    number of parts that had colours of their own.
    """
    own = [part_color_fn(p, mode) for p in parts]
    fns = [fn if fn is not None else fallback(k) for k, fn in enumerate(own)]

    def colors(face: np.ndarray, bary: np.ndarray) -> np.ndarray:
        face = np.asarray(face, np.int64)
        part = np.searchsorted(part_faces, face, side="right") - 1
        out = np.empty((len(face), 3), np.float32)
        for k in np.unique(part):
            sel = part == k
            out[sel] = fns[k](face[sel] - part_faces[k], bary[sel])
        return out

    return colors, sum(fn is not None for fn in own)


def constant_color_fn(rgb) -> ColorFn:
    """A colour function that paints every hit `rgb` (3,) in [0,1]."""
    rgb = np.asarray(rgb, np.float32)
    return lambda face, bary: np.broadcast_to(rgb, (len(face), 3)).copy()


def _material_texture_and_factor(material) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(H,W,3) float texture in sRGB [0,1] or None, and glTF's linear base-colour factor (3,) or None."""
    from trimesh.visual.material import PBRMaterial

    if isinstance(material, PBRMaterial):
        image = material.baseColorTexture
        factor = material.baseColorFactor
        factor = None if factor is None else np.asarray(factor, np.float32)[:3] / 255.0  # trimesh keeps uint8
    else:
        image, factor = getattr(material, "image", None), None
    texture = None if image is None else np.asarray(image.convert("RGB"), np.float32) / 255.0
    return texture, factor


def _material_color(material) -> np.ndarray | None:
    """A material's flat sRGB colour (3,) in [0,1], or None."""
    from trimesh.visual.material import PBRMaterial

    if isinstance(material, PBRMaterial):
        factor = _material_texture_and_factor(material)[1]
        return None if factor is None else linear_to_srgb(factor).astype(np.float32)
    diffuse = getattr(material, "diffuse", None)
    return None if diffuse is None else np.asarray(diffuse, np.float32)[:3] / 255.0
