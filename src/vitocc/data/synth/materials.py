"""Plausible random materials (paint, plastic, wood, metal, fabric, glass) and the renderer's colours.

A material is a base colour and a kind; wood gets a procedural grain along its part's
longest axis (a `color_fn` for `vitocc.render`), the others one flat colour per part,
so Lambert + ambient shading gives the look of the real renders.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vitocc.data.synth.solid import Solid


@dataclass(frozen=True)
class Material:
    """Base colour (r, g, b) in [0,1] and a kind: "plain", "wood" or "metal"."""

    color: tuple[float, float, float]
    kind: str = "plain"


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1))))


def paint(rng: np.random.Generator) -> Material:
    """Any hue, from pastel to saturated, or a neutral white/grey/black (common in real models)."""
    if rng.random() < 0.35:
        return Material(_hsv(0.6, rng.uniform(0, 0.08), rng.choice([0.12, 0.3, 0.55, 0.8, 0.92]) + rng.uniform(-0.05, 0.05)))
    return Material(_hsv(rng.random(), rng.uniform(0.25, 0.9), rng.uniform(0.35, 0.95)))


def wood(rng: np.random.Generator) -> Material:
    """Light oak to dark walnut."""
    return Material(_hsv(rng.uniform(0.05, 0.11), rng.uniform(0.35, 0.7), rng.uniform(0.3, 0.85)), "wood")


def metal(rng: np.random.Generator) -> Material:
    """Steel, aluminium, chrome or brass-like greys."""
    if rng.random() < 0.15:
        return Material(_hsv(rng.uniform(0.1, 0.14), rng.uniform(0.3, 0.6), rng.uniform(0.55, 0.8)), "metal")
    return Material(_hsv(rng.uniform(0.55, 0.65), rng.uniform(0.0, 0.12), rng.uniform(0.45, 0.9)), "metal")


def fabric(rng: np.random.Generator) -> Material:
    """Muted upholstery colours."""
    return Material(_hsv(rng.random(), rng.uniform(0.05, 0.55), rng.uniform(0.25, 0.85)))


def dark(rng: np.random.Generator) -> Material:
    """Black to dark grey plastic or rubber (screens, tyres, handles)."""
    return Material(_hsv(rng.uniform(0.55, 0.7), rng.uniform(0, 0.2), rng.uniform(0.05, 0.25)))


def glass(rng: np.random.Generator) -> Material:
    """Dark tinted glass (car windows, displays)."""
    return Material(_hsv(rng.uniform(0.5, 0.65), rng.uniform(0.2, 0.5), rng.uniform(0.12, 0.35)))


def light(rng: np.random.Generator) -> Material:
    """White to light grey (airplanes, hulls, lamp shades)."""
    return Material(_hsv(rng.uniform(0, 1), rng.uniform(0, 0.08), rng.uniform(0.75, 0.97)))


KINDS: dict[str, Callable[[np.random.Generator], Material]] = {
    "paint": paint, "wood": wood, "metal": metal, "fabric": fabric, "dark": dark, "glass": glass, "light": light,
}


def pick(rng: np.random.Generator, **weights: float) -> Material:
    """A material of a kind drawn with the given weights, e.g. pick(rng, wood=2, metal=1)."""
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=np.float64)
    return KINDS[names[rng.choice(len(names), p=p / p.sum())]](rng)


def face_colors(solid: Solid, materials: list[Material], part_material: np.ndarray) -> np.ndarray:
    """(F,3) base colour of every face of the solid's mesh."""
    palette = np.array([m.color for m in materials], dtype=np.float64)
    return palette[np.asarray(part_material)[solid.face_part]]


def color_function(solid: Solid, materials: list[Material], part_material: np.ndarray,
                   rng: np.random.Generator) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A render `color_fn`: the parts' colours with a faint, smooth shade variation (+-5%, as
    worn paint or fabric) and a wood grain along the longest side of wooden parts."""
    wooden = np.array([m.kind == "wood" for m in materials])[np.asarray(part_material)]
    base = face_colors(solid, materials, part_material)
    axes = np.zeros((len(solid.parts), 3))
    for i, part in enumerate(solid.parts):
        axes[i, np.argmax(part.hi - part.lo)] = 1.0
    freq, phase = rng.uniform(25, 45), rng.uniform(0, 2 * np.pi)
    waves = rng.normal(size=(3, 3)) * rng.uniform(2, 6)  # three smooth waves across the object
    offsets = rng.uniform(0, 2 * np.pi, 3)
    triangles = solid.mesh.triangles

    def color_fn(face: np.ndarray, bary: np.ndarray) -> np.ndarray:
        points = np.einsum("kj,kjd->kd", bary, triangles[face])
        part = solid.face_part[face]
        factor = 1.0 + 0.05 / 3 * np.sin(points @ waves.T + offsets).sum(axis=1)
        axis = axes[part]
        along = np.einsum("kd,kd->k", points, axis)
        across = (points - along[:, None] * axis) @ np.array([0.48, 0.6, 0.64])  # grain runs along the axis
        grain = np.sin(freq * across + 1.2 * np.sin(7 * along + phase) + 2.0 * part)
        factor *= np.where(wooden[part], 1.0 + 0.07 * grain, 1.0)
        return base[face] * factor[:, None]

    return color_fn
