"""Meshes the data tests share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image


def two_colour_texture(size: int = 32) -> Image.Image:
    """Left half (u < 0.5) red, right half blue."""
    pixels = np.zeros((size, size, 3), np.uint8)
    pixels[:, : size // 2] = (255, 0, 0)
    pixels[:, size // 2:] = (0, 0, 255)
    return Image.fromarray(pixels)


def textured_cube() -> trimesh.Trimesh:
    """A unit cube whose every face shows the whole texture: u runs along the face's first tangent."""
    vertices, faces, uv = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            normal = np.zeros(3)
            normal[axis] = sign
            t1 = np.roll(normal, 1) if sign > 0 else -np.roll(normal, 1)
            t2 = np.cross(normal, t1)
            base = len(vertices)
            for s1, s2 in [(-1, -1), (1, -1), (1, 1), (-1, 1)]:
                vertices.append(0.5 * (normal + s1 * t1 + s2 * t2))
                uv.append([(s1 + 1) / 2, (s2 + 1) / 2])
            faces += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    mesh = trimesh.Trimesh(np.array(vertices), np.array(faces), process=False)
    material = trimesh.visual.material.SimpleMaterial(image=two_colour_texture(), diffuse=(255, 255, 255, 255))
    mesh.visual = trimesh.visual.TextureVisuals(uv=np.array(uv), material=material)
    return mesh


@pytest.fixture(scope="session")
def textured_cube_file():
    """write(folder, suffix=".obj") -> path of a textured cube file (OBJ + MTL + PNG, or GLB)."""
    return write_textured_cube


def write_textured_cube(folder: Path, suffix: str = ".obj") -> Path:
    path = folder / f"cube{suffix}"
    textured_cube().export(path)
    return path
