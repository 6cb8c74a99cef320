"""Seconds per shape of the evaluation, against a stand-in for the paper's evaluator, same values.

Mesh: the oracle's MISE chair (62,428 faces, tests/data/oracle), GT 100k surface points and
100k IoU points. Prints, as medians over --repeat runs in this process:

* wall and CPU seconds (all threads) of the stages of vitocc.metrics.evaluate_mesh (sampling, kd-tree part, inside test) and of a
  reference-style pipeline as the paper's MeshEvaluator does it (trimesh sampling, pykdtree
  with default settings on unsorted points, trimesh/embree ray-parity contains standing in
  for its compiled check_mesh_contains), run interleaved so machine load hits both alike;
* `vitocc evaluate`-style throughput (evaluate_run on a run of --shapes copies) with 1 and 2
  worker processes, wall seconds per shape including worker start-up.

Usage: python benchmarks/evaluate.py [--repeat 7] [--shapes 16]
"""

from __future__ import annotations

import argparse
import lzma
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ORACLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "oracle"
MESH = "chair_a_onet_mise_t0.2"


def load_mesh():
    import trimesh

    with lzma.open(ORACLE / "pred" / f"{MESH}.off.xz") as f:
        return trimesh.load(f, file_type="off", process=False)


def reference_style(mesh, gt) -> tuple[dict, dict]:
    """The paper evaluator's steps with its library settings (see the module docstring)."""
    import trimesh
    from pykdtree.kdtree import KDTree

    mesh = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)  # as freshly loaded: no cached ray scene
    cpu = time.process_time()
    t0 = time.perf_counter()
    points, idx = mesh.sample(100_000, return_index=True)
    points, normals = points.astype(np.float32), mesh.face_normals[idx].astype(np.float32)
    t1 = time.perf_counter()
    comp, comp_idx = KDTree(points).query(gt.surface)
    acc, acc_idx = KDTree(gt.surface).query(points)
    nc = 0.5 * (np.abs((gt.normals * normals[comp_idx]).sum(1)).mean() + np.abs((normals * gt.normals[acc_idx]).sum(1)).mean())
    t2 = time.perf_counter()
    occ = mesh.contains(gt.points)
    iou = (occ & gt.occ).sum() / (occ | gt.occ).sum()
    t3 = time.perf_counter()
    values = {"chamfer_l1": 0.5 * (comp.mean() + acc.mean()), "normal_consistency": nc, "iou": iou}
    return {"sample": t1 - t0, "kdtree": t2 - t1, "inside": t3 - t2, "total": t3 - t0,
            "cpu": time.process_time() - cpu}, values


def vitocc_stages(mesh, gt, rng) -> tuple[dict, dict]:
    from vitocc import metrics

    cpu = time.process_time()
    t0 = time.perf_counter()
    points, normals = metrics.sample_surface(mesh.vertices, mesh.faces, 100_000, rng)
    t1 = time.perf_counter()
    surface = metrics.surface_metrics(points, normals, gt.surface, gt.normals)
    t2 = time.perf_counter()
    iou = metrics.iou(metrics.inside_mesh(mesh.vertices, mesh.faces, gt.points), gt.occ)
    t3 = time.perf_counter()
    values = {"chamfer_l1": surface["chamfer_l1"], "normal_consistency": surface["normal_consistency"], "iou": iou}
    return {"sample": t1 - t0, "kdtree": t2 - t1, "inside": t3 - t2, "total": t3 - t0,
            "cpu": time.process_time() - cpu}, values


def make_run(root: Path, n_shapes: int) -> Path:
    """A data set of `n_shapes` copies of the oracle chair's GT and a run whose meshes are the MISE chair."""
    from vitocc.config import Config, save_config
    from vitocc.data import layout

    data = root / "data"
    layout.write_metadata(data, {"03001627": "chair"})
    ids = [f"chair{i:03d}" for i in range(n_shapes)]
    layout.write_split_lists(data / "03001627", {"train": [], "val": [], "test": ids})
    run = root / "run"
    cfg = Config()
    cfg.data.path = str(data)
    save_config(cfg, run / "config.yaml")
    obj_text = load_mesh().export(file_type="obj")
    for model in ids:
        (data / "03001627" / model).mkdir(parents=True)
        for name in ("points.npz", "pointcloud.npz"):
            shutil.copy(ORACLE / "gt" / "chair_a" / name, data / "03001627" / model / name)
        path = run / "generation" / "test" / "meshes" / "03001627" / f"{model}.obj"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(obj_text)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shapes", type=int, default=16)
    args = parser.parse_args()
    from vitocc import metrics
    from vitocc.evaluation import evaluate_run

    mesh = load_mesh()
    rng = np.random.default_rng(0)
    gt = metrics.load_ground_truth(ORACLE / "gt" / "chair_a", rng)
    print(f"mesh {MESH}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces; GT 100k surface + 100k IoU points")
    ref_t, ours_t = [], []
    for _ in range(args.repeat):
        t, ref_values = reference_style(mesh, gt)
        ref_t.append(t)
        t, our_values = vitocc_stages(mesh, gt, rng)
        ours_t.append(t)
    for name, runs, values in (("reference-style", ref_t, ref_values), ("vitocc", ours_t, our_values)):
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{name:16s} total {med['total']:.3f} s/shape, {med['cpu']:.3f} CPU-s  (sample {med['sample']:.3f}, kd-tree {med['kdtree']:.3f}, "
              f"inside {med['inside']:.3f})  chamfer_l1 {values['chamfer_l1']:.6f} NC {values['normal_consistency']:.4f} "
              f"IoU {values['iou']:.4f}")
    ratio = statistics.median(r["total"] for r in ref_t) / statistics.median(r["total"] for r in ours_t)
    cpu_ratio = statistics.median(r["cpu"] for r in ref_t) / statistics.median(r["cpu"] for r in ours_t)
    print(f"speed-up per shape, one process: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU time")

    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp), args.shapes)
        for workers in (1, 2):
            shutil.rmtree(run / "evaluation", ignore_errors=True)
            start = time.perf_counter()
            result = evaluate_run(run, workers=workers)
            wall = time.perf_counter() - start
            inner = statistics.median(r["seconds"] for r in result.per_shape)
            print(f"vitocc evaluate, {workers} worker(s): {wall / args.shapes:.3f} s/shape wall over {args.shapes} shapes "
                  f"(incl. start-up; median {inner:.3f} s inside a worker per shape); "
                  f"IoU {result.per_class[-1]['iou']:.4f}")


if __name__ == "__main__":
    main()
