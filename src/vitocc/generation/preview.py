"""A picture to check a reconstruction without a 3D viewer: the input next to three renders of the mesh."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from vitocc.mesh import Mesh

# (elevation, azimuth) in degrees: front-left, back-right and a side view from higher up.
VIEWS = ((25.0, 45.0), (25.0, 225.0), (50.0, 135.0))
FIELD_OF_VIEW_HALF = 0.43  # radians: half the view angle of the data's cameras (atan(68.5 / 149.844))
# Vertex colours taken from a picture hold its shading already: a brighter, flatter light for them.
COLOUR_LIGHT_AMBIENT, COLOUR_LIGHT_DIFFUSE = 0.65, 0.4


def preview_row(picture: Image.Image, mesh: Mesh, size: int = 256) -> np.ndarray:
    """(size, 4*size, 3) uint8: the input picture, then the mesh from the three VIEWS (shaded; in its vertex
    colours when it has them, else grey).

    The cameras look at the centre of the mesh's bounding box from just far enough for
    its bounding sphere to fit, so small and box-filling meshes are both framed.
    """
    from vitocc.data.cameras import camera_matrix, world_matrix
    from vitocc.render import Light, render_mesh, vertex_color_fn

    shown = mesh.to_trimesh()
    style = {}
    if mesh.vertex_colours is not None and len(mesh.vertices):
        style = {"color_fn": vertex_color_fn(shown),
                 "light": Light(ambient=COLOUR_LIGHT_AMBIENT, diffuse=COLOUR_LIGHT_DIFFUSE)}
    panels = [np.asarray(picture.convert("RGB").resize((size, size), Image.BILINEAR))]
    for elevation, azimuth in VIEWS:
        if len(mesh.faces) == 0:
            panels.append(np.full((size, size, 3), 255, np.uint8))
            continue
        centre = mesh.bounds.mean(axis=0)
        distance = 1.05 * np.linalg.norm(mesh.extents) / 2 / np.sin(FIELD_OF_VIEW_HALF)
        panels.append(render_mesh(shown, world_matrix(distance, elevation, azimuth), camera_matrix(size),
                                  size=size, loc=-centre, antialias=2, **style))
    return np.concatenate(panels, axis=1)


def write_preview(path: str | Path, rows: Sequence[tuple[Image.Image, Mesh]], size: int = 256) -> None:
    """Write a PNG with one `preview_row` per (picture, mesh), atomically."""
    from vitocc.io import atomic_path
    from vitocc.render import contact_sheet

    sheet = contact_sheet([preview_row(p, m, size) for p, m in rows], columns=1)
    with atomic_path(path) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
