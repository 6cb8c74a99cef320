"""Seconds per shape of the evaluation, against a stand-in for the paper's evaluator, same values.

Mesh: the oracle's MISE chair (62,428 faces, tests/data/oracle; `--mesh` picks another oracle
case), GT 100k surface points and 100k IoU points. Three parts, all in one run so that machine
load hits both sides alike (ratios from one run are the figures to quote, absolute times depend
on the load):

1. Stages, interleaved medians over --repeat runs in this process: vitocc.metrics (sampling,
   kd-tree part, inside test) and a reference-style pipeline doing the paper's MeshEvaluator
   steps with its libraries' settings (trimesh sampling, pykdtree with default settings on
   unsorted points, trimesh/Embree ray-parity `contains` standing in for its compiled
   check_mesh_contains, on a freshly loaded mesh).
2. `vitocc evaluate` (evaluate_run on a run of --shapes copies of the mesh and its GT): wall
   seconds per shape including reading meshes and GT, cache entries and worker start-up, with
   1 worker (in this process) and 2 worker processes (one kd-tree thread each); and the same
   after start-up (between results), what a real test split of thousands of shapes sees.
3. The issue's 3x target: the reference-style pipeline's s/shape (single process, measured
   in bursts right before and after each `vitocc evaluate` run) over `vitocc evaluate`'s s/shape,
   including and after worker start-up, with a verdict for each.

pykdtree's OpenMP threads in this process (the reference-style pipeline and 1 worker) are
printed: the machine's cores by default. The paper's evaluator took 0.38 s/shape on this 2-core
machine with its default 2 threads and 0.51 s with OMP_NUM_THREADS=1; run
`OMP_NUM_THREADS=1 python benchmarks/evaluate.py` for the 1-worker vs 1-thread comparison.

Usage: python benchmarks/evaluate.py [--repeat 7] [--shapes 24] [--mesh chair_a_onet_mise_t0.2]
"""

from __future__ import annotations

import argparse
import lzma
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ORACLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "oracle"
STAGES = ("sample", "kdtree", "inside", "total", "cpu")


def load_mesh(case: str):
    import trimesh

    path = ORACLE / "pred" / f"{case}.off"
    if path.is_file():
        return trimesh.load(path, process=False)
    with lzma.open(path.with_suffix(".off.xz")) as f:
        return trimesh.load(f, file_type="off", process=False)


def gt_name(case: str) -> str:
    return "table_b" if case.startswith("table") else "chair_a"


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


def make_run(root: Path, n_shapes: int, case: str) -> Path:
    """A data set of `n_shapes` copies of the case's GT and a run whose meshes are the case's mesh (OBJ)."""
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
    obj_text = load_mesh(case).export(file_type="obj")
    for model in ids:
        (data / "03001627" / model).mkdir(parents=True)
        for name in ("points.npz", "pointcloud.npz"):
            shutil.copy(ORACLE / "gt" / gt_name(case) / name, data / "03001627" / model / name)
        path = run / "generation" / "test" / "meshes" / "03001627" / f"{model}.obj"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(obj_text)
    return run


def kdtree_threads() -> int:
    """OpenMP threads pykdtree uses in this process: OMP_NUM_THREADS, else the usable cores."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0]
    return int(value) if value.isdigit() else len(os.sched_getaffinity(0))


def load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="interleaved runs of each pipeline in part 1")
    parser.add_argument("--shapes", type=int, default=24, help="copies of the mesh evaluated by vitocc evaluate")
    parser.add_argument("--mesh", default="chair_a_onet_mise_t0.2", help="oracle case (tests/data/oracle/pred)")
    args = parser.parse_args()
    from vitocc import metrics
    from vitocc.evaluation import evaluate_run

    mesh = load_mesh(args.mesh)
    rng = np.random.default_rng(0)
    gt = metrics.load_ground_truth(ORACLE / "gt" / gt_name(args.mesh), rng)
    threads = kdtree_threads()
    print(f"mesh {args.mesh}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces; GT 100k surface + 100k IoU points")
    print(f"load average at start {load()} on {os.cpu_count()} cores; pykdtree uses {threads} OpenMP thread(s) "
          f"in this process (reference-style pipeline, vitocc stages, vitocc evaluate with 1 worker)")

    print(f"\n1. stages, medians of {args.repeat} interleaved runs in this process (wall s/shape; CPU-s over all threads)")
    ref_t, ours_t = [], []
    for _ in range(args.repeat):
        t, ref_values = reference_style(mesh, gt)
        ref_t.append(t)
        t, our_values = vitocc_stages(mesh, gt, rng)
        ours_t.append(t)
    for name, runs, values in (("reference-style", ref_t, ref_values), ("vitocc", ours_t, our_values)):
        med = {k: statistics.median(r[k] for r in runs) for k in STAGES}
        print(f"   {name:16s} total {med['total']:.3f} s, {med['cpu']:.3f} CPU-s  (sample {med['sample']:.3f}, "
              f"kd-tree {med['kdtree']:.3f}, inside {med['inside']:.3f})  chamfer_l1 {values['chamfer_l1']:.6f} "
              f"NC {values['normal_consistency']:.4f} IoU {values['iou']:.4f}")
    ratio = statistics.median(r["total"] for r in ref_t) / statistics.median(r["total"] for r in ours_t)
    cpu_ratio = statistics.median(r["cpu"] for r in ref_t) / statistics.median(r["cpu"] for r in ours_t)
    print(f"   speed-up of the metrics: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU time")

    print(f"\n2. vitocc evaluate on {args.shapes} shapes (wall s/shape incl. reading meshes and GT, cache, worker start-up)")
    evaluate_s, steady_s, reference_s = {}, {}, []

    def reference_burst() -> list[float]:
        return [reference_style(mesh, gt)[0]["total"] for _ in range(3)]

    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp), args.shapes, args.mesh)
        reference_s.append(reference_burst())
        for workers in (1, 2):
            shutil.rmtree(run / "evaluation", ignore_errors=True)
            finished = {}  # shapes done -> perf_counter() when that many were done
            start = time.perf_counter()
            result = evaluate_run(run, workers=workers,
                                  progress=lambda done, total: finished.setdefault(done, time.perf_counter()))
            evaluate_s[workers] = (time.perf_counter() - start) / args.shapes
            # after start-up: between the `workers`-th result (every worker has finished one) and the last
            steady = steady_s[workers] = (finished[args.shapes] - finished[workers]) / (args.shapes - workers)
            inner = statistics.median(r["seconds"] for r in result.per_shape)
            kind = f"in this process, {threads} kd-tree thread(s)" if workers == 1 else "processes, 1 kd-tree thread each"
            print(f"   {workers} worker(s) ({kind}): {evaluate_s[workers]:.3f} s/shape, {steady:.3f} after start-up "
                  f"(median {inner:.3f} s per shape inside a worker); IoU {result.per_class[-1]['iou']:.4f}, "
                  f"load {load()}")
            reference_s.append(reference_burst())

    print("\n3. against the reference-style pipeline (single process, "
          f"{threads} kd-tree thread(s); median of the 3 runs right before and the 3 right after each evaluate run)")
    for workers in (1, 2):
        ref = statistics.median(reference_s[workers - 1] + reference_s[workers])
        total, steady = ref / evaluate_s[workers], ref / steady_s[workers]
        verdict = "/".join("reached" if x >= 3 else "NOT reached" for x in (total, steady))
        print(f"   {workers} worker(s): reference-style {ref:.3f} s/shape; vitocc evaluate {evaluate_s[workers]:.3f} s/shape "
              f"incl. start-up = {total:.2f}x, {steady_s[workers]:.3f} after start-up = {steady:.2f}x  "
              f"(3x target incl./after start-up: {verdict})")
    print(f"load average at end {load()}")


if __name__ == "__main__":
    main()
