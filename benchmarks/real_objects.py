"""Real objects: models side by side on the real R2N2 chairs and the Occupancy Networks demo pictures.

Yardsticks from `shared/real-data` (validation only, never trained on; see its README):

- **R2N2 chairs**: the real renders of 6 ShapeNet chairs, views 00-23, each reconstructed as
  `vitocc reconstruct` would (RGBA composited on white, the render framing kept), voxelised at
  32^3 on the chair's own voxel grid put into the normalised frame by
  `vitocc.evaluation.r2n2.fit_voxel_frame`, and scored by voxel IoU. For pixel-aligned models
  the camera head's azimuth/elevation error against the metadata is printed too.
- **Demo pictures**: the 9 pictures of the Occupancy Networks repository: a preview sheet with
  one row per picture and one column block per model (`--preview PNG`).

The third yardstick, the 35 real ShapeNet meshes, goes through the product itself
(docs/real-objects.md): `vitocc build-dataset`, `vitocc mise`, `vitocc evaluate`.

    python benchmarks/real_objects.py --model old=PATH --model new=PATH [--real-data ../shared/real-data]
        [--views 24] [--preview docs/images/real_demo.png] [--json out.json]

`PATH` is anything `--checkpoint` takes (run directory, .pt, model.safetensors); `shipped` is
the packaged model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from vitocc.config import GenerationConfig
from vitocc.evaluation import r2n2
from vitocc.generation.images import prepare_image
from vitocc.generation.preview import preview_row
from vitocc.models import load_model
from vitocc.models import projection as proj

FIT_VIEWS = (0, 4, 8, 12, 16, 20)


def on_white(path: Path) -> Image.Image:
    """An RGBA render composited on white (as the Choy renders in img_choy2016 are)."""
    rgba = Image.open(path).convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def chair_data(folder: Path, renders: Path):
    occ = r2n2.read_binvox(folder / "model.binvox")
    views = r2n2.read_views(renders / "rendering_metadata.txt")
    masks = [r2n2.picture_mask(np.array(Image.open(renders / f"{i:02d}.png"))) for i in FIT_VIEWS]
    frame, score = r2n2.fit_voxel_frame(occ, [views[i] for i in FIT_VIEWS], masks)
    return occ, views, frame, score


def encode_cameras(model, pictures: list[Image.Image]) -> np.ndarray | None:
    """(azimuth, elevation) degrees (N, 2) the camera head predicts, for pixel-aligned models."""
    if not model.pixel_aligned:
        return None
    from vitocc.data.transforms import image_to_tensor

    x = torch.stack([image_to_tensor(p, model.image_size, model.image_mean, model.image_std) for p in pictures])
    with torch.inference_mode():
        _, _, raw = model.encoder(x)
        az, el, _ = proj.pose_from_head(raw)
    return np.degrees(torch.stack([az, el], 1).numpy())


def r2n2_scores(model, gen: GenerationConfig, root: Path, n_views: int, rng: np.random.Generator) -> dict:
    from vitocc.generation.reconstruct import reconstruct_images

    per_chair, az_err, el_err = {}, [], []
    for folder in sorted((root / "ShapeNetVox32" / "03001627").iterdir()):
        renders = root / "ShapeNetRendering" / "03001627" / folder.name / "rendering"
        occ, views, frame, fit = chair_data(folder, renders)
        placement = r2n2.GridPlacement.of(occ, np.array(frame.rotation, float))
        pictures = [prepare_image(on_white(renders / f"{i:02d}.png")) for i in range(n_views)]
        ious = []
        for mesh, _ in reconstruct_images(pictures, model, gen):
            pred = r2n2.voxelize_mesh(mesh.vertices, mesh.faces, placement, occ.shape[0], rng)
            ious.append(r2n2.voxel_iou(pred, occ))
        cams = encode_cameras(model, pictures)
        if cams is not None:
            for (az, el), view in zip(cams, views):
                az_err.append(abs((az - frame.azimuth_sign * view.azimuth + 180) % 360 - 180))
                el_err.append(abs(el - view.elevation))
        per_chair[folder.name] = {"voxel_iou": float(np.mean(ious)), "silhouette_fit": fit,
                                  "views": [round(v, 4) for v in ious]}
    out = {"mean_voxel_iou": float(np.mean([c["voxel_iou"] for c in per_chair.values()])), "chairs": per_chair}
    if az_err:
        out["camera_azimuth_error_deg_median"] = float(np.median(az_err))
        out["camera_elevation_error_deg_median"] = float(np.median(el_err))
    return out


def demo_rows(model, gen: GenerationConfig, demo: Path) -> list[np.ndarray]:
    from vitocc.generation.reconstruct import reconstruct_images

    paths = sorted(demo.glob("*.jpg"))
    return [preview_row(info.picture, mesh, 192) for mesh, info in reconstruct_images(paths, model, gen)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="NAME=PATH (PATH 'shipped': the package's)")
    parser.add_argument("--real-data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "real-data")
    parser.add_argument("--views", type=int, default=24)
    parser.add_argument("--preview", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results, columns = {}, []
    for spec in args.model:
        name, _, path = spec.partition("=")
        model, cfg = load_model(None if path == "shipped" else path)
        t0 = time.perf_counter()
        res = r2n2_scores(model, cfg.generation, args.real_data / "r2n2-chairs", args.views,
                          np.random.default_rng(0))
        res["seconds"] = round(time.perf_counter() - t0, 1)
        results[name] = res
        cams = (f", camera error median az {res['camera_azimuth_error_deg_median']:.1f} deg / "
                f"el {res['camera_elevation_error_deg_median']:.1f} deg") if "camera_azimuth_error_deg_median" in res else ""
        print(f"{name}: R2N2 chairs mean voxel IoU {res['mean_voxel_iou']:.3f} over 6 chairs x {args.views} views"
              f"{cams} ({res['seconds']} s)", flush=True)
        for chair, c in res["chairs"].items():
            print(f"    {chair}: IoU {c['voxel_iou']:.3f} (frame fit: silhouette IoU {c['silhouette_fit']:.3f})")
        if args.preview:
            columns.append(demo_rows(model, cfg.generation, args.real_data / "onet-demo"))
    if args.preview:
        rows = [np.concatenate(parts, axis=1) for parts in zip(*columns)]
        Image.fromarray(np.concatenate(rows, axis=0)).save(args.preview)
        print(f"preview: {args.preview} (columns: {', '.join(s.partition('=')[0] for s in args.model)})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
