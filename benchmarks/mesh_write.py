"""Writing an OBJ mesh: trimesh's exporter (what `save_mesh` used before) against `mesh_io.obj_bytes`.

Meshes as vitocc writes them: an icosphere of 81,920 faces (40,962 float32 vertices, the size of a
folder mesh of `vitocc reconstruct`) plain (as `vitocc mise` writes it), with vertex colours (as
`vitocc reconstruct` writes it) and with vertex normals (`generation.vertex_normals`); `--mesh PATH`
adds a mesh file (e.g. the output of `vitocc reconstruct examples/chair.png -o /tmp/chair.obj`).
Interleaved repeats of: the text alone (trimesh `export_obj` against `obj_bytes`) and the whole
write (temporary file, fsync, rename: the old `save_mesh` against today's). Prints medians and
the ratio of the medians; on a loaded machine only the ratios mean much. Checks that both texts
hold the same lines (trimesh's has a header comment more).

    python benchmarks/mesh_write.py [--repeats 7] [--mesh /tmp/chair.obj]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh

from vitocc.io import atomic_path
from vitocc.mesh import Mesh
from vitocc.mesh_io import obj_bytes, save_mesh


def meshes(extra: Path | None) -> dict[str, Mesh]:
    """The benchmark's meshes by name."""
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=0.45)
    vertices = sphere.vertices.astype(np.float32).astype(np.float64)  # marching cubes gives float32
    rgba = np.c_[np.random.default_rng(0).integers(0, 256, (len(vertices), 3)), np.full(len(vertices), 255)]
    out = {
        "plain (mise)": Mesh(vertices, sphere.faces),
        "colours (reconstruct)": Mesh(vertices, sphere.faces, vertex_colours=rgba),
        "normals": Mesh(vertices, sphere.faces, vertex_normals=sphere.vertex_normals),
    }
    if extra is not None:
        loaded = trimesh.load(extra, force="mesh", process=False)
        out[extra.name] = Mesh(loaded.vertices, loaded.faces)
    return out


def old_save(mesh: Mesh, path: Path) -> None:
    """`save_mesh` for .obj before obj_bytes: trimesh's exporter into the temporary file."""
    with atomic_path(path) as tmp:
        mesh.to_trimesh().export(tmp, file_type="obj")


VARIANTS = {  # name -> f(mesh, path)
    "text trimesh": lambda mesh, path: mesh.to_trimesh().export(file_type="obj"),
    "text numpy": lambda mesh, path: obj_bytes(mesh),
    "write trimesh": old_save,
    "write numpy": save_mesh,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--mesh", type=Path, help="a mesh file to time as well")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mesh.obj"
        for name, mesh in meshes(args.mesh).items():
            theirs = mesh.to_trimesh().export(file_type="obj").splitlines()
            same = obj_bytes(mesh).decode().splitlines() == [line for line in theirs[1:] if line]
            times: dict[str, list[float]] = {v: [] for v in VARIANTS}
            for _ in range(args.repeats):  # interleaved, so that the load moves both sides alike
                for variant, run in VARIANTS.items():
                    t = time.perf_counter()
                    run(mesh, path)
                    times[variant].append(time.perf_counter() - t)
            med = {v: statistics.median(t) for v, t in times.items()}
            print(f"{name}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces, "
                  f"{path.stat().st_size / 1e6:.1f} MB, same lines as trimesh: {'yes' if same else 'NO'}")
            for what in ("text", "write"):
                old, new = med[f"{what} trimesh"], med[f"{what} numpy"]
                print(f"  {what:5s} trimesh {old * 1e3:7.1f} ms  numpy {new * 1e3:6.1f} ms  {old / new:4.1f}x "
                      f"(median of {args.repeats})")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
