"""`vitocc mise`: generate the meshes of every model of a split with a run's model."""

from __future__ import annotations

from pathlib import Path

import typer

from vitocc.cli.common import amp_option, console, gpu_option, lazy_progress, options, split_option
from vitocc.config.schema import GenerationConfig

_GEN = GenerationConfig()


def mise(
    run_dir: Path = typer.Argument(..., help="Run directory (config.yaml, checkpoints/)."),
    split: str = split_option("Split to generate: train, val or test."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", "-c",
        help="Checkpoint to use.", show_default="the run's best.pt, else last.pt"),
    data: Path | None = typer.Option(None, "--data", help="Data set folder.",
                                       show_default="data.path of the run's config"),
    resolution: int | None = typer.Option(None, "--resolution", help="MISE initial resolution.",
                                             show_default=f"generation.resolution0 of the model's config, {_GEN.resolution0}"),
    upsampling: int | None = typer.Option(None, "--upsampling", help="MISE upsampling steps.",
        show_default=f"generation.upsampling_steps of the model's config, {_GEN.upsampling_steps}"),
    threshold: float | None = typer.Option(None, "--threshold",
        help="Occupancy probability of the surface.", show_default="generation.threshold of the run's config"),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Shapes per MISE batch.",
                                             show_default=f"generation.batch_size, {_GEN.batch_size}"),
    points_batch: int | None = typer.Option(None, "--points-batch",
        help="Decoder points per call: bounds memory.", show_default=f"generation.points_batch, {_GEN.points_batch:,}"),
    amp: str | None = amp_option(),
    set_: list[str] = typer.Option([], "--set",
        help="Any other section.key=value override, e.g. generation.vertex_normals=true (repeatable)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Regenerate meshes that already exist."),
    gpu: int | None = gpu_option(),
) -> None:
    """Write RUN_DIR/generation/SPLIT/meshes/<class>/<model>.obj (view 000 as input), inputs/ and stats.json."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from vitocc.config import apply_overrides, with_values
    from vitocc.devices import resolve_device
    from vitocc.generation import generate_split, plan_split
    from vitocc.runs import RunDir, require_run_dir

    require_run_dir(run_dir)  # before the progress bar starts
    plan = plan_split(run_dir, split, checkpoint, data, resolve_device(gpu))
    flags = {"resolution0": resolution, "upsampling_steps": upsampling, "threshold": threshold,
             "batch_size": batch_size, "points_batch": points_batch, "amp": amp}
    gen = with_values(apply_overrides(plan.cfg, set_), generation=flags).generation
    columns = (TextColumn("mise {task.fields[split]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with lazy_progress(*columns, console=console, disable=not options.show_progress, transient=False) as bar:
        tasks: list[int] = []

        def report(done: int, total: int) -> None:
            if not tasks:
                tasks.append(bar.add_task("mise", total=total, split=split, rate=""))
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:.2f} shapes/s" if done and elapsed else ""
            bar.update(tasks[0], completed=done, total=total, rate=rate)

        stats = generate_split(plan, gen, overwrite, progress=report)
    console.print(f"{_summary_line(stats)} -> {RunDir(run_dir).generation(split)}", highlight=False, soft_wrap=True)
    if stats.failed:
        raise typer.Exit(1)


def _summary_line(stats) -> str:
    """One line of a `GenerationStats`: counts, time and queries per shape, watertight and empty meshes."""
    per_shape = f"{stats.seconds_per_shape:.2f} s/shape" if stats.generated else "nothing to do"
    points = (f", {stats.points_queried_per_shape:,.0f} points queried per shape "
              f"({100 * stats.points_queried_per_shape / stats.dense_points:.1f}% of the dense grid)"
              if stats.generated else "")
    return (f"{stats.split}: {stats.generated} generated, {stats.skipped} already there, {len(stats.failed)} failed; "
            f"{per_shape}{points}; {stats.watertight_meshes}/{stats.generated} watertight, {stats.empty_meshes} empty")
