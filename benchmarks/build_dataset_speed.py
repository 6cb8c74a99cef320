"""Speed of `vitocc build-dataset` on user-like meshes, per stage and end to end.

The meshes are made here (no download): z-up tables as a modelling tool would export
them, with a wood texture on the top, overlapping legs, a shelf that is one single-sided
quad, ~20k faces, as GLB (trimesh's OBJ export of a multi-material scene drops the
per-part colours). Prints seconds per stage for one model at the real
counts (100k points, 100k surface points, 24 views) and models/s for `--workers 2`.
`--figure PNG` also writes the before/after picture of docs/build-dataset.md.

Run: python benchmarks/build_dataset_speed.py [--models 4] [--figure docs/images/build_dataset.png]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image, ImageDraw

from vitocc.data import cameras, layout
from vitocc.data.build.from_meshes import BuildOptions, build_dataset, mesh_source
from vitocc.data.build.meshes import axes_rotation, load_normalised
from vitocc.data.build.occupancy import occupancy, prepare
from vitocc.data.writer import Counts, sample_points, sample_surface
from vitocc.render import render_mesh


def wood_texture(rng: np.random.Generator, size: int = 256) -> Image.Image:
    """Stripes of light and dark brown along u, like planks with grain."""
    u = np.linspace(0, 1, size)[None, :]
    v = np.linspace(0, 1, size)[:, None]
    grain = 0.5 + 0.5 * np.sin(60 * u + 3 * np.sin(7 * v + rng.uniform(0, 6)))
    base = np.array([0.55, 0.36, 0.2]) * (0.8 + 0.25 * grain[..., None])
    return Image.fromarray((np.clip(base, 0, 1) * 255).astype(np.uint8))


def user_table(rng: np.random.Generator) -> list[trimesh.Trimesh]:
    """A z-up table soup: textured top, four overlapping cylinder legs, a one-quad shelf (~20k faces)."""
    w, d, h = rng.uniform(1.0, 1.6), rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.8)
    top = trimesh.creation.box([w, d, 0.05])
    top = trimesh.Trimesh(*trimesh.remesh.subdivide_to_size(top.vertices, top.faces, 0.025))
    top.apply_translation([0, 0, h])
    uv = (top.vertices[:, :2] - top.vertices[:, :2].min(0)) / np.ptp(top.vertices[:, :2], axis=0)
    top.visual = trimesh.visual.TextureVisuals(uv=uv, material=trimesh.visual.material.SimpleMaterial(
        image=wood_texture(rng), diffuse=(255, 255, 255, 255)))
    parts = [top]
    for sx in (-1, 1):
        for sy in (-1, 1):
            leg = trimesh.creation.cylinder(0.03, h + 0.02, sections=96)  # pokes into the top
            leg.apply_translation([sx * (w / 2 - 0.08), sy * (d / 2 - 0.08), h / 2])
            leg.visual.face_colors = (40, 40, 45, 255)
            parts.append(leg)
    sx, sy = w / 2 - 0.08, d / 2 - 0.08
    shelf = trimesh.Trimesh([[-sx, -sy, 0.25], [sx, -sy, 0.25], [sx, sy, 0.25], [-sx, sy, 0.25]], [[0, 1, 2], [0, 2, 3]])
    shelf.visual.face_colors = (200, 200, 190, 255)
    parts.append(shelf)
    return parts


def write_meshes(folder: Path, n: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        scene = trimesh.Scene(user_table(rng))
        path = folder / f"table_{i:02d}" / "table.glb"
        path.parent.mkdir(parents=True, exist_ok=True)
        scene.export(path)
        paths.append(path)
    return paths


def timed(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    print(f"  {label:<34} {time.perf_counter() - start:7.3f} s")
    return out


def stages(path: Path, counts: Counts, thicken: float) -> None:
    """Seconds of each stage of one model."""
    rng = np.random.default_rng(0)
    rot = axes_rotation("z", "+x")
    mesh = timed("load + normalise", load_normalised, path, rot)
    print(f"  ({len(mesh.mesh.faces)} faces, {len(mesh.parts)} parts)")
    prepared = timed("clean + orient (prepare)", prepare, mesh.mesh.vertices, mesh.mesh.faces)
    timed("classify sheets (thicken only)", lambda: prepared.sheet)
    timed(f"occupancy {counts.n_points} points", sample_points,
          lambda p: occupancy(prepared, p, thicken=thicken), counts.n_points, rng)
    timed(f"surface {counts.n_surface} points", sample_surface, mesh.mesh, counts.n_surface, rng)
    from vitocc.data.build.from_meshes import MeshJob

    job = MeshJob(str(path), tuple(map(tuple, rot)), thicken, "bilinear")
    source = mesh_source(job, rng)
    world, cams = cameras.sample_cameras(counts.n_views, rng)
    timed(f"render {counts.n_views} views", lambda: [
        render_mesh(source.mesh, world[v], cams[v], scale=1 / np.linalg.norm(source.mesh.extents),
                    color_fn=source.color_fn) for v in range(counts.n_views)])


def figure(path: Path, mesh_dir: Path, dest: Path, out: Path, thicken: float) -> None:
    """Before (the file as stored, z-up) | after (two views) | inside points.npz points on view 0, without/with thickening."""
    model = dest / mesh_dir.name / path.parent.name  # one class named after MESH_DIR; ids from the folders
    raw = load_normalised(path)  # the file's own axes, only centred and scaled
    job_colors = mesh_source_for_figure(path)
    world0 = cameras.world_matrix(1.5, 25, 45)
    before = render_mesh(raw.mesh, world0, cameras.camera_matrix(), scale=1 / np.sqrt(3), color_fn=job_colors)
    img_dir = model / layout.IMG_FOLDER
    views = [np.asarray(Image.open(img_dir / layout.image_name(v)).convert("RGB")) for v in (0, 1)]
    points, occ = layout.read_points_npz(model / layout.POINTS_FILE)
    with np.load(model / layout.POINTS_FILE) as f:
        loc, scale = f["loc"], float(f["scale"])
    world, cam = layout.read_cameras_npz(img_dir / layout.CAMERAS_FILE, 0)
    normalised = load_normalised(path, axes_rotation("z", "+x"))
    unthickened = occupancy(prepare(normalised.mesh.vertices, normalised.mesh.faces), points)

    def inside_dots(inside: np.ndarray) -> np.ndarray:
        pix, depth = cameras.project(points[inside], world, cam, loc, scale)
        dots = (views[0].astype(np.float32) * 0.3 + 255 * 0.7).astype(np.uint8)
        order = np.argsort(-depth)
        cols, rows = np.clip(pix[order].astype(int), 0, 136).T
        shade = (depth[order] - depth.min()) / max(np.ptp(depth), 1e-9)
        dots[rows, cols] = np.stack([200 - 120 * shade, 40 + 0 * shade, 40 + 120 * shade], 1).astype(np.uint8)
        return dots

    panels = [before, *views, inside_dots(unthickened), inside_dots(occ)]
    labels = ["file as stored (z-up)", "img_choy2016/000.jpg", "img_choy2016/001.jpg",
              "inside points, no --thicken", f"inside points, --thicken {thicken:g}"]
    scale_up, pad, text_h = 2, 6, 18
    tile = 137 * scale_up
    sheet = Image.new("RGB", (len(panels) * (tile + pad) + pad, tile + text_h + 2 * pad), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (panel, label) in enumerate(zip(panels, labels)):
        x = pad + i * (tile + pad)
        sheet.paste(Image.fromarray(panel).resize((tile, tile), Image.NEAREST), (x, pad))
        draw.text((x + 4, pad + tile + 3), label, fill=(30, 30, 30))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"figure: {out} ({out.stat().st_size / 1024:.0f} KB)")


def mesh_source_for_figure(path: Path):
    """The colour function of the file in its own frame (what the user's viewer would show)."""
    from vitocc.data.build.from_meshes import MeshJob

    return mesh_source(MeshJob(str(path), tuple(map(tuple, np.eye(3))), 0.0, "bilinear"), np.random.default_rng(0)).color_fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--thicken", type=float, default=0.01)
    parser.add_argument("--figure", type=Path, default=None)
    args = parser.parse_args()
    counts = Counts()
    with tempfile.TemporaryDirectory() as tmp:
        mesh_dir = Path(tmp) / "tables"
        paths = write_meshes(mesh_dir, args.models)
        print(f"one model, real counts ({counts.n_points} points, {counts.n_surface} surface, {counts.n_views} views):")
        stages(paths[0], counts, args.thicken)
        dest = Path(tmp) / "data"
        result = build_dataset(mesh_dir, dest, BuildOptions(up="z", thicken=args.thicken), counts,
                               workers=args.workers, show_progress=False)
        print(f"build-dataset: {len(result.built)} models in {result.seconds:.1f} s with {args.workers} workers "
              f"= {len(result.built) / result.seconds:.2f} models/s ({result.seconds / len(result.built):.1f} s/model)")
        if args.figure:
            figure(paths[0], mesh_dir, dest, args.figure, args.thicken)


if __name__ == "__main__":
    main()
