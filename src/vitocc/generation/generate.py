"""Images to meshes with a trained model: one batch at a time, or every model of a split.

`generate_meshes` is the core (encode, batched MISE, marching cubes, post-processing);
`generate_split` runs it over a data set split as the evaluation protocol prescribes (view
`data.test_view`) and writes RUN_DIR/generation/<split>/: meshes/<class>/<model>.obj, the
input pictures in inputs/<class>/<model>.jpg and stats.json with the time of every stage.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import trimesh

from vitocc.config import GenerationConfig
from vitocc.config.validation import check_generation  # noqa: F401 - its old home; generation.reconstruct moves off it
from vitocc.generation import meshing
from vitocc.generation.mise import logit, mise

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
                    device: torch.device | str = "cpu") -> list[tuple[trimesh.Trimesh, MeshInfo]]:
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
        result = mise(lambda points, index: model.decode_flat(points, c, index), n, gen.resolution0,
                      gen.upsampling_steps, gen.threshold, gen.padding, gen.points_batch, device)
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
                                   len(mesh.faces), bool(len(mesh.faces)) and mesh.is_watertight, stages,
                                   projection=projections[b])))
    return out


def _field_fn(model: torch.nn.Module, c: torch.Tensor) -> meshing.FieldFn:
    """Logits of one shape (code c (1, c_dim)) at points (N,3): differentiable in the points."""
    return lambda points: model.decode(points[None], c)[0]


def postprocess(mesh: trimesh.Trimesh, field_fn: meshing.FieldFn, gen: GenerationConfig,
                device: torch.device | str = "cpu") -> trimesh.Trimesh:
    """Simplify to `gen.simplify_nfaces`, refine for `gen.refinement_steps`, then attach field normals
    if `gen.vertex_normals` (last, since they depend on the final vertex positions)."""
    if len(mesh.faces) == 0:
        return mesh
    if gen.simplify_nfaces:
        mesh = meshing.simplify(mesh, gen.simplify_nfaces)
    if gen.refinement_steps > 0:
        mesh = meshing.refine(mesh, field_fn, gen.threshold, gen.refinement_steps, device)
    if gen.vertex_normals:
        normals = meshing.field_normals(mesh.vertices, field_fn, device)
        mesh = trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_normals=normals, process=False)
    return mesh


def generate_split(run_dir: str | Path, split: str = "test", source: str | Path | None = None,
                   data: str | Path | None = None, overrides: Sequence[str] = (), overwrite: bool = False,
                   device: torch.device | str = "cpu",
                   progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Generate the mesh of every model of `split` into RUN_DIR/generation/<split>/; returns the stats.

    `source`: checkpoint to use (default: the run's best, else last); `data`: the data set
    folder (default `data.path` of the run's config); `overrides`: `section.key=value` (e.g.
    `generation.resolution0=64`). Meshes already on disk are kept unless `overwrite`.
    `progress(done, total)` is called after every batch. Stats are also written to
    generation/<split>/stats.json, unless this call generated nothing (then the file keeps
    the figures of the run that made the meshes).
    """
    from vitocc.config import apply_overrides
    from vitocc.data import layout
    from vitocc.data.dataset import ShapeNetDataset
    from vitocc.io import write_bytes, write_json
    from vitocc.models import load_model
    from vitocc.models.loading import checkpoint_file
    from vitocc.runs import RunDir, describe_checkpoint

    start = time.perf_counter()
    run_dir = Path(run_dir)
    weights = checkpoint_file(source if source is not None else run_dir)
    model, cfg = load_model(weights, device)
    checkpoint = describe_checkpoint(weights)
    cfg = apply_overrides(cfg, overrides)
    gen = cfg.generation
    dataset = ShapeNetDataset(Path(data) if data is not None else Path(cfg.data.path), split, cfg.data,
                              fields=("inputs",), image_mean=model.image_mean, image_std=model.image_std)
    setup = time.perf_counter() - start  # model and data set index
    run = RunDir(run_dir)
    stats_path = run.generation_stats(split)

    def mesh_path(shape) -> Path:
        return run.mesh(split, shape.class_id, shape.model_id)

    todo = [i for i, s in enumerate(dataset.shapes) if overwrite or not mesh_path(s).is_file()]
    if todo:
        _warn_if_other_checkpoint(stats_path, checkpoint["path"], len(dataset) - len(todo))
    seconds = dict.fromkeys(STAGES, 0.0)
    per_shape, failed = [], []
    done = 0
    if progress:
        progress(0, len(todo))
    for first in range(0, len(todo), gen.batch_size):
        t0 = time.perf_counter()
        keys = todo[first:first + gen.batch_size]
        items = dataset.__getitems__(keys)
        good = [it for it in items if "broken" not in it]
        for key, it in zip(keys, items):
            if "broken" in it:
                shape = dataset.shapes[key]
                failed.append({"class_id": shape.class_id, "model_id": shape.model_id, "error": it["broken"]})
                log.error("%s", it["broken"])
        seconds["load"] += time.perf_counter() - t0
        if good:
            results = generate_meshes(model, torch.stack([it["inputs"] for it in good]), gen, device)
            for it, (mesh, info) in zip(good, results):
                t1 = time.perf_counter()
                shape = dataset.shapes[it["index"]]
                save_mesh(mesh, mesh_path(shape))
                picture = shape.folder / cfg.data.img_folder / layout.image_name(cfg.data.test_view)
                write_bytes(run.input_picture(split, shape.class_id, shape.model_id, picture.suffix),
                            picture.read_bytes())
                info.stages["write"] = time.perf_counter() - t1
                for stage, value in info.stages.items():
                    seconds[stage] += value
                per_shape.append({"class_id": shape.class_id, "model_id": shape.model_id,
                                  "seconds": info.seconds, "points_queried": info.points_queried,
                                  "vertices": info.vertices, "faces": info.faces, "watertight": info.watertight})
        done += len(items)
        if progress:
            progress(done, len(todo))
    total = time.perf_counter() - start
    n = len(per_shape)
    stats = {
        "split": split,
        "device": str(device),
        "checkpoint": checkpoint,
        "generation": asdict(gen),
        "shapes": len(dataset),
        "generated": n,
        "skipped": len(dataset) - len(todo),
        "failed": failed,
        "seconds_total": total,
        "seconds_setup": setup,  # loading the model and listing the split
        "seconds_per_shape": (total - setup) / n if n else None,
        "seconds_by_stage": seconds,
        "points_queried_per_shape": sum(s["points_queried"] for s in per_shape) / n if n else None,
        "dense_points": (gen.resolution0 * 2**gen.upsampling_steps + 1) ** 3,
        "empty_meshes": sum(1 for s in per_shape if s["faces"] == 0),
        "watertight_meshes": sum(1 for s in per_shape if s["watertight"]),
        "per_shape": per_shape,
    }
    if n == 0 and not failed and stats_path.is_file():
        return stats  # nothing was generated: keep the figures of the run that made the meshes
    write_json(stats_path, stats)
    return stats


def _warn_if_other_checkpoint(stats_path: Path, checkpoint: str, kept: int) -> None:
    """Warn when meshes kept on disk were made by other weights than the ones generating now."""
    if kept == 0 or not stats_path.is_file():
        return
    try:
        previous = json.loads(stats_path.read_text()).get("checkpoint", {}).get("path")
    except (ValueError, AttributeError):
        return
    if previous and previous != checkpoint:
        log.warning("%d meshes in %s were made with %s, the new ones with %s: pass --overwrite to remake "
                    "them all with one checkpoint", kept, stats_path.parent, previous, checkpoint)


MESH_FORMATS = (".obj", ".ply", ".off", ".stl", ".glb")


def save_mesh(mesh: trimesh.Trimesh, path: str | Path) -> None:
    """Write `mesh` atomically in the format its suffix names (.obj .ply .off .stl .glb).

    Vertex colours, when the mesh has them, go into every format but .stl: .ply and .glb (COLOR_0)
    as their standards say, .obj as the common `v x y z r g b` extension, .off as COFF."""
    from vitocc.errors import UserError
    from vitocc.io import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_FORMATS:
        raise UserError(f"{path}: unknown mesh format '{suffix}'", f"use one of {' '.join(MESH_FORMATS)}")
    with atomic_path(path) as tmp:
        if suffix == ".obj" and len(mesh.faces) == 0:  # trimesh writes a malformed "v" line for no vertices
            tmp.write_text("# empty mesh: nothing was above the threshold\n")
        elif suffix == ".off" and mesh.visual.kind == "vertex":  # trimesh writes OFF without colours
            tmp.write_text(write_coff(mesh))
        else:
            mesh.export(tmp, file_type=suffix[1:])


def write_coff(mesh: trimesh.Trimesh) -> str:
    """The text of a COFF file: OFF with each vertex followed by its colour r g b a (0-255)."""
    import numpy as np

    colours = np.asarray(mesh.visual.vertex_colors, dtype=np.uint8)
    vertices = np.char.mod("%.7g", np.asarray(mesh.vertices, dtype=np.float64))
    lines = [" ".join(v) + " " + " ".join(map(str, c)) for v, c in zip(vertices, colours)]
    faces = [f"3 {a} {b} {c}" for a, b, c in np.asarray(mesh.faces)]
    return "\n".join(["COFF", f"{len(lines)} {len(faces)} 0", *lines, *faces]) + "\n"
