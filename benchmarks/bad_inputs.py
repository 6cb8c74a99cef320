"""Every bad input of issue 16 through a vitocc source tree: exit code, message, seconds, and what changed on disk.

Each case runs `python -m vitocc ARGS` (PYTHONPATH=SRC) in a fresh copy of a folder of fixtures
(the example car, pictures that cannot give a mesh, damaged and hostile checkpoints, configs and
zips, an evaluated run) and records the exit code, the output lines (the error lines when there
are any, else the first line), the seconds, and every file added, changed or removed. With
--before, an older tree runs every case too and the table has a before and an after column, e.g.

    git worktree add /tmp/before <commit> && python benchmarks/bad_inputs.py --before /tmp/before/src

Cases that write meshes use the tree's shipped model. Nothing goes to the network: the one URL is a
.invalid host, which fails at name resolution. Run it niced: the model-loading cases take a few seconds each.

    python benchmarks/bad_inputs.py [--src SRC] [--before SRC] [--only 3,7] [--timeout 300]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the fixtures' writers, shared with tests/cli/test_bad_inputs.py
from hostile_inputs import png_header, tree, write_checkpoints, write_mesh_folders, write_untrusted_files  # noqa: E402

ARCHIVE_ESCAPE = Path("/tmp/vitocc_bad_inputs_escape.txt")  # where the absolute-path zip member points
CONFIG = "model:\n  encoder: resnet18\n"  # a run's config.yaml that older trees read too (no newer keys)


@dataclass
class Case:
    """One bad input: the arguments of `vitocc`, and how the process is run (as a user without root's
    rights, interrupted with Ctrl-C after some seconds, or with a file-size limit that fails big writes)."""

    what: str
    args: list[str]
    unprivileged: bool = False
    ctrl_c_after: float | None = None
    max_file_bytes: int | None = None


TINY_SYNTH = ["--classes", "chair", "--views", "1", "--points", "1000", "--shapes-per-class", "3"]
CASES = [
    Case("preview onto the input picture", ["reconstruct", "car.png", "-o", "car.obj", "--preview", "car.png"]),
    Case("-o onto an existing mesh", ["reconstruct", "car.png", "-o", "existing.obj"]),
    Case("the same picture twice", ["reconstruct", "car.png", "car.png", "-o", "out"]),
    Case("a 1x1 picture", ["reconstruct", "one.png", "-o", "one.obj"]),
    Case("an all-white picture", ["reconstruct", "white.png", "-o", "white.obj"]),
    Case("a fully transparent picture", ["reconstruct", "clear.png", "-o", "clear.obj"]),
    Case("an object under 32 px", ["reconstruct", "speck.png", "-o", "speck.obj"]),
    Case("the car cut off by the border, gradient background", ["reconstruct", "cut_gradient.png", "-o", "cg.obj"]),
    Case("the car cut off by the border, plain background", ["reconstruct", "cut_plain.png", "-o", "cp.obj"]),
    Case("split summing to 120", ["build-dataset", "meshes", "--split", "50/60/10", "--dest", "d"]),
    Case("2 shapes per class", ["synth", "--dest", "syn", *TINY_SYNTH[:6], "--shapes-per-class", "2"]),
    Case("unknown categories", ["download", "shapenet", "--categories", "notaclass,xyz", "--dest", "dl"]),
    Case("unknown categories, local zip", ["download", "shapenet", "--url", "file:sn.zip", "--categories",
                                           "notaclass,xyz", "--dest", "dl"]),
    Case("a host that does not resolve", ["download", "shapenet", "--url", "https://no-such-host.invalid/s.zip",
                                          "--dest", "dl"]),
    Case("a server that refuses the connection", ["download", "shapenet", "--url", "http://127.0.0.1:9/s.zip",
                                                  "--dest", "dl"]),
    Case("-o onto a folder", ["reconstruct", "car.png", "-o", "existingdir.obj"]),
    Case("-o into a read-only folder", ["reconstruct", "car.png", "-o", "locked/car.obj"], unprivileged=True),
    Case("-o under a file", ["reconstruct", "car.png", "-o", "car.png/car.obj"]),
    Case("a write that fails midway (file too large)", ["reconstruct", "car.png", "-o", "big/car.obj"],
         max_file_bytes=200_000),
    Case("checkpoint of random bytes", ["reconstruct", "car.png", "-o", "x.obj", "-c", "random.pt"]),
    Case("checkpoint that is a text file", ["reconstruct", "car.png", "-o", "x.obj", "-c", "text.pt"]),
    Case("checkpoint that runs code when unpickled", ["reconstruct", "car.png", "-o", "x.obj", "-c", "pickle.pt"]),
    Case("truncated safetensors, no config", ["reconstruct", "car.png", "-o", "x.obj", "-c",
                                              "noconfig/model.safetensors"]),
    Case("truncated safetensors with its config", ["reconstruct", "car.png", "-o", "x.obj", "-c",
                                                   "trunc/model.safetensors"]),
    Case("safetensors header claiming 40 GB", ["reconstruct", "car.png", "-o", "x.obj", "-c",
                                               "huge/model.safetensors"]),
    Case("compare a run that does not exist", ["compare", "nosuchrun"]),
    Case("evaluate a folder that does not exist", ["evaluate", "nosuchdir"]),
    Case("mise a run that does not exist", ["mise", "nosuchrun"]),
    Case("compare --plot with an unknown format", ["compare", "evaluated", "--plot", "out.xyz"]),
    Case("compare --plot onto an existing file", ["compare", "evaluated", "--plot", "car.png"]),
    Case("mise of a run without checkpoints", ["mise", "nockpt"]),
    Case("evaluate of a run whose data is missing", ["evaluate", "nockpt"]),
    Case("bare vitocc", []),
    Case("Ctrl-C during a folder", ["reconstruct", "folder", "-o", "folder_out"], ctrl_c_after=12.0),
    Case("Ctrl-C during synth with 2 workers", ["synth", "--dest", "syn", "--classes", "chair", "--shapes-per-class",
                                                "300", "--workers", "2"], ctrl_c_after=8.0),
    Case("a 30000x30000 PNG (decompression bomb)", ["reconstruct", "bomb.png", "-o", "bomb.obj"]),
    Case("a YAML config with a Python tag", ["config", "evil.yaml"]),
    Case("a zip member with '..'", ["download", "shapenet", "--url", "file:dots.zip", "--dest", "dl"]),
    Case("a zip member with an absolute path", ["download", "shapenet", "--url", "file:abs.zip", "--dest", "dl"]),
    Case("train --out onto a file", ["train", "--out", "car.png", "--gpu", "-1", "--data", "syn3"]),
    Case("build-dataset --dest onto a file", ["build-dataset", "meshes", "--dest", "car.png"]),
    Case("build-dataset --dest above MESH_DIR", ["build-dataset", "meshes", "--dest", "."]),
    Case("synth --preview onto an existing file", ["synth", "--dest", "syn", "--preview", "car.png", *TINY_SYNTH]),
    Case("synth over a build-dataset folder", ["synth", "--dest", "built", *TINY_SYNTH]),
    Case("--split that is not a split", ["mise", "nockpt", "--split", "xyz"]),
    Case("--gpu -2", ["reconstruct", "car.png", "-o", "g.obj", "--gpu", "-2"]),
    Case("serve --port 99999", ["serve", "--port", "99999"]),
]


def make_fixtures(root: Path) -> None:
    """The files every case may read, in `root`."""
    car = Image.open(REPO / "examples" / "car.png").convert("RGB")
    car.save(root / "car.png")
    (root / "folder").mkdir()
    for k in range(48):
        car.save(root / "folder" / f"car{k:02d}.png")
    _cut_off_cars(np.asarray(car), root)
    Image.new("RGB", (1, 1), (10, 20, 30)).save(root / "one.png")
    Image.new("RGB", (256, 256), (255, 255, 255)).save(root / "white.png")
    Image.new("RGBA", (256, 256), (0, 0, 0, 0)).save(root / "clear.png")
    speck = Image.new("RGB", (256, 256), (255, 255, 255))
    speck.paste((200, 0, 0), (100, 100, 120, 120))
    speck.save(root / "speck.png")
    (root / "bomb.png").write_bytes(png_header(30000, 30000))
    (root / "existing.obj").write_text("o kept\n")
    (root / "existingdir.obj").mkdir()
    (root / "locked").mkdir(mode=0o555)
    write_checkpoints(root, CONFIG, claimed=40_000_000_000)
    write_mesh_folders(root)
    (root / "syn3").mkdir()
    write_untrusted_files(root, ARCHIVE_ESCAPE)
    with zipfile.ZipFile(root / "sn.zip", "w") as archive:  # a good archive, for unknown categories
        for split, model in [("train", "a1"), ("val", "a2"), ("test", "a3")]:
            archive.writestr(f"ShapeNet/03001627/{model}/points.npz", b"x")
            archive.writestr(f"ShapeNet/03001627/{split}.lst", model + "\n")
    for run in ("evaluated", "nockpt"):
        (root / run).mkdir()
        (root / run / "config.yaml").write_text(CONFIG)
    per_class = root / "evaluated" / "evaluation" / "test" / "per_class.csv"
    per_class.parent.mkdir(parents=True)
    per_class.write_text("class_id,class,n_shapes,n_empty,iou,chamfer_l1_x10\n03001627,chair,2,0,0.5,0.3\n,mean,2,0,0.5,0.3\n")


def _cut_off_cars(car: np.ndarray, root: Path) -> None:
    """The example car slid 45% of the frame to the right, off the border: over a gradient and over white."""
    height, width, _ = car.shape
    shift = int(0.45 * width)
    gradient = np.broadcast_to(np.linspace(0, 255, width)[None, :, None], car.shape)
    on_car = (car.min(axis=2) < 240)[..., None]
    for name, background in [("cut_gradient.png", gradient), ("cut_plain.png", np.full(car.shape, 255.0))]:
        picture = np.where(on_car, car, background)
        moved = background.copy()
        moved[:, shift:] = picture[:, :width - shift]
        Image.fromarray(moved.astype(np.uint8)).save(root / name)


def disk_changes(before: dict[str, bytes], after: dict[str, bytes]) -> str:
    """'car.png changed; out/car.obj added', or for more than 3 files '120 added (a, b, c ...)'; or 'nothing'."""
    kinds = [("changed", [p for p in before if p in after and before[p] != after[p]]),
             ("removed", [p for p in before if p not in after]),
             ("added", [p for p in after if p not in before])]
    parts = [f"{', '.join(paths)} {kind}" if len(paths) <= 3 else f"{len(paths)} {kind} ({', '.join(paths[:3])} ...)"
             for kind, paths in kinds if paths]
    return "; ".join(parts) or "nothing"


NOTABLE = ("error", "warning", "interrupted", "traceback")  # the lines a cell shows, when there are any


@dataclass
class Outcome:
    code: int
    lines: list[str]  # the messages
    seconds: float
    disk: str
    other: int = 0  # blank lines, progress bars and help panels around them

    def cell(self) -> str:
        notable = [line for line in self.lines if any(word in line.lower() for word in NOTABLE)]
        shown = (notable or self.lines[:1] or ["(no output)"])[:3]
        text = " / ".join(line if len(line) <= 320 else line[:317] + "..." for line in shown)
        counts = [f"+{len(self.lines) - len(shown)} more lines"] if len(self.lines) > len(shown) else []
        counts += [f"{self.other} blank, progress-bar or help lines"] if self.other else []
        more = f" ({', '.join(counts)})" if counts else ""
        text = text.replace("|", "\\|").replace("`", "'")
        return f"**{self.code}**, {self.seconds:.1f} s: `{text}`{more}; disk: {self.disk}"


def run_case(case: Case, src: Path, fixtures: Path, timeout: float) -> Outcome:
    """Run one case with the vitocc under `src` in a fresh copy of `fixtures`."""
    work = Path(tempfile.mkdtemp(prefix="vitocc-bad-"))
    try:
        shutil.copytree(fixtures, work, dirs_exist_ok=True, symlinks=True)
        (work / "locked").chmod(0o555)
        before = tree(work)
        ARCHIVE_ESCAPE.unlink(missing_ok=True)
        env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "300", "HF_HUB_OFFLINE": "1"}
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if case.unprivileged and \
            os.geteuid() == 0 else []

        def child_setup() -> None:
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job passes SIGINT on ignored
            if case.max_file_bytes:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
                resource.setrlimit(resource.RLIMIT_FSIZE, (case.max_file_bytes, case.max_file_bytes))

        start = time.perf_counter()
        proc = subprocess.Popen([*prefix, sys.executable, "-m", "vitocc", *case.args], cwd=work, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=child_setup,
                                start_new_session=True)  # its own group: a timeout ends its workers too
        if case.ctrl_c_after is not None:
            try:
                proc.wait(case.ctrl_c_after)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGINT)  # to the whole group, workers included, as a terminal does
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            out += f"\n(killed after {timeout:.0f} s)"
        seconds = time.perf_counter() - start
        disk = disk_changes(before, tree(work))
        if ARCHIVE_ESCAPE.exists():
            disk += f"; {ARCHIVE_ESCAPE} written outside"
        lines = [line.strip() for line in out.rstrip("\n").splitlines()]
        messages = [line for line in lines if line and not _decoration(line)]
        return Outcome(proc.returncode, messages, seconds, disk, len(lines) - len(messages))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _decoration(line: str) -> bool:
    """A progress bar or a line of a help panel: not a message."""
    return "━" in line or line.startswith(("│", "╭", "╰"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the vitocc source tree to run (after)")
    parser.add_argument("--before", type=Path, help="an older source tree to run first (before)")
    parser.add_argument("--only", default="", help="comma-separated case numbers (1-based)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a case is killed")
    args = parser.parse_args()
    chosen = [(k, c) for k, c in enumerate(CASES, 1) if not args.only or str(k) in args.only.split(",")]
    trees = ([("before", args.before)] if args.before else []) + [("after", args.src)]
    with tempfile.TemporaryDirectory(prefix="vitocc-fixtures-") as fixtures:
        make_fixtures(Path(fixtures))
        print("| # | case | arguments | " + " | ".join(name for name, _ in trees) + " |")
        print("|---|---|---|" + "---|" * len(trees))
        for k, case in chosen:
            cells = [run_case(case, src.resolve(), Path(fixtures), args.timeout).cell() for _, src in trees]
            shown = " ".join(case.args) or "(none)"
            if case.unprivileged:
                shown += " (as a user without root's rights)"
            if case.ctrl_c_after is not None:
                shown += f" (Ctrl-C after {case.ctrl_c_after:.0f} s)"
            if case.max_file_bytes:
                shown += f" (files limited to {case.max_file_bytes // 1000} kB)"
            print(f"| {k} | {case.what} | `{shown}` | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
