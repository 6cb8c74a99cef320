"""Images to meshes with a trained model, one batch at a time: encode, batched MISE, marching
cubes, post-processing (`generation.split` runs it over a data set split)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from vitocc.config import GenerationConfig
from vitocc.generation import meshing
from vitocc.generation.mise import mise
from vitocc.mesh import Mesh
from vitocc.models.decoder import logit

log = logging.getLogger(__name__)

STAGES = ("load", "encode", "mise_decoder", "mise_other", "marching_cubes", "postprocess", "write")


@dataclass
class MeshInfo:
    """What one generated mesh cost and what it is."""

    seconds: float  # this shape's share of its batch (encode + MISE) plus its own meshing
    points_queried: int
    vertices: int
    faces: int
    watertight: bool
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (shares of the batch)
    picture: Any = field(default=None, repr=False)  # PIL image the model saw (set by reconstruct_images)
    projection: Any = field(default=None, repr=False)  # the model's camera P (3, 4) numpy, None without a camera head


def generate_meshes(model: torch.nn.Module, images: torch.Tensor, gen: GenerationConfig,
                    device: torch.device | str = "cpu") -> list[tuple[Mesh, MeshInfo]]:
    """Meshes of B normalised images (B, 3, S, S) (see `vitocc.data.transforms.image_to_tensor`).

    The whole batch goes through the encoder and one MISE run (ragged decoder calls of at
    most `gen.points_batch` points); each mesh is then extracted and post-processed
    (simplification, refinement, field normals) on its own.
    """
    from vitocc.devices import autocast

    device = torch.device(device)
    n = len(images)
    t0 = time.perf_counter()
    with torch.inference_mode(), autocast(device, gen.amp, "generation.amp"):
        c = model.encode(images.to(device))
        t_encode = time.perf_counter() - t0
        result = mise(model.field(c), n, gen.resolution0,
                      gen.upsampling_steps, gen.threshold, gen.padding, gen.points_batch, device, gen.first_level_margin,
                      gen.finest_level_ratio)
    shared = {"encode": t_encode / n, "mise_decoder": result.seconds_query / n,
              "mise_other": (result.seconds_total - result.seconds_query) / n}
    c = c.float().clone()  # a normal tensor (not an inference one): refinement needs gradients
    projections = [None] * n if c.projection is None else list(c.projection.cpu().numpy())
    out = []
    for b in range(n):
        t1 = time.perf_counter()
        mesh = meshing.marching_cubes(result.values[b].cpu().numpy(), logit(gen.threshold), gen.padding)
        t2 = time.perf_counter()
        mesh = postprocess(mesh, _field_fn(model, c[b:b + 1]), gen, device)
        t3 = time.perf_counter()
        stages = dict(shared, marching_cubes=t2 - t1, postprocess=t3 - t2)
        out.append((mesh, MeshInfo(sum(stages.values()), result.n_queried[b], len(mesh.vertices),
                                   len(mesh.faces), mesh.is_closed, stages,
                                   projection=projections[b])))
    return out


def _field_fn(model: torch.nn.Module, c: torch.Tensor) -> meshing.FieldFn:
    """Logits of one shape (code c (1, c_dim)) at points (N,3): differentiable in the points."""
    return lambda points: model.decode(points[None], c)[0]


def postprocess(mesh: Mesh, field_fn: meshing.FieldFn, gen: GenerationConfig,
                device: torch.device | str = "cpu") -> Mesh:
    """Simplify to `gen.simplify_nfaces`, refine for `gen.refinement_steps`, then attach field normals
    if `gen.vertex_normals` (last, since they depend on the final vertex positions)."""
    if len(mesh.faces) == 0:
        return mesh
    if gen.simplify_nfaces:
        mesh = meshing.simplify(mesh, gen.simplify_nfaces)
    if gen.refinement_steps > 0:
        mesh = meshing.refine(mesh, field_fn, gen.threshold, gen.refinement_steps, device)
    if gen.vertex_normals:
        mesh = replace(mesh, vertex_normals=meshing.field_normals(mesh.vertices, field_fn, device))
    return mesh
