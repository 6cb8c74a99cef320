"""`vitocc synth`: write the procedural 13-class data set in the real ShapeNet layout."""

from __future__ import annotations

from pathlib import Path

import typer

from vitocc.cli.common import console, err_console, options, split_list


def synth(
    dest: Path = typer.Option(Path("data/synthetic"), "--dest", help="Data set root (created; resumed if it exists)."),
    shapes_per_class: int = typer.Option(200, "--shapes-per-class", min=3,
                                         help="Models per class (at least 3: one each for train, val and test)."),
    views: int = typer.Option(24, "--views", min=1, help="Rendered views per model (img_choy2016/NNN.jpg)."),
    points: int = typer.Option(100_000, "--points", min=1, help="Points in points.npz and in pointcloud.npz."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same files (byte-identical npz)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Worker processes."),
    classes: str | None = typer.Option(None, "--classes", help="Comma-separated class names or synsets.",
                                         show_default="all 13"),
    antialias: int = typer.Option(3, "--antialias", min=1, max=8, help="Supersampling per axis at edges of the renders."),
    preview: Path | None = typer.Option(
        None, "--preview", help="Also write a PNG contact sheet: a row per class, view 000 of its first 20 models."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --preview file if it exists."),
) -> None:
    """Generate procedural airplanes, benches, ..., vessels with exact occupancy, rendered like ShapeNet."""
    from vitocc.data.synth.dataset import generate_dataset, write_preview
    from vitocc.data.writer import Counts
    from vitocc.errors import UserError
    from vitocc.io import check_outputs

    if preview is not None:  # before any shape is made
        if preview.suffix.lower() != ".png":
            raise UserError(f"--preview {preview}: the preview is a .png file")
        check_outputs([preview], overwrite=overwrite)
    counts = Counts(n_points=points, n_surface=points, n_views=views, antialias=antialias)
    report = generate_dataset(dest, shapes_per_class, counts, seed, workers, split_list(classes), options.show_progress)
    console.print(f"{len(report.built)} shapes written, {len(report.skipped)} already there, "
                  f"{len(report.failed)} failed in {report.seconds:.1f} s ({report.shapes_per_second:.2f} shapes/s) -> {dest}",
                  soft_wrap=True, highlight=False)
    if preview is not None:
        write_preview(dest, preview)
        console.print(f"preview: {preview}")
    if report.failed:
        for folder, reason in report.failed:
            err_console.print(f"[red]failed[/red] {folder}: {reason}", markup=True, highlight=False)
        raise typer.Exit(1)
