"""How fast `vitocc synth` makes shapes, where the time goes, and whether every class holds up.

    python benchmarks/synth_speed.py [--shapes-per-class 4] [--workers 2] [--check 50]

1. --check N shapes per class through the generators (watertight union, canonical frame);
2. one shape's time split: parts -> union, occupancy of 100k points, surface, 24 renders, files;
3. renderer options for one 137x137 view: Embree (trimesh + embreex) with adaptive or full
   supersampling, and trimesh's numpy intersector;
4. the real thing: --shapes-per-class x 13 models with 24 views + 100k + 100k points and
   --workers processes, in shapes/s and minutes per 1000 shapes (target: < 15).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def check_classes(n: int) -> None:
    import igl

    from vitocc.data.layout import SHAPENET_CLASSES
    from vitocc.data.synth import make_solid

    print(f"[1] {n} shapes per class: build time per shape, faces, parts, exact occupancy vs the mesh's "
          "winding number (10k points, worst shape)")
    points = np.random.default_rng(0).uniform(-0.55, 0.55, (10_000, 3))
    for synset, name in SHAPENET_CLASSES.items():
        seconds, faces, parts, agree = 0.0, [], [], []
        for i in range(n):
            start = time.perf_counter()
            solid, shape = make_solid(synset, np.random.default_rng([i, int(synset)]))
            seconds += time.perf_counter() - start
            lo, hi = solid.mesh.bounds
            assert solid.mesh.is_watertight and abs((hi - lo).max() - 1) < 1e-6, (name, i)
            faces.append(len(solid.mesh.faces))
            parts.append(len(shape.parts))
            winding = igl.fast_winding_number(np.asarray(solid.mesh.vertices), np.asarray(solid.mesh.faces), points)
            agree.append(np.mean(solid.contains(points) == (winding > 0.5)))
        print(f"    {name:12s} ok  {seconds / n * 1000:6.1f} ms/shape  faces {int(np.mean(faces)):6d} (max {max(faces)})  "
              f"parts {np.mean(parts):5.1f} (max {max(parts)})  occupancy agreement >= {min(agree):.4f}")


def time_one_shape() -> None:
    from vitocc.data import writer
    from vitocc.data.synth import make_source

    print("[2] one chair, 24 views + 100k + 100k points, single process (median of 5 shapes)")
    rows = []
    for i in range(5):
        rng = np.random.default_rng(i)
        t0 = time.perf_counter()
        source = make_source(("03001627", i), rng)
        t1 = time.perf_counter()
        writer.sample_points(source.occupancy_fn, 100_000, rng)
        t2 = time.perf_counter()
        writer.sample_surface(source.mesh, 100_000, rng)
        t3 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            writer.write_model(Path(tmp) / "m", source, writer.Counts(), np.random.default_rng(i))
        t4 = time.perf_counter()
        rows.append((t1 - t0, t2 - t1, t3 - t2, (t4 - t3) - (t2 - t1) - (t3 - t2)))
    med = np.median(rows, axis=0)
    for label, seconds in zip(["parts -> union + materials", "occupancy of 100k points", "100k surface samples",
                               "24 renders + JPEG/npz files"], med):
        print(f"    {label:28s} {seconds * 1000:7.1f} ms")


def compare_renderers() -> None:
    import trimesh

    from vitocc import render
    from vitocc.data import cameras, writer
    from vitocc.data.synth import make_source

    source = make_source(("03001627", 0), np.random.default_rng(0))
    world, cam = cameras.world_matrix(1.4, 27, 40), cameras.camera_matrix()
    scale = writer.bbox_scale(source.mesh)
    print(f"[3] one 137x137 view of a {len(source.mesh.faces)}-face chair (median of 5)")

    def best(fn) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return float(np.median(times)) * 1000

    for aa in (1, 2, 3, 4):
        ms = best(lambda aa=aa: render.render_mesh(source.mesh, world, cam,
                                            scale=scale, face_colors=source.face_colors, antialias=aa))
        print(f"    embree, adaptive {aa}x{aa} supersampling : {ms:6.1f} ms")
    big = cameras.camera_matrix(137 * 3)
    ms = best(lambda: render.render_mesh(source.mesh, world, big, size=137 * 3, scale=scale,
                                         face_colors=source.face_colors, antialias=1))
    print(f"    embree, full 3x3 supersampling       : {ms:6.1f} ms")
    slow = trimesh.Trimesh(source.mesh.vertices, source.mesh.faces, process=False)
    slow.ray = trimesh.ray.ray_triangle.RayMeshIntersector(slow)
    t = time.perf_counter()
    render.render_mesh(slow, world, cam, scale=scale, face_colors=source.face_colors, antialias=1)
    print(f"    numpy intersector, 1 ray per pixel   : {(time.perf_counter() - t) * 1000:6.1f} ms")


def throughput(shapes_per_class: int, workers: int) -> None:
    from vitocc.data import writer
    from vitocc.data.synth.dataset import generate_dataset

    n = 13 * shapes_per_class
    print(f"[4] vitocc synth: {n} shapes (13 classes x {shapes_per_class}), 24 views + 100k + 100k points, {workers} workers")
    import resource

    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        report = generate_dataset(Path(tmp) / "synthetic", shapes_per_class, writer.Counts(), seed=0, workers=workers,
                                  show_progress=False)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime) / max(len(report.built), 1)
    rate = report.shapes_per_second
    print(f"    {len(report.built)} shapes in {report.seconds:.1f} s: {rate:.2f} shapes/s, "
          f"{1000 / rate / 60:.1f} min per 1000 shapes (target < 15), {size / n / 1e6:.2f} MB per shape, "
          f"{len(report.failed)} failed")
    print(f"    CPU time in the workers: {cpu:.2f} s per shape (independent of other load on the machine; "
          f"{workers} free cores would give {workers / cpu:.2f} shapes/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes-per-class", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check", type=int, default=50, help="shapes per class for the generator check (0: skip)")
    args = parser.parse_args()
    if args.check:
        check_classes(args.check)
    time_one_shape()
    compare_renderers()
    throughput(args.shapes_per_class, args.workers)


if __name__ == "__main__":
    main()
