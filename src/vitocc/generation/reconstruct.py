"""Pictures (files or PIL images) to meshes with a loaded model: the library side of `vitocc reconstruct`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from PIL import Image

from vitocc.config import GenerationConfig
from vitocc.config.validation import check_generation
from vitocc.generation.generate import MeshInfo, generate_meshes
from vitocc.generation.images import load_image, prepare_image
from vitocc.mesh import Mesh


def reconstruct_images(inputs: Sequence[str | Path | Image.Image], model: torch.nn.Module,
                       gen: GenerationConfig, device: torch.device | str = "cpu",
                       crop: bool = True, colour: bool = True,
                       cut_background: bool = True) -> list[tuple[Mesh, MeshInfo]]:
    """One mesh per picture, in `gen.batch_size` batches.

    Paths are read with `load_image` (a UserError names the first bad file: check files
    one by one with `load_image` first to report them all); PIL images are prepared the
    same way (`cut_background`: an opaque picture whose background is not plain is cut out
    first, see `generation.segment`). Returns (mesh, info) per input: a `vitocc.mesh.Mesh` (numpy arrays;
    `mesh.to_trimesh()` for trimesh's tools) and its `MeshInfo`; `info.picture` is the
    square picture the model saw (for previews), `info.projection` the model's camera.
    With `colour`, meshes carry vertex colours from the picture (`generation.colour`: under
    the model's camera, or the best-fitting view of the render framing for a model without one).
    """
    return list(iter_reconstructions(inputs, model, gen, device, crop, colour, cut_background))


def iter_reconstructions(inputs: Sequence[str | Path | Image.Image], model: torch.nn.Module,
                         gen: GenerationConfig, device: torch.device | str = "cpu",
                         crop: bool = True, colour: bool = True,
                         cut_background: bool = True) -> Iterator[tuple[Mesh, MeshInfo]]:
    """`reconstruct_images` one (mesh, info) at a time, as each batch is done: a caller that saves
    each mesh at once keeps the finished ones when a long folder is interrupted."""
    from vitocc.data.transforms import image_to_tensor
    from vitocc.generation.colour import colour_mesh

    check_generation(gen)
    pictures = [prepare_image(x, crop, cut_background=cut_background) if isinstance(x, Image.Image)
                else load_image(x, crop, cut_background=cut_background) for x in inputs]
    for first in range(0, len(pictures), gen.batch_size):
        batch = pictures[first:first + gen.batch_size]
        tensors = torch.stack([image_to_tensor(p, model.image_size, model.image_mean, model.image_std)
                               for p in batch])
        for (mesh, info), picture in zip(generate_meshes(model, tensors, gen, device), batch):
            info.picture = picture
            if colour:
                mesh = colour_mesh(mesh, picture, info.projection)
            yield mesh, info
