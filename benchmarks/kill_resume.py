"""Kill and resume: each resumable command, killed with SIGKILL at several points and rerun, ends
with the result of an uninterrupted run, and leaves no half-written file behind.

Commands and what "the same result" means for each:

    synth          every file byte-identical (the generator promises byte-identical output per seed)
    build-dataset  every file byte-identical, the build report aside (it records times)
    download       every extracted file byte-identical (a file:// zip of the synth set)
    train          the final weights equal, tensor for tensor (resume replays the data stream)
    mise           every mesh byte-identical (stats.json aside: it records times)
    evaluate       per_shape.csv equal row for row

A kill point is a delay after the killed run's first change to its output (before, it is
starting up or loading and has written nothing; that time varies with the machine's load), spread
evenly over 80% of the uninterrupted run's span from its first change to its end. After each kill no
temporary file (`.NAME.*.tmp*`) may be left once the rerun has finished, and every file that
exists right after the kill must be complete (the rerun's comparison checks its bytes).
Prints one row per command: kill points, how many of them found the command still running (a
kill after the end tests nothing), how many left part of the result on disk (files other than at the
start, but not the finished run's), how many reruns matched, times.

    python benchmarks/kill_resume.py [--points 5] [--only synth,mise] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TINY_TRAIN = ["--set", "model.encoder=resnet18", "--set", "model.pretrained=false", "--set", "data.img_size=32",
              "--set", "model.c_dim=32", "--set", "model.hidden_size=32", "--set", "model.n_blocks=2",
              "--set", "data.points_subsample=128", "--set", "data.num_workers=0", "--set", "training.batch_size=2",
              "--set", "training.validate_every=4", "--set", "training.checkpoint_every=1", "--set", "training.threads=1",
              "--set", "training.amp=off", "--set", "generation.resolution0=8", "--set", "generation.batch_size=2",
              "--set", "test.n_points=2000"]
VOLATILE = {"build_report.json", "stats.json", "summary.json", "log.jsonl", ".vitocc_download.json"}


def vitocc(*args: str) -> list[str]:
    return [sys.executable, "-m", "vitocc", "-q", *args]


def files(root: Path, skip: set[str] = VOLATILE) -> dict[str, bytes]:
    """Relative path -> bytes of every file under `root`, volatile records aside."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in skip}


def layout_of(root: Path) -> set[tuple[str, int]]:
    """(relative path, size) of every file under `root`, temporaries included: what a kill left behind."""
    return {(str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def temporaries(root: Path) -> list[str]:
    return [str(p) for p in root.rglob(".*.tmp*")]


def weights(run: Path) -> dict[str, bytes]:
    import torch

    state = torch.load(run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    return {k: v.numpy().tobytes() for k, v in state["model"].items()}


def metric_rows(csv_path: Path) -> dict[str, bytes]:
    """per_shape.csv without its `seconds` column (time, not a result)."""
    import csv

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {f"{r['class_id']}/{r['model_id']}": repr(sorted((k, v) for k, v in r.items() if k != "seconds")).encode()
            for r in rows}


@dataclass
class Case:
    """One command: how to run it into `out`, and what must come out the same."""

    name: str
    command: Callable[[Path], list[str]]
    result: Callable[[Path], dict[str, bytes]]
    rerun: Callable[[Path], list[str]] | None = None  # the command to finish a killed run (default: the same)


def cases(work: Path) -> list[Case]:
    synth_set, meshes, zip_url, run = work / "synth", work / "meshes", (work / "synth.zip").as_uri(), work / "run"

    def train_cmd(out: Path) -> list[str]:
        return vitocc("train", "--config", "synthetic-cpu", "--data", str(synth_set), "--out", str(out), "--gpu", "-1",
                      "--max-steps", "12", *TINY_TRAIN)

    def train_rerun(out: Path) -> list[str]:
        resume = ["--resume"] if (out / "checkpoints" / "last.pt").is_file() else []
        return train_cmd(out) + resume

    def run_copy(out: Path) -> Path:  # mise and evaluate work inside a copy of the trained run
        if not out.exists():
            shutil.copytree(run, out, ignore=shutil.ignore_patterns("generation", "evaluation"))
        return out

    return [
        Case("synth", lambda out: vitocc("synth", "--dest", str(out), "--shapes-per-class", "8", "--views", "8",
                                         "--points", "50000", "--classes", "chair,table,lamp", "--workers", "1"), files),
        Case("build-dataset", lambda out: vitocc("build-dataset", str(meshes), "--dest", str(out), "--classes-from-folders",
                                                 "--views", "12", "--points", "50000", "--workers", "1"), files),
        Case("download", lambda out: vitocc("download", "shapenet", "--url", zip_url, "--dest", str(out)), files),
        Case("train", train_cmd, weights, train_rerun),
        Case("mise", lambda out: vitocc("mise", str(run_copy(out)), "--split", "test", "--data", str(synth_set)),
             lambda out: files(out / "generation")),
        Case("evaluate", lambda out: vitocc("evaluate", str(run_copy(out)), "--data", str(synth_set), "-j", "1"),
             lambda out: metric_rows(out / "evaluation" / "test" / "per_shape.csv")),
    ]


def prepare(work: Path) -> None:
    """The inputs: a tiny synth set (also zipped as the ShapeNet archive), meshes, a trained tiny run."""
    import trimesh

    subprocess.run(vitocc("synth", "--dest", str(work / "synth"), "--shapes-per-class", "3", "--views", "2",
                          "--points", "3000", "--classes", "chair,table", "--workers", "1"), check=True)
    big = work / "synth-zip"  # a larger set for the archive, so that extraction takes a while
    subprocess.run(vitocc("synth", "--dest", str(big), "--shapes-per-class", "30", "--views", "24",
                          "--points", "100000", "--classes", "chair,table", "--workers", "2"), check=True)
    with zipfile.ZipFile(work / "synth.zip", "w") as archive:
        for path in sorted(big.rglob("*")):
            if path.is_file():
                archive.write(path, "ShapeNet/" + str(path.relative_to(big)))
    for k, (cls, mesh) in enumerate([("chair", trimesh.creation.box((0.4, 0.8, 0.4))),
                                     ("chair", trimesh.creation.cylinder(0.2, 0.7)),
                                     ("lamp", trimesh.creation.cone(0.3, 0.6)),
                                     ("lamp", trimesh.creation.icosphere(2, 0.3))]):
        (work / "meshes" / cls).mkdir(parents=True, exist_ok=True)
        mesh.export(work / "meshes" / cls / f"m{k}.obj")
    subprocess.run(cases(work)[3].command(work / "run"), check=True)


def timed_reference(case: Case, reference: Path) -> tuple[float, float]:
    """Run the command uninterrupted into `reference`: (seconds until it first changed its output, seconds until it
    ended). Kill points go between the two: before, the command is starting or loading and has written nothing."""
    command = case.command(reference)
    initial = layout_of(reference)
    start = time.perf_counter()
    proc = subprocess.Popen(command)
    first = None
    while proc.poll() is None:
        if first is None and layout_of(reference) != initial:
            first = time.perf_counter() - start
        time.sleep(0.05)
    end = time.perf_counter() - start
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, command)
    return (end / 2 if first is None else first), end


def kill_and_resume(case: Case, work: Path, points: int) -> tuple[int, int, int, int, float, list[str]]:
    """(kill points, kills that found the command still running, kills that changed the output but did not finish it,
    matching reruns, seconds of the uninterrupted run, problems). A kill point the command outlived tests nothing:
    the table counts the real kills apart, and those that left part of the result on disk."""
    reference = work / f"{case.name}-reference"
    first, seconds = timed_reference(case, reference)
    expected, finished = case.result(reference), layout_of(reference)
    killed, partial, matched, problems = 0, 0, 0, []
    for k in range(points):
        out = work / f"{case.name}-kill{k}"
        command = case.command(out)  # mise and evaluate: copies the trained run into `out` first
        initial = layout_of(out)
        proc = subprocess.Popen(command, start_new_session=True)
        while proc.poll() is None and layout_of(out) == initial:  # its own start-up: it varies with the load
            time.sleep(0.02)
        # Then spread over 80% of the reference's writing span (a warm run may write faster than the reference).
        time.sleep(0.8 * (seconds - first) * (k + 0.5) / points)
        running = proc.poll() is None
        if running:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        else:
            problems.append(f"kill {k}: the command had ended before its kill point")
        proc.wait()
        partial += running and layout_of(out) not in (initial, finished)
        finish = subprocess.run((case.rerun or case.command)(out), capture_output=True, text=True)
        leftovers = temporaries(out)
        if finish.returncode != 0:
            problems.append(f"kill {k}: rerun failed: {finish.stderr.strip().splitlines()[-1:]}")
        elif leftovers:
            problems.append(f"kill {k}: temporary files left: {leftovers[:3]}")
        elif case.result(out) != expected:
            problems.append(f"kill {k}: result differs from the uninterrupted run")
        else:
            matched += 1
    return points, killed, partial, matched, seconds, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=5, help="kill points per command")
    parser.add_argument("--only", default="", help="comma-separated commands (default: all)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="vitocc-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        prepare(work)
        chosen = [c for c in cases(work) if not args.only or c.name in args.only.split(",")]
        print("| command | kill points | killed mid-run | partial result left | reruns matching | uninterrupted run (s) |")
        print("|---|---|---|---|---|---|")
        failed = False
        for case in chosen:
            points, killed, partial, matched, seconds, problems = kill_and_resume(case, work, args.points)
            print(f"| {case.name} | {points} | {killed} | {partial} | {matched} | {seconds:.1f} |", flush=True)
            for problem in problems:
                print(f"    {case.name}: {problem}", flush=True)
            failed |= matched != points
        sys.exit(1 if failed else 0)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
