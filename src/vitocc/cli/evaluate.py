"""`vitocc evaluate`: the paper's metrics for a run's generated meshes, one table per class."""

from __future__ import annotations

from pathlib import Path

import typer

from vitocc.cli.common import console, err_console, gpu_option, lazy_progress, options, split_list, split_option


def evaluate(
    run_dir: Path = typer.Argument(..., help="Run directory (config.yaml, checkpoints/, generation/)."),
    split: str = split_option("Data set split to evaluate: train, val or test."),
    data: Path | None = typer.Option(None, "--data", help="Data set folder.",
                                      show_default="data.path of the run's config"),
    workers: int | None = typer.Option(None, "--workers", "-j", help="Worker processes.",
                                          show_default="test.num_workers of the run's config"),
    fscore: str | None = typer.Option(None, "--fscore", help="F-score thresholds, e.g. 0.01,0.02 (unit-cube distance).",
                                        show_default="test.fscore_thresholds of the run's config"),
    inside: str = typer.Option("ray", "--inside", help="Inside test for IoU: ray (parity, closed meshes) or winding."),
    gpu: int | None = gpu_option(),
) -> None:
    """Evaluate RUN_DIR/generation/SPLIT/ meshes (generating missing ones on --gpu) with the paper's protocol."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from vitocc.errors import UserError
    from vitocc.evaluation import build_comparison, evaluate_run
    from vitocc.evaluation.tables import to_rich
    from vitocc.runs import require_run_dir

    require_run_dir(run_dir)  # before the progress display starts
    device = None  # without --gpu: resolved (importing torch) only if meshes must be generated
    if gpu is not None:
        from vitocc.devices import resolve_device

        device = resolve_device(gpu)
    try:
        thresholds = [float(t) for t in split_list(fscore)] or None
    except ValueError:
        raise UserError(f"--fscore takes comma-separated numbers, got '{fscore}'", "e.g. --fscore 0.01,0.02") from None
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with lazy_progress(*columns, console=err_console, disable=not options.show_progress, transient=True) as bar:
        tasks: dict[str, int] = {}

        def follow(name: str):
            def update(done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total)
                bar.update(tasks[name], completed=done, total=total)
            return update

        result = evaluate_run(run_dir, split, data, workers, thresholds, inside, device=device,
                              progress=follow("evaluate"), generation_progress=follow("generate"))
    table = build_comparison([(split, result.per_class)])
    console.print(to_rich(table, title=f"{run_dir}: split '{split}' (Chamfer-L1 x10 = paper units; mean over classes)"))
    err_console.print(f"{len(result.per_shape)} shapes ({result.cached} cached) -> {result.out_dir}", highlight=False)
