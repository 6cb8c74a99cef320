"""Seconds per shape of the evaluation, against the paper's evaluator done the paper's way, same values.

Mesh: the oracle's MISE chair (62,428 faces, tests/data/oracle; `--mesh` picks another oracle
case), GT 100k surface points and 100k IoU points. Everything runs in one process run, so that
machine load hits both sides alike (ratios from one run are the figures to quote; absolute times
move with the load, up to 1.6x between quiet runs on this shared machine):

1. Metrics alone, mesh and GT in memory (what the oracle timed as "0.38 s/shape", the issue's
   "about 0.3 s"): interleaved medians in this process of vitocc.metrics (sampling, kd-tree
   part, inside test) and of the steps of the paper's `MeshEvaluator.eval_mesh` with its
   libraries' settings (trimesh `sample`, `distance_p2p` both ways: pykdtree with default
   settings on unsorted points, normals normalised then |dot|; trimesh's ray-parity `contains`
   standing in for its compiled `check_mesh_contains`, on a freshly loaded mesh).
2. Per shape as each tool evaluates a run's meshes, reading included: the paper's
   `eval_meshes.py` loop (trimesh.load of the `.off` file its `generate.py` writes, the GT
   files as its PointCloudField / PointsField read them, then the eval_mesh steps of part 1),
   single process; and `vitocc evaluate` (evaluate_run on a run of --shapes copies of the
   mesh as OBJ, what `vitocc mise` writes) with 1 worker (in this process) and 2 worker
   processes (one kd-tree thread each): wall s/shape including worker start-up, and after
   start-up (what a test split of hundreds or thousands of shapes sees). The paper-style
   loop runs in bursts of 3 shapes right before and after each `vitocc evaluate` run, once
   reading the `.off` file and once reading the same OBJ file vitocc reads.
3. The issue's 3x target: ratios of part 2 (the paper's loop over vitocc evaluate), with and
   without worker start-up, and the metrics-alone ratio of part 1 for 1 process.

pykdtree's OpenMP threads in this process (the paper-style side and 1 worker) are printed:
the machine's cores by default (as the paper's evaluator ran). Run
`OMP_NUM_THREADS=1 python benchmarks/evaluate.py` for the 1-thread comparison.

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
CLASS_ID = "03001627"


def load_mesh(case: str):
    import trimesh

    path = ORACLE / "pred" / f"{case}.off"
    if path.is_file():
        return trimesh.load(path, process=False)
    with lzma.open(path.with_suffix(".off.xz")) as f:
        return trimesh.load(f, file_type="off", process=False)


def gt_name(case: str) -> str:
    return "table_b" if case.startswith("table") else "chair_a"


def paper_read_gt(folder: Path) -> dict:
    """The GT arrays as the paper's PointCloudField and PointsField read them (float16 files:
    float32 arrays, the IoU points jittered by 1e-4 * randn, occupancies unpacked)."""
    with np.load(folder / "pointcloud.npz") as f:
        surface, normals = f["points"].astype(np.float32), f["normals"].astype(np.float32)
    with np.load(folder / "points.npz") as f:
        points = f["points"].astype(np.float32)
        points += 1e-4 * np.random.randn(*points.shape)
        occ = np.unpackbits(f["occupancies"])[: len(points)].astype(np.float32)
    return {"surface": surface, "normals": normals, "points": points, "occ": occ}


def paper_distance(src, src_normals, tgt, tgt_normals):
    """One direction of the paper's `distance_p2p`: NN distance and |dot| of normalised normals."""
    from pykdtree.kdtree import KDTree

    dist, idx = KDTree(tgt).query(src)
    src_normals = src_normals / np.linalg.norm(src_normals, axis=-1, keepdims=True)
    tgt_normals = tgt_normals / np.linalg.norm(tgt_normals, axis=-1, keepdims=True)
    return dist, np.abs((tgt_normals[idx] * src_normals).sum(axis=-1))


def paper_metrics(mesh, gt: dict) -> tuple[dict, dict]:
    """The steps of the paper's eval_mesh on a loaded mesh: stage times and values."""
    cpu = time.process_time()
    t0 = time.perf_counter()
    points, idx = mesh.sample(100_000, return_index=True)
    points, normals = points.astype(np.float32), mesh.face_normals[idx]
    t1 = time.perf_counter()
    comp, comp_normals = paper_distance(gt["surface"], gt["normals"], points, normals)
    acc, acc_normals = paper_distance(points, normals, gt["surface"], gt["normals"])
    chamfer_l1 = 0.5 * (comp.mean() + acc.mean())
    chamfer_l2 = 0.5 * ((comp**2).mean() + (acc**2).mean())
    nc = 0.5 * comp_normals.mean() + 0.5 * acc_normals.mean()
    t2 = time.perf_counter()
    occ = mesh.contains(gt["points"]) >= 0.5
    occ_gt = gt["occ"] >= 0.5
    iou = (occ & occ_gt).astype(np.float32).sum() / (occ | occ_gt).astype(np.float32).sum()
    t3 = time.perf_counter()
    values = {"chamfer_l1": chamfer_l1, "chamfer_l2": chamfer_l2, "normal_consistency": nc, "iou": iou}
    return {"sample": t1 - t0, "kdtree": t2 - t1, "inside": t3 - t2, "total": t3 - t0,
            "cpu": time.process_time() - cpu}, values


def paper_shape(mesh_path: Path, gt_folder: Path) -> float:
    """Wall seconds of one shape of the paper's eval_meshes.py loop: read mesh and GT, eval_mesh."""
    import trimesh

    start = time.perf_counter()
    mesh = trimesh.load(mesh_path, process=False)
    paper_metrics(mesh, paper_read_gt(gt_folder))
    return time.perf_counter() - start


def vitocc_metrics(mesh, gt, rng) -> tuple[dict, dict]:
    from vitocc import metrics

    cpu = time.process_time()
    t0 = time.perf_counter()
    points, normals = metrics.sample_surface(mesh.vertices, mesh.faces, 100_000, rng)
    t1 = time.perf_counter()
    surface = metrics.surface_metrics(points, normals, gt.surface, gt.normals)
    t2 = time.perf_counter()
    iou = metrics.iou(metrics.inside_mesh(mesh.vertices, mesh.faces, gt.points), gt.occ)
    t3 = time.perf_counter()
    values = {k: surface[k] for k in ("chamfer_l1", "chamfer_l2", "normal_consistency")} | {"iou": iou}
    return {"sample": t1 - t0, "kdtree": t2 - t1, "inside": t3 - t2, "total": t3 - t0,
            "cpu": time.process_time() - cpu}, values


def make_run(root: Path, n_shapes: int, case: str) -> Path:
    """A data set of `n_shapes` copies of the case's GT, a vitocc run whose meshes are the case's
    mesh (OBJ, as `vitocc mise` writes) and the same meshes as the paper's generate.py writes them
    (root/paper/meshes/<class>/<model>.off)."""
    from vitocc.config import Config, save_config
    from vitocc.data import layout

    data = root / "data"
    layout.write_metadata(data, {CLASS_ID: "chair"})
    ids = model_ids(n_shapes)
    layout.write_split_lists(data / CLASS_ID, {"train": [], "val": [], "test": ids})
    run = root / "run"
    cfg = Config()
    cfg.data.path = str(data)
    save_config(cfg, run / "config.yaml")
    mesh = load_mesh(case)
    texts = {"obj": mesh.export(file_type="obj"), "off": mesh.export(file_type="off")}
    for model in ids:
        (data / CLASS_ID / model).mkdir(parents=True)
        for name in ("points.npz", "pointcloud.npz"):
            shutil.copy(ORACLE / "gt" / gt_name(case) / name, data / CLASS_ID / model / name)
        for path, text in ((run / "generation" / "test" / "meshes" / CLASS_ID / f"{model}.obj", texts["obj"]),
                           (root / "paper" / "meshes" / CLASS_ID / f"{model}.off", texts["off"])):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return run


def model_ids(n: int) -> list[str]:
    return [f"chair{i:03d}" for i in range(n)]


def kdtree_threads() -> int:
    """OpenMP threads pykdtree uses in this process: OMP_NUM_THREADS, else the usable cores."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0]
    return int(value) if value.isdigit() else len(os.sched_getaffinity(0))


def load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def part_metrics(mesh, gt, rng, repeat: int) -> float:
    """Part 1; returns the metrics-alone wall ratio (paper steps / vitocc)."""
    import trimesh

    print(f"\n1. metrics alone, mesh and GT in memory: medians of {repeat} interleaved runs in this process "
          "(wall s/shape; CPU-s over all threads)")
    paper_gt = {"surface": gt.surface, "normals": gt.normals, "points": gt.points, "occ": gt.occ.astype(np.float32)}
    paper_t, ours_t = [], []
    for _ in range(repeat):
        fresh = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)  # as freshly loaded: no cached ray scene
        t, paper_values = paper_metrics(fresh, paper_gt)
        paper_t.append(t)
        t, our_values = vitocc_metrics(mesh, gt, rng)
        ours_t.append(t)
    for name, runs, values in (("paper eval_mesh", paper_t, paper_values), ("vitocc.metrics", ours_t, our_values)):
        med = {k: statistics.median(r[k] for r in runs) for k in STAGES}
        print(f"   {name:16s} total {med['total']:.3f} s, {med['cpu']:.3f} CPU-s  (sample {med['sample']:.3f}, "
              f"kd-tree {med['kdtree']:.3f}, inside {med['inside']:.3f})  chamfer_l1 {values['chamfer_l1']:.6f} "
              f"chamfer_l2 {values['chamfer_l2']:.7f} NC {values['normal_consistency']:.4f} IoU {values['iou']:.4f}")
    ratio = statistics.median(r["total"] for r in paper_t) / statistics.median(r["total"] for r in ours_t)
    cpu_ratio = statistics.median(r["cpu"] for r in paper_t) / statistics.median(r["cpu"] for r in ours_t)
    print(f"   speed-up of the metrics: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU time")
    return ratio


def part_runs(root: Path, n_shapes: int, case: str, threads: int) -> tuple[dict, dict, dict]:
    """Part 2: s/shape of vitocc evaluate (incl. and after start-up, per worker count) and of the
    paper's loop reading OFF or OBJ (bursts before and after each evaluate run)."""
    from vitocc.evaluation import evaluate_run

    print(f"\n2. per shape as each tool evaluates a run's meshes (wall s/shape incl. reading the mesh and GT files; "
          f"{n_shapes} shapes for vitocc evaluate)")
    run = make_run(root, n_shapes, case)
    gt_folder = root / "data" / CLASS_ID / model_ids(1)[0]
    files = {"off": root / "paper" / "meshes" / CLASS_ID / f"{model_ids(1)[0]}.off",
             "obj": run / "generation" / "test" / "meshes" / CLASS_ID / f"{model_ids(1)[0]}.obj"}
    paper_s = {"off": [], "obj": []}

    def paper_burst() -> None:
        for kind, path in files.items():
            paper_s[kind] += [paper_shape(path, gt_folder) for _ in range(3)]

    total_s, steady_s = {}, {}
    paper_burst()
    for workers in (1, 2):
        shutil.rmtree(run / "evaluation", ignore_errors=True)
        finished = {}  # shapes done -> perf_counter() when that many were done
        start = time.perf_counter()
        result = evaluate_run(run, workers=workers,
                              progress=lambda done, total, finished=finished: finished.setdefault(done, time.perf_counter()))
        total_s[workers] = (time.perf_counter() - start) / n_shapes
        # after start-up: between the `workers`-th result (every worker has finished one) and the last
        steady_s[workers] = (finished[n_shapes] - finished[workers]) / (n_shapes - workers)
        inner = statistics.median(r["seconds"] for r in result.per_shape)
        kind = f"in this process, {threads} kd-tree thread(s)" if workers == 1 else "processes, 1 kd-tree thread each"
        print(f"   vitocc evaluate, {workers} worker(s) ({kind}): {total_s[workers]:.3f} s/shape, "
              f"{steady_s[workers]:.3f} after start-up (median {inner:.3f} s per shape inside a worker); "
              f"IoU {result.per_class[-1]['iou']:.4f}, load {load()}")
        paper_burst()
    for kind in files:
        s = paper_s[kind]
        print(f"   paper's eval_meshes.py loop reading .{kind} (1 process, {threads} kd-tree thread(s)): "
              f"{statistics.median(s):.3f} s/shape (median of {len(s)}, {min(s):.3f}-{max(s):.3f})")
    return total_s, steady_s, {k: statistics.median(v) for k, v in paper_s.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="interleaved runs of each side in part 1")
    parser.add_argument("--shapes", type=int, default=24, help="copies of the mesh evaluated by vitocc evaluate")
    parser.add_argument("--mesh", default="chair_a_onet_mise_t0.2", help="oracle case (tests/data/oracle/pred)")
    args = parser.parse_args()
    if args.shapes < 3:
        parser.error("--shapes must be at least 3 (the after-start-up figure needs results after both workers' first)")
    from vitocc import metrics

    mesh = load_mesh(args.mesh)
    rng = np.random.default_rng(0)
    gt = metrics.load_ground_truth(ORACLE / "gt" / gt_name(args.mesh), rng)
    threads = kdtree_threads()
    print(f"mesh {args.mesh}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces; GT 100k surface + 100k IoU points")
    print(f"load average at start {load()} on {os.cpu_count()} cores; pykdtree uses {threads} OpenMP thread(s) "
          f"in this process (the paper's side, vitocc.metrics, vitocc evaluate with 1 worker)")

    metrics_ratio = part_metrics(mesh, gt, rng, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        total_s, steady_s, paper_s = part_runs(Path(tmp), args.shapes, args.mesh, threads)

    print("\n3. the 3x target: the paper's loop over vitocc evaluate, per shape, same run")
    for workers in (1, 2):
        for kind in ("off", "obj"):
            total, steady = paper_s[kind] / total_s[workers], paper_s[kind] / steady_s[workers]
            verdict = "/".join("reached" if x >= 3 else "NOT reached" for x in (total, steady))
            print(f"   {workers} worker(s) vs the loop reading .{kind}: {total:.2f}x incl. start-up, {steady:.2f}x after "
                  f"(3x: {verdict})")
    print(f"   metrics alone, 1 process each (part 1): {metrics_ratio:.2f}x")
    print(f"load average at end {load()}")


if __name__ == "__main__":
    main()
