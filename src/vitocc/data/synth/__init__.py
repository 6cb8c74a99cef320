"""Procedural objects of the 13 ShapeNet classes, with exact occupancy, for `vitocc synth`.

Each class generator (`GENERATORS[synset](rng) -> Shape`) draws a style and proportions
and returns convex parts with materials; :func:`make_source` turns one into the
`ModelSource` that `vitocc.data.writer` writes in the real layout.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vitocc.data.layout import SHAPENET_CLASSES
from vitocc.data.synth import chairs, furniture, objects, vehicles
from vitocc.data.synth.shape import Shape

GENERATORS: dict[str, Callable[[np.random.Generator], Shape]] = {
    "02691156": vehicles.airplane,
    "02828884": furniture.bench,
    "02933112": furniture.cabinet,
    "02958343": vehicles.car,
    "03001627": chairs.chair,
    "03211117": objects.display,
    "03636649": objects.lamp,
    "03691459": objects.loudspeaker,
    "04090263": vehicles.rifle,
    "04256520": furniture.sofa,
    "04379243": furniture.table,
    "04401088": objects.telephone,
    "04530566": vehicles.vessel,
}
assert set(GENERATORS) == set(SHAPENET_CLASSES)


def make_solid(synset: str, rng: np.random.Generator):
    """Draw one object of class `synset`: its Solid (canonical frame) and its Shape (parts, materials)."""
    from vitocc.data.synth.solid import build_solid

    shape = GENERATORS[synset](rng)
    return build_solid(shape.parts), shape


def make_source(payload: tuple[str, int], rng: np.random.Generator):
    """writer.SourceFn for synth: payload (synset, index) -> ModelSource with exact occupancy."""
    from vitocc.data.synth.materials import color_function, face_colors
    from vitocc.data.writer import ModelSource
    from vitocc.render import Light

    solid, shape = make_solid(payload[0], rng)
    part_material = shape.part_material
    ambient = rng.uniform(0.28, 0.42)  # a slightly different light per model, never brighter than white
    light = Light((rng.uniform(0.05, 0.6), rng.uniform(0.15, 0.7), 1.0), ambient, rng.uniform(0.5, 0.95 - ambient))
    return ModelSource(
        mesh=solid.mesh,
        occupancy_fn=solid.contains,
        face_colors=face_colors(solid, shape.materials, part_material),
        color_fn=color_function(solid, shape.materials, part_material, rng),
        light=light,
    )
