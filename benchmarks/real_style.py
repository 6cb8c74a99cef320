"""Real-style pictures: what the shipped model does when a picture stops looking like its training renders.

The model has only seen `vitocc synth` renders (one object on white, soft light from near
the camera, 25-30 degrees elevation, object filling ~70% of a 137 px frame). Real photos
differ in background, viewpoint, light, surface colour, camera quality and framing. Each
condition below changes ONE of these (everything else as in training) for the same fresh
synthetic shapes, whose exact meshes and occupancy are known, so the loss against the
baseline row is the cost of that difference alone:

    baseline          the training render (synth light and materials, elevation 25-30)
    bg-gradient       a smooth two-colour studio gradient instead of white
    bg-room           a wooden floor and a beige wall behind the object
    view-low          elevation 8 degrees (eye level)
    view-high         elevation 55 degrees (looking down)
    light-side        strong light from the upper left, dark ambient (no shadow)
    light-shadow      the same light, and the object's soft shadow on a white floor and wall
    colour-dark       every part near-black
    colour-saturated  every part a saturated colour
    texture           a high-contrast checker printed on the whole object
    camera            Gaussian blur (1 px), sensor noise (sigma 8/255), JPEG quality 40
    frame-small       the object small and off-centre in a 3x larger picture (tests the auto-crop)
    frame-tight       the object 1.45x larger: it fills the frame and may be cut by its edges

Shapes: `--shapes-per-class` fresh shapes of each of the 13 classes from the synth
generator with seed `--seed` (not the data set's seed 0, so never seen in training), a
training-like camera each. Pictures go through `reconstruct_images` exactly as
`vitocc reconstruct` sends them (auto-crop on, the background cut when it is not plain white,
unless `--keep-background`; no colours). Scored against the exact GT: IoU on 20k
uniform points in [-0.55, 0.55]^3, Chamfer-L1 x10 on 20k surface samples each way (the
metrics of `vitocc evaluate`, with 20k instead of 100k points for speed). "crop ok" is the
share of pictures whose auto-crop box (`generation.images.object_box`) matches the
object's true box (box IoU >= 0.8); "warned" the share that `vitocc reconstruct` warns
about (background not plain). Prints a Markdown table and writes a contact sheet (one
row per condition: input, what the model saw after the auto-crop, the mesh).

    python benchmarks/real_style.py [--checkpoint RUN|CKPT|model.safetensors] \
        [--shapes-per-class 1] [--seed 2026] [--out docs/images/real_style.png] [--keep-background]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep (shared CPU)

import numpy as np
import torch
import trimesh
from PIL import Image, ImageDraw, ImageFilter

from vitocc.data import cameras, layout, writer
from vitocc.data.synth import make_source
from vitocc.generation.images import PLAIN_BORDER, object_box, plain_border_share
from vitocc.mesh import Mesh
from vitocc.metrics import GroundTruth, evaluate_mesh
from vitocc.render import (
    Light,
    corner_normals,
    pixel_rays,
    render_mesh,
    render_silhouette,
    sample_grid,
)

N_POINTS = 20_000  # IoU points and surface samples per shape
SHEET_CLASSES = ("car", "sofa", "cabinet", "airplane")  # the contact sheet's shapes (first of each class)
TILE = 96  # pixels per panel of the contact sheet
WALL_DISTANCE = 1.0  # the room's wall: this far behind the object's centre (normalised frame, longest side 1)
SIDE_LIGHT = Light(direction=(1.0, 0.8, 0.35), ambient=0.1, diffuse=0.85)  # from the upper left, slightly in front


@dataclass
class TestShape:
    """One fresh synth shape with its render settings and exact ground truth (normalised frame)."""

    name: str  # class name
    mesh: trimesh.Trimesh
    scale: float  # render frame = normalised frame * scale (1 / bounding-box diagonal)
    face_colors: np.ndarray  # (F,3) float in [0,1]
    color_fn: Callable | None
    light: Light
    normals: np.ndarray  # (F,3,3) per-corner normals for smooth shading
    gt: GroundTruth
    distance: float
    elevation: float
    azimuth: float


@dataclass
class View:
    """How a picture is taken: camera angles, light, colours, background, canvas and effects."""

    elevation: float | None = None  # None: the shape's training-like elevation
    light: Light | None = None  # None: the shape's synth light
    face_colors: np.ndarray | None = None  # None: the shape's materials (with their color_fn)
    color_fn: Callable | None = None
    background: str = "white"  # "white", "gradient", "room" or "shadow" (white floor and wall, cast shadow)
    size: int = cameras.IMAGE_SIZE
    zoom: float = 1.0  # focal length relative to the training cameras
    centre: tuple[float, float] = (0.5, 0.5)  # principal point as a fraction of the picture's side
    camera_effects: bool = False


@dataclass
class Condition:
    name: str
    view: Callable[[TestShape], View]  # per shape, since colours depend on its faces


@dataclass
class Picture:
    image: np.ndarray  # (H,W,3) uint8, what the user would give
    coverage: np.ndarray  # (H,W) float in [0,1], how much of each pixel the object covers


@dataclass
class Scores:
    iou: list[float] = field(default_factory=list)
    chamfer_l1_x10: list[float] = field(default_factory=list)
    empty: list[bool] = field(default_factory=list)
    crop_ok: list[bool] = field(default_factory=list)
    warned: list[bool] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def make_shapes(per_class: int, seed: int) -> list[TestShape]:
    """`per_class` fresh shapes of each class, their exact GT and a training-like camera each."""
    shapes = []
    for synset, name in layout.SHAPENET_CLASSES.items():
        for index in range(per_class):
            rng = np.random.default_rng(np.random.SeedSequence([seed, int(synset), index]))
            source = make_source((synset, index), rng)
            points, occ = writer.sample_points(source.occupancy_fn, N_POINTS, rng)
            surface, normals = writer.sample_surface(source.mesh, N_POINTS, rng)
            gt = GroundTruth(surface.astype(np.float32), normals.astype(np.float32), points.astype(np.float32), occ)
            shapes.append(TestShape(
                name, source.mesh, writer.bbox_scale(source.mesh), source.face_colors, source.color_fn, source.light,
                corner_normals(source.mesh), gt, rng.uniform(*cameras.DISTANCE_RANGE),
                rng.uniform(*cameras.ELEVATION_RANGE_DEG), rng.uniform(0.0, 360.0)))
    return shapes


def part_palette(face_colors: np.ndarray) -> tuple[np.ndarray, int]:
    """Index (F,) of each face's part colour and the number of distinct colours."""
    colours, index = np.unique(face_colors, axis=0, return_inverse=True)
    return index.ravel(), len(colours)


def saturated(shape: TestShape) -> np.ndarray:
    """(F,3) one fully saturated, bright hue per part colour (evenly spaced hues)."""
    import colorsys

    index, n = part_palette(shape.face_colors)
    hues = [colorsys.hsv_to_rgb((0.07 + i / max(n, 1)) % 1.0, 1.0, 0.9) for i in range(n)]
    return np.asarray(hues)[index]


def dark(shape: TestShape) -> np.ndarray:
    """(F,3) near-black parts (black plastic, dark wood, anthracite paint), a little apart from each other."""
    index, _ = part_palette(shape.face_colors)
    return 0.06 + 0.03 * (index[:, None] % 3) * np.ones(3)


def checker(shape: TestShape) -> Callable:
    """A render color_fn: a 3D checker of 0.08 cells, cream and dark red, on the whole object."""
    triangles = shape.mesh.triangles
    colours = np.array([[0.92, 0.88, 0.78], [0.55, 0.08, 0.1]])

    def color_fn(face: np.ndarray, bary: np.ndarray) -> np.ndarray:
        points = np.einsum("kj,kjd->kd", bary, triangles[face])
        return colours[np.floor(points / 0.08).astype(np.int64).sum(axis=1) % 2]

    return color_fn


CONDITIONS = [
    Condition("baseline", lambda s: View()),
    Condition("bg-gradient", lambda s: View(background="gradient")),
    Condition("bg-room", lambda s: View(background="room")),
    Condition("view-low", lambda s: View(elevation=8.0)),
    Condition("view-high", lambda s: View(elevation=55.0)),
    Condition("light-side", lambda s: View(light=SIDE_LIGHT)),
    Condition("light-shadow", lambda s: View(light=SIDE_LIGHT, background="shadow")),
    Condition("colour-dark", lambda s: View(face_colors=dark(s))),
    Condition("colour-saturated", lambda s: View(face_colors=saturated(s))),
    Condition("texture", lambda s: View(color_fn=checker(s))),
    Condition("camera", lambda s: View(camera_effects=True)),
    Condition("frame-small", lambda s: View(size=3 * cameras.IMAGE_SIZE, centre=(0.32, 0.62))),
    Condition("frame-tight", lambda s: View(zoom=1.45)),
]


def take_picture(shape: TestShape, view: View, rng: np.random.Generator) -> Picture:
    """Render `shape` as `view` says; non-white backgrounds are composited under the object's coverage."""
    world = cameras.world_matrix(shape.distance, shape.elevation if view.elevation is None else view.elevation,
                                 shape.azimuth)
    focal = cameras.FOCAL_PX * view.zoom
    camera = np.array([[focal, 0, view.centre[0] * view.size], [0, focal, view.centre[1] * view.size], [0, 0, 1.0]])
    light = view.light or shape.light
    colours = {"face_colors": shape.face_colors, "color_fn": shape.color_fn}
    if view.face_colors is not None or view.color_fn is not None:
        colours = {"face_colors": view.face_colors, "color_fn": view.color_fn}
    common = {"size": view.size, "scale": shape.scale}
    white = view.background == "white"
    coverage = render_silhouette(shape.mesh, world, camera, antialias=1 if white else 3, **common)  # edges only matter to blend
    if white:
        image = render_mesh(shape.mesh, world, camera, normals=shape.normals, light=light, **colours, **common)
    else:  # the object on black is premultiplied by its coverage: add the background where it is not
        on_black = render_mesh(shape.mesh, world, camera, normals=shape.normals, light=light, background=(0, 0, 0),
                               **colours, **common)
        behind = backdrop(shape, world, camera, view, light, rng)
        image = np.round(on_black + behind * (1.0 - coverage[..., None])).clip(0, 255).astype(np.uint8)
    if view.camera_effects:
        image = camera_effects(image, rng)
    return Picture(image, coverage)


def backdrop(shape: TestShape, world: np.ndarray, camera: np.ndarray, view: View, light: Light,
             rng: np.random.Generator) -> np.ndarray:
    """(S,S,3) float 0..255: what is behind the object (studio gradient, room, or white floor with its shadow)."""
    size = view.size
    rows = np.linspace(0.0, 1.0, size)[:, None, None]
    if view.background == "gradient":
        top, bottom = np.array([140, 158, 184]), np.array([226, 210, 186])  # cool grey-blue to warm beige
        cols = np.linspace(0.0, 1.0, size)[None, :, None]
        return (1 - rows) * top + rows * bottom + 12.0 * (cols - 0.5)
    # Floor (y = bottom of the object) and a wall behind it, facing the camera; one ray per pixel centre.
    origin, dirs = pixel_rays(world, camera, sample_grid(size), scale=shape.scale)
    floor_y = shape.mesh.bounds[0, 1]
    towards_camera = np.array([origin[0], 0.0, origin[2]]) / np.hypot(origin[0], origin[2])
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(dirs[:, 1] < 0, (floor_y - origin[1]) / dirs[:, 1], np.inf)
        t_wall = np.where(dirs @ towards_camera < 0, (-WALL_DISTANCE - origin @ towards_camera) / (dirs @ towards_camera),
                          np.inf)
    on_floor = t_floor < t_wall
    hits = origin + np.minimum(t_floor, t_wall)[:, None] * dirs
    if view.background == "room":
        colour = np.where(on_floor[:, None], planks(hits), wall(hits))
    else:
        colour = np.full((len(hits), 3), 250.0)  # a white sweep: floor and wall, as a product photo
    to_light = -(np.asarray(light.direction) @ world[:, :3])
    to_light /= np.linalg.norm(to_light)
    shadow = shape.mesh.ray.intersects_any(hits + 1e-4 * to_light, np.broadcast_to(to_light, hits.shape))
    soft = Image.fromarray((shadow.reshape(size, size) * 255).astype(np.uint8))
    soft = np.asarray(soft.filter(ImageFilter.GaussianBlur(2.5 * size / cameras.IMAGE_SIZE)), np.float64) / 255
    return colour.reshape(size, size, 3) * (1.0 - 0.55 * soft[..., None])


def planks(points: np.ndarray) -> np.ndarray:
    """(K,3) colours 0..255 of a wooden plank floor at floor points (K,3): planks along x, 0.15 wide."""
    plank = np.floor(points[:, 2] / 0.15)
    tone = (np.sin(plank * 12.9898) * 43758.5453) % 1.0  # a fixed pseudo-random shade per plank
    grain = 1.0 + 0.06 * np.sin(35 * points[:, 0] + 5 * plank + 2 * np.sin(9 * points[:, 2]))
    gap = np.where((points[:, 2] / 0.15) % 1.0 < 0.04, 0.55, 1.0)
    return np.array([150, 100, 60])[None] * ((0.8 + 0.35 * tone) * grain * gap)[:, None]


def wall(points: np.ndarray) -> np.ndarray:
    """(K,3) colours 0..255 of a beige wall, lighter towards the top, with a skirting board at the bottom."""
    height = points[:, 1] - points[:, 1].min()
    colour = np.array([205, 196, 178])[None] * (0.9 + 0.1 * np.clip(height, 0, 1))[:, None]
    return np.where((height < 0.06)[:, None], np.array([235, 235, 232])[None], colour)


def camera_effects(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A cheap camera: Gaussian blur of 1 px, sensor noise (sigma 8 of 255), then a JPEG of quality 40."""
    blurred = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(1.0)), np.float64)
    noisy = np.clip(np.round(blurred + rng.normal(0.0, 8.0, image.shape)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, format="JPEG", quality=40)
    return np.asarray(Image.open(buffer).convert("RGB"))


def crop_ok(picture: Picture) -> bool:
    """Whether the auto-crop finds the object's own box (box IoU >= 0.8; shadows and backgrounds count as misses)."""
    found = object_box(picture.image, np.full(picture.image.shape[:2], 255, np.uint8))
    rows, cols = np.flatnonzero((picture.coverage > 0.5).any(axis=1)), np.flatnonzero((picture.coverage > 0.5).any(axis=0))
    if found is None or len(rows) == 0:
        return False
    true = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
    inter = box_area((max(found[0], true[0]), max(found[1], true[1]), min(found[2], true[2]), min(found[3], true[3])))
    return inter / (box_area(found) + box_area(true) - inter) >= 0.8


def box_area(box: tuple[int, int, int, int]) -> int:
    """Pixels of a (left, top, right, bottom) box; 0 when it is empty."""
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def run(model, gen, shapes: list[TestShape], seed: int,
        cut_background: bool = True) -> tuple[dict[str, Scores], dict[str, list]]:
    """Every condition on every shape: scores per condition and (picture, model's picture, mesh) per condition."""
    from vitocc.generation.reconstruct import reconstruct_images

    scores, examples = {}, {}
    for condition in CONDITIONS:
        rng = np.random.default_rng(seed)  # the same noise draws whatever the other conditions do
        pictures = [take_picture(shape, condition.view(shape), rng) for shape in shapes]
        results = reconstruct_images([Image.fromarray(p.image) for p in pictures], model, gen, colour=False,
                                     cut_background=cut_background)
        score = Scores()
        for shape, picture, (mesh, info) in zip(shapes, pictures, results):
            metrics = evaluate_mesh(mesh.vertices, mesh.faces, shape.gt, np.random.default_rng(seed), N_POINTS)
            score.iou.append(metrics.iou)
            score.chamfer_l1_x10.append(10 * metrics.chamfer_l1)
            score.empty.append(metrics.empty)
            score.crop_ok.append(crop_ok(picture))
            score.warned.append(plain_border_share(picture.image) < PLAIN_BORDER)
            score.seconds.append(info.seconds)
        scores[condition.name] = score
        examples[condition.name] = [(pictures[i].image, results[i][1].picture, results[i][0]) for i in sheet_shapes(shapes)]
        print(f"  {condition.name}: done", flush=True)
    return scores, examples


def sheet_shapes(shapes: list[TestShape]) -> list[int]:
    """Indices of the first shape of each SHEET_CLASSES class."""
    return [next(i for i, s in enumerate(shapes) if s.name == name) for name in SHEET_CLASSES]


def table(scores: dict[str, Scores]) -> str:
    """Markdown table: per condition the means, the paired IoU change against the baseline with its standard
    error, empties, crops, warnings, time."""
    base = np.asarray(scores["baseline"].iou)
    lines = ["| condition | IoU | ΔIoU vs baseline (± s.e.) | Chamfer-L1 x10 | empty | crop ok | warned | s/mesh |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in scores.items():
        iou = np.asarray(s.iou)
        chamfer = np.asarray(s.chamfer_l1_x10)
        chamfer_text = f"{np.nanmean(chamfer):.3f}" if np.isfinite(chamfer).any() else "-"
        change = iou - base  # paired: the same shapes and cameras in every condition
        error = change.std(ddof=1) / np.sqrt(len(change)) if len(change) > 1 else float("nan")
        lines.append(f"| {name} | {iou.mean():.3f} | {change.mean():+.3f} ± {error:.3f} | {chamfer_text} | "
                     f"{np.mean(s.empty):.0%} | {np.mean(s.crop_ok):.0%} | {np.mean(s.warned):.0%} | {np.mean(s.seconds):.2f} |")
    return "\n".join(lines)


def contact_sheet_image(shapes: list[TestShape], examples: dict[str, list], label_width: int = 110) -> Image.Image:
    """One row per condition (ground truth first): per sheet shape the input, the model's picture and the mesh."""
    from vitocc.generation.preview import preview_row
    from vitocc.render import contact_sheet

    def tile(image: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(image).convert("RGB").resize((TILE, TILE), Image.BILINEAR))

    blank = np.full((TILE, TILE, 3), 255, np.uint8)
    rows = [("ground truth", [])]
    for i in sheet_shapes(shapes):
        truth = Mesh(shapes[i].mesh.vertices, shapes[i].mesh.faces)
        gt_view = preview_row(Image.fromarray(blank), truth, TILE)[:, TILE:2 * TILE]
        rows[0][1].extend([blank, blank, gt_view])
    for name, items in examples.items():
        panels = []
        for image, seen, mesh in items:
            row = preview_row(seen, mesh, TILE)
            panels += [tile(image), row[:, :TILE], row[:, TILE:2 * TILE]]
        rows.append((name, panels))
    columns = len(rows[0][1])
    sheet = contact_sheet([p for _, panels in rows for p in panels], columns)
    sheet = Image.fromarray(np.pad(sheet, ((14, 0), (label_width, 0), (0, 0)), constant_values=255))
    draw = ImageDraw.Draw(sheet)
    for k, name in enumerate(SHEET_CLASSES):
        x = label_width + 2 + k * 3 * (TILE + 2)
        draw.text((x + 4, 1), f"{name}: input | model's crop | mesh", fill=(0, 0, 0))
    for r, (name, _) in enumerate(rows):
        draw.text((6, 14 + 2 + r * (TILE + 2) + TILE // 2 - 6), name, fill=(0, 0, 0))
    return sheet


def model_label(checkpoint: str | None) -> str:
    """The checkpoint given, or the shipped model named by its weights' SHA-256 (what was measured,
    committed or not)."""
    if checkpoint:
        return checkpoint
    from vitocc.models.loading import shipped_model_dir

    digest = hashlib.sha256((shipped_model_dir() / "model.safetensors").read_bytes()).hexdigest()
    return f"shipped model (model.safetensors sha256 {digest[:12]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="run dir, .pt or .safetensors (default: the shipped model)")
    parser.add_argument("--shapes-per-class", type=int, default=1, help="1: ~5 min on one core")
    parser.add_argument("--seed", type=int, default=2026, help="shapes and noise; the data set used seed 0")
    parser.add_argument("--out", default="docs/images/real_style.png", help="contact sheet PNG")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep-background", action="store_true",
                        help="as `vitocc reconstruct --keep-background`: no automatic cut (the pipeline before issue 19)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("vitocc").setLevel(logging.ERROR)  # the background warnings are counted in the table instead

    from vitocc.io import atomic_path
    from vitocc.models import load_model

    start = time.perf_counter()
    model, cfg = load_model(args.checkpoint)
    shapes = make_shapes(args.shapes_per_class, args.seed)
    print(f"real-style benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {model_label(args.checkpoint)}, "
          f"{len(shapes)} shapes ({args.shapes_per_class} per class, seed {args.seed}), "
          f"MISE {cfg.generation.resolution0}^3 + {cfg.generation.upsampling_steps} steps, "
          f"threshold {cfg.generation.threshold}, background {'kept' if args.keep_background else 'cut when needed'}",
          flush=True)
    scores, examples = run(model, cfg.generation, shapes, args.seed, cut_background=not args.keep_background)
    print(table(scores))
    sheet = contact_sheet_image(shapes, examples).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    with atomic_path(Path(args.out)) as tmp:
        sheet.save(tmp, format="PNG", optimize=True)
    print(f"contact sheet: {args.out}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
