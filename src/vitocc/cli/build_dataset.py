"""`vitocc build-dataset`: the real data layout from a folder of your own meshes."""

from __future__ import annotations

from pathlib import Path

import typer

from vitocc.cli.common import console, err_console, options


def build_dataset(
    mesh_dir: Path = typer.Argument(..., help="Folder of .obj/.off/.ply/.stl/.glb files (searched recursively)."),
    dest: Path = typer.Option(Path("data/mine"), "--dest", help="Data set folder to write (or resume)."),
    classes_from_folders: bool = typer.Option(
        False, "--classes-from-folders", help="One class per top-level subfolder (else one class named after MESH_DIR)."),
    views: int = typer.Option(24, "--views", min=1, help="Rendered views per model."),
    points: int = typer.Option(100_000, "--points", min=1, help="Points in points.npz and pointcloud.npz per model."),
    split: str = typer.Option("80/5/15", "--split", help="train/val/test shares per class."),
    seed: int = typer.Option(0, "--seed", help="Seed of cameras, samples, splits and fallback colours."),
    workers: int = typer.Option(2, "--workers", min=1, help="Worker processes."),
    up: str = typer.Option("y", "--up", help="The files' up axis: y, z, -y, x ..."),
    front: str = typer.Option("+x", "--front", help="The axis the objects face in the files: +x, -z, +z ..."),
    thicken: float = typer.Option(
        0.0, "--thicken", min=0.0,
        help="Give single-sided sheets this half-thickness (normalised units, e.g. 0.01); 0 leaves them empty."),
    texture_filter: str = typer.Option("bilinear", "--texture-filter", help="Texture lookup: bilinear or nearest."),
) -> None:
    """Write a data set in the Occupancy Networks layout from your own meshes (resumable)."""
    from vitocc.data.build.from_meshes import BuildOptions, parse_split
    from vitocc.data.build.from_meshes import build_dataset as build
    from vitocc.data.writer import Counts
    from vitocc.errors import UserError

    opts = BuildOptions(up=up, front=front, thicken=thicken, split=parse_split(split), seed=seed,
                        classes_from_folders=classes_from_folders, texture_filter=texture_filter)
    result = build(mesh_dir, dest, opts, Counts(n_points=points, n_surface=points, n_views=views),
                   workers=workers, show_progress=options.show_progress)
    for path, reason in result.failed:
        err_console.print(f"[yellow]skipped[/] {path}: {reason}", highlight=False)
    rate = len(result.built) / result.seconds if result.seconds > 0 else 0.0
    console.print(
        f"{len(result.built)} built, {len(result.existing)} already there, {len(result.failed)} skipped "
        f"in {result.seconds:.1f} s ({rate:.2f} models/s); {len(result.classes)} class(es) -> {dest} "
        f"(report: {dest / 'build_report.json'})", highlight=False)
    if result.n_models == 0:
        raise UserError(f"no model could be built from {mesh_dir}", f"see the reasons above and in {dest}/build_report.json")
