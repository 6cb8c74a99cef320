"""Pictures (files or PIL images) to meshes with a loaded model: the library side of `vitocc reconstruct`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import trimesh
from PIL import Image

from vitocc.config import GenerationConfig
from vitocc.generation.generate import MeshInfo, check_generation, generate_meshes
from vitocc.generation.images import load_image, prepare_image


def reconstruct_images(inputs: Sequence[str | Path | Image.Image], model: torch.nn.Module,
                       gen: GenerationConfig, device: torch.device | str = "cpu",
                       crop: bool = True) -> list[tuple[trimesh.Trimesh, MeshInfo]]:
    """One mesh per picture, in `gen.batch_size` batches.

    Paths are read with `load_image` (a UserError names the first bad file: check files
    one by one with `load_image` first to report them all); PIL images are prepared the
    same way. Returns (mesh, info) per input; `info.picture` is the square picture the
    model saw (for previews).
    """
    from vitocc.data.transforms import image_to_tensor

    check_generation(gen)
    pictures = [prepare_image(x, crop) if isinstance(x, Image.Image) else load_image(x, crop) for x in inputs]
    out = []
    for first in range(0, len(pictures), gen.batch_size):
        batch = pictures[first:first + gen.batch_size]
        tensors = torch.stack([image_to_tensor(p, model.image_size, model.image_mean, model.image_std)
                               for p in batch])
        for (mesh, info), picture in zip(generate_meshes(model, tensors, gen, device), batch):
            info.picture = picture
            out.append((mesh, info))
    return out
