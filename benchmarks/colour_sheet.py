"""Coloured meshes of real pictures: the 9 Occupancy Networks demo pictures and the 6 R2N2 chairs (view 00).

Each picture goes through `reconstruct_images` as `vitocc reconstruct` sends it (default
pipeline: auto-crop, background cut when needed, vertex colours); the sheet has one
`preview_row` per picture (the picture the model saw, then the coloured mesh from three views),
three rows side by side. The pictures themselves stay in `shared/real-data`; only the sheet
is written.

    python benchmarks/colour_sheet.py [--real-data ../shared/real-data] [--checkpoint PATH] \
        [--out docs/images/real_coloured.png]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads sleep (shared CPU)

import torch
from PIL import Image

TILE = 160  # pixels per panel


def pictures(real_data: Path) -> list[Path]:
    """The demo pictures, then view 00 of each R2N2 chair, sorted."""
    demo = sorted((real_data / "onet-demo").glob("*.jpg"))
    chairs = sorted((real_data / "r2n2-chairs" / "ShapeNetRendering").glob("*/*/rendering/00.png"))  # <synset>/<model>/rendering
    return demo + chairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "real-data")
    parser.add_argument("--checkpoint", default=None, help="run dir, .pt or .safetensors (default: the shipped model)")
    parser.add_argument("--out", type=Path, default=Path("docs/images/real_coloured.png"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from vitocc.generation import reconstruct_images
    from vitocc.generation.preview import preview_row
    from vitocc.io import atomic_path
    from vitocc.models import load_model
    from vitocc.render import contact_sheet

    start = time.perf_counter()
    paths = pictures(args.real_data)
    model, cfg = load_model(args.checkpoint)
    results = reconstruct_images(paths, model, cfg.generation)
    for path, (mesh, info) in zip(paths, results):
        print(f"{path.relative_to(args.real_data)}: {info.vertices} vertices, {info.faces} faces, "
              f"coloured {mesh.vertex_colours is not None}")
    rows = [preview_row(info.picture, mesh, TILE) for mesh, info in results]
    sheet = Image.fromarray(contact_sheet(rows, columns=3, pad=4))
    sheet = sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    with atomic_path(args.out) as tmp:
        sheet.save(tmp, format="PNG", optimize=True)
    print(f"{len(paths)} pictures -> {args.out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
