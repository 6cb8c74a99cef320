"""What a class generator returns: convex parts and the material of each."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vitocc.data.synth.materials import Material
from vitocc.data.synth.primitives import Part, Points


@dataclass
class Shape:
    """An object in its generator's frame (y up, front +x): parts and their materials."""

    parts: list[Part] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    style: str = ""  # the style the generator drew ("bar_stool", "airliner", ...), for tests and counts

    def material(self, material: Material) -> int:
        """Register a material; returns its index for `add`."""
        self.materials.append(material)
        return len(self.materials) - 1

    def add(self, points: Points | list[Points], material: int, mirror_z: bool = False) -> None:
        """Add one part (M,3) or several (a list, e.g. tube segments); `mirror_z` adds the z-mirrored copy too."""
        for pts in points if isinstance(points, list) else [points]:
            self.parts.append(Part(np.asarray(pts, dtype=np.float64), material))
            if mirror_z:
                self.parts.append(Part(np.asarray(pts, dtype=np.float64) * [1.0, 1.0, -1.0], material))

    @property
    def part_material(self) -> np.ndarray:
        """(P,) material index of every part."""
        return np.array([p.material for p in self.parts], dtype=np.int64)


def choose(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of `weights` (style -> probability, normalised here) drawn with its probability."""
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=np.float64)
    return names[rng.choice(len(names), p=p / p.sum())]
