"""Start-up, memory and per-picture time of `vitocc reconstruct` with the shipped model (issue 17).

Prints, in one run:

1. fresh processes, interleaved repeats: a bare `python -c "import torch"` and `vitocc reconstruct
   examples/chair.png -o chair.obj`; wall time, their ratio, peak RSS of each (wait4's ru_maxrss);
2. where one picture's time and memory go, in a fresh process that does what the command does:
   imports (by package, from `python -X importtime` self times), model load, picture, reconstruction
   (encoder, MISE decoder, MISE rest, marching cubes: first and second call), writing; RSS and peak
   RSS after each phase;
3. a folder: the 6 examples plus 10 variants (mirrored, shifted); `vitocc reconstruct FOLDER -o DIR`
   interleaved with the one-picture command, so that (folder - one) / 15 is the time per picture
   after the first; and in one warm process, seconds per picture stage by stage (picture, encoder,
   MISE decoder, MISE bookkeeping, marching cubes, the rest of generate_meshes, colour, writing),
   interleaved with the older version when one is given.

    python benchmarks/reconstruct_latency.py [--repeats 3] [--skip-folder] [--before OLD/src]

`--before OLD/src` also runs the commands with an older vitocc (e.g. `git archive COMMIT src | tar -x
-C OLD`) on PYTHONPATH, interleaved with the others, for before/after figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CHAIR = EXAMPLES / "chair.png"
VITOCC = [sys.executable, "-c", "from vitocc.cli import main; main()"]


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stderr) of one child process."""
    with tempfile.TemporaryFile("w+") as err_file:  # a file, not a pipe: -X importtime fills any pipe
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, env=env, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err_file.seek(0)
        err = err_file.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, err


def child() -> None:
    """One picture as `vitocc reconstruct` makes it, phase by phase; prints one JSON line."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    out: dict = {"phases": []}

    def mark(name: str, t0: float) -> float:
        now = time.perf_counter()
        out["phases"].append({"phase": name, "seconds": now - t0, "rss_mb": _status_mb("VmRSS"),
                              "peak_mb": _status_mb("VmHWM")})
        return time.perf_counter()

    t = time.perf_counter()
    import torch

    t = mark("import torch", t)
    from vitocc.config import apply_overrides  # noqa: F401 - what the command imports
    from vitocc.devices import resolve_device
    from vitocc.generation import load_image, reconstruct_images, save_mesh
    from vitocc.models import load_model

    t = mark("other imports (vitocc, PIL, scikit-image, ...)", t)
    device = resolve_device(None)
    model, cfg = load_model(None, device)
    t = mark("model load", t)
    picture = load_image(CHAIR)
    t = mark("picture", t)
    stages = []
    for call in ("first", "second"):
        (mesh, info), = reconstruct_images([picture], model, cfg.generation, device, crop=False)
        stages.append(info.stages)
        t = mark(f"reconstruction ({call} call)", t)
        if call == "first":
            with tempfile.TemporaryDirectory() as tmp:
                save_mesh(mesh, Path(tmp) / "chair.obj")
            t = mark("writing the mesh", t)
    out["stages"] = stages
    out["threads"] = torch.get_num_threads()
    out["modules"] = {m: m in sys.modules for m in ("timm", "torchvision", "torch._dynamo", "trimesh", "scipy")}
    print(json.dumps(out))


def imports_by_package(importtime: str) -> dict[str, float]:
    """Seconds of import self time per top-level package from `-X importtime` output."""
    by_package: dict[str, float] = {}
    for line in importtime.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            package = m[2].split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(m[1]) / 1e6
    return dict(sorted(by_package.items(), key=lambda kv: -kv[1]))


def folder_pictures(dest: Path) -> list[Path]:
    """The 6 examples and 10 variants of them (mirrored, shifted on the white background)."""
    from PIL import Image, ImageOps

    dest.mkdir(parents=True, exist_ok=True)
    examples = sorted(EXAMPLES.glob("*.png"))
    paths = []
    for p in examples:
        paths.append(dest / p.name)
        Image.open(p).save(paths[-1])
    for k in range(10):
        image = Image.open(examples[k % len(examples)]).convert("RGB")
        image = ImageOps.mirror(image) if k % 2 == 0 else image
        shifted = Image.new("RGB", image.size, (255, 255, 255))
        shifted.paste(image, (4 * (k + 1) % 17 - 8, 3 * (k + 1) % 13 - 6))
        paths.append(dest / f"variant_{k:02d}.png")
        shifted.save(paths[-1])
    return paths


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def row(label: str, runs: list[tuple[float, float]]) -> str:
    """One line: median wall s, largest peak RSS, every wall time."""
    walls = " ".join(f"{w:.2f}" for w, _ in runs)
    return f"   {label:52s} {median([w for w, _ in runs]):6.2f} s  peak {max(m for _, m in runs):5.0f} MB   ({walls})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-folder", action="store_true")
    parser.add_argument("--before", type=Path, help="src folder of an older vitocc to compare with")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    env = dict(os.environ)
    load = os.getloadavg()
    print(f"vitocc start-up benchmark: {args.repeats} interleaved repeats, load average {load[0]:.1f} "
          f"{load[1]:.1f} {load[2]:.1f}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pictures = [] if args.skip_folder else folder_pictures(tmp / "pictures")
        versions = {"": env}
        if args.before:
            versions[" (before)"] = dict(env, PYTHONPATH=str(args.before.resolve()))
        runs: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.repeats):
            runs.setdefault("torch", []).append(run_measured([sys.executable, "-c", "import torch"], env)[:2])
            for tag, version_env in versions.items():
                runs.setdefault("one" + tag, []).append(run_measured(
                    VITOCC + ["reconstruct", str(CHAIR), "-o", str(tmp / "chair.obj"), "--overwrite"], version_env)[:2])
                if pictures:
                    runs.setdefault("folder" + tag, []).append(run_measured(
                        VITOCC + ["reconstruct", str(tmp / "pictures"), "-o", str(tmp / "meshes"), "--overwrite"],
                        version_env)[:2])
        print("\n1. fresh processes (median wall s, peak RSS MB; each run listed)")
        t_torch = median([w for w, _ in runs["torch"]])
        print(row('python -c "import torch"', runs["torch"]))
        for tag in versions:
            print(row("vitocc reconstruct chair.png -o chair.obj" + tag, runs["one" + tag]))
        for tag in versions:
            one = runs["one" + tag]
            ratios = median([o[0] / t[0] for o, t in zip(one, runs["torch"])])
            print(f"   ratio reconstruct{tag} / import torch: {median([w for w, _ in one]) / t_torch:.2f} "
                  f"(median of the per-repeat ratios {ratios:.2f})")

        _, _, importtime = run_measured([sys.executable, "-X", "importtime", __file__, "--child"], env)
        proc = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True, env=env, check=True)
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        print("\n2. one picture, phase by phase (fresh process; RSS / peak RSS after the phase)")
        for p in report["phases"]:
            print(f"   {p['phase']:45s} {p['seconds']:6.2f} s   RSS {p['rss_mb']:5.0f} MB  peak {p['peak_mb']:5.0f} MB")
        for call, st in zip(("first", "second"), report["stages"]):
            print(f"   reconstruction stages, {call} call: " + ", ".join(f"{k} {v:.3f}" for k, v in st.items()))
        print(f"   torch threads {report['threads']}; imported: "
              + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in report["modules"].items()))
        packages = imports_by_package(importtime)
        total = sum(packages.values())
        print(f"   imports by package (-X importtime self time, {total:.2f} s in all): "
              + ", ".join(f"{k} {v:.2f}" for k, v in list(packages.items())[:10]))

        if pictures:
            print(f"\n3. a folder of {len(pictures)} pictures (6 examples + 10 variants)")
            for tag in versions:
                folder, one = runs["folder" + tag], runs["one" + tag]
                per = median([(f[0] - o[0]) / (len(pictures) - 1) for f, o in zip(folder, one)])
                print(f"   vitocc reconstruct FOLDER -o DIR{tag}: {median([w for w, _ in folder]):.2f} s median, peak "
                      f"{max(m for _, m in folder):.0f} MB ({' '.join(f'{w:.2f}' for w, _ in folder)}); per picture "
                      f"after the first, (folder - one picture) / {len(pictures) - 1}: {per:.2f} s")
            folder_stages(pictures, versions, args.repeats, tmp)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nlargest peak RSS of any child: {usage.ru_maxrss / 1024:.0f} MB; load average at the end "
          f"{os.getloadavg()[0]:.1f}")


STAGES_CHILD = """
import json, os, sys, time
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch
from vitocc.data.transforms import image_to_tensor
from vitocc.generation import generate_meshes, load_image, save_mesh
from vitocc.generation.colour import colour_mesh
from vitocc.models import load_model
model, cfg = load_model(None)
gen = cfg.generation
paths, out = sys.argv[1:-1], sys.argv[-1]
clock = dict.fromkeys(("picture", "encode", "mise_decoder", "mise_other", "marching_cubes", "mesh_rest", "colour",
                       "write"), 0.0)
def run(paths):
    for first in range(0, len(paths), gen.batch_size):  # what reconstruct_images and the command do
        t = time.perf_counter()
        pictures = [load_image(p) for p in paths[first:first + gen.batch_size]]
        x = torch.stack([image_to_tensor(p, model.image_size, model.image_mean, model.image_std) for p in pictures])
        clock["picture"] += time.perf_counter() - t
        t = time.perf_counter()
        meshes = generate_meshes(model, x, gen)
        clock["mesh_rest"] += time.perf_counter() - t
        for (mesh, info), picture in zip(meshes, pictures):
            for stage in ("encode", "mise_decoder", "mise_other", "marching_cubes"):
                clock[stage] += info.stages[stage]
                clock["mesh_rest"] -= info.stages[stage]
            t = time.perf_counter()
            mesh = colour_mesh(mesh, picture, info.projection)
            t1 = time.perf_counter()
            save_mesh(mesh, os.path.join(out, "mesh.obj"))
            clock["colour"] += t1 - t
            clock["write"] += time.perf_counter() - t1
run(paths[:1])
for k in clock:
    clock[k] = 0.0
t = time.perf_counter()
run(paths)
clock["total"] = time.perf_counter() - t
print(json.dumps({k: v / len(paths) for k, v in clock.items()}))
"""


def folder_stages(pictures: list[Path], versions: dict[str, dict], repeats: int, out: Path) -> None:
    """Seconds per picture of a folder in one warm process (after a warm-up picture), stage by stage, each
    version in its own process, interleaved; `mesh_rest` is generate_meshes outside the named stages."""
    runs: dict[str, list[dict]] = {tag: [] for tag in versions}
    for _ in range(repeats):
        for tag, env in versions.items():
            proc = subprocess.run([sys.executable, "-c", STAGES_CHILD, *map(str, pictures), str(out)],
                                  capture_output=True, text=True, env=env, check=True)
            runs[tag].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"   in one warm process, s per picture (median of {repeats} interleaved runs; batch size of the model's config):")
    stages = list(runs[""][0])
    print("   " + " " * 10 + " ".join(f"{k:>14s}" for k in stages))
    for tag, rows in runs.items():
        print(f"   {tag or ' (now)':10s}" + " ".join(f"{median([r[k] for r in rows]):14.3f}" for k in stages))
    if len(runs) > 1:
        before, now = runs[" (before)"], runs[""]
        print("   before / now, median of the per-run ratios: " + ", ".join(
            f"{k} {median([b[k] / max(n[k], 1e-9) for b, n in zip(before, now)]):.2f}x" for k in stages))


if __name__ == "__main__":
    main()
