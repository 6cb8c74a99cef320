"""`vitocc train`: train or resume an occupancy network in a run directory."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from vitocc.cli.common import console, err_console, gpu_option, options


def _default_out(config: str | None) -> Path:
    """runs/<preset name or config file stem>."""
    return Path("runs") / (Path(config).stem if config else "default")


def train(
    config: str | None = typer.Option(
        None, "--config", "-c",
        help="Preset name or YAML file.", show_default="the run's config.yaml with --resume, else 'default'"),
    data: Path | None = typer.Option(None, "--data", help="Data set folder (sets data.path)."),
    out: Path | None = typer.Option(None, "--out", "-o", metavar="RUN_DIR", help="Run directory.",
                                      show_default="runs/<config name>"),
    gpu: int | None = gpu_option(),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: section.key=value (repeatable)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from checkpoints/last.pt."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after this many steps in total."),
    max_epochs: int | None = typer.Option(None, "--max-epochs", help="Stop after this many epochs in total."),
    max_time: float | None = typer.Option(None, "--max-time", help="Stop after this many seconds of this session."),
) -> None:
    """Train an occupancy network (also under `torchrun --nproc_per_node=K` for data-parallel training)."""

    from vitocc.config import load_config, with_values
    from vitocc.devices import resolve_device
    from vitocc.errors import UserError
    from vitocc.runs import RunDir
    from vitocc.training import train as run_training

    out = out or _default_out(config)
    if out.exists() and not out.is_dir():  # before the data set is read
        raise UserError(f"--out {out} is a file, not a run directory", "choose another --out")
    source = config
    if source is None and resume and RunDir(out).config.is_file():
        source = str(RunDir(out).config)
    cfg = with_values(load_config(source or "default", set_), data={"path": data and str(data)},
                      training={"max_steps": max_steps, "max_epochs": max_epochs, "max_time": max_time})
    device = resolve_device(gpu)
    result = run_training(cfg, out, device, resume=resume, progress=options.show_progress, console=err_console)
    if int(os.environ.get("RANK", "0")) != 0:
        return  # under torchrun, rank 0 reports
    best = f"{result.best_iou:.4f}" if result.best_iou >= 0 else "-"
    console.print(f"{result.stop_reason}: step {result.step}, epoch {result.epoch}, best val IoU {best}; "
                  f"run directory {result.run_dir}", highlight=False)
