"""`vitocc reconstruct`: pictures to closed meshes with a trained (or the shipped) model."""

from __future__ import annotations

from pathlib import Path

import typer

from vitocc.cli.common import amp_option, console, err_console, gpu_option, shipped_setting
from vitocc.config.schema import GenerationConfig

_GEN = GenerationConfig()


def reconstruct(
    inputs: list[Path] = typer.Argument(..., help="Image files and/or folders of images."),
    output: Path = typer.Option(..., "--output", "-o",
                                help="Mesh file (.obj .ply .off .stl .glb) for one image, or a folder."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", "-c",
                                             help="Checkpoint .pt, run directory or .safetensors.",
                                             show_default="the model shipped in the package"),
    preview: Path | None = typer.Option(None, "--preview", help="Write a PNG: each input next to 3 renders of its mesh."),
    resolution: int | None = typer.Option(None, "--resolution", help="MISE initial resolution.",
                                             show_default=f"generation.resolution0 of the model's config, {_GEN.resolution0}"),
    upsampling: int | None = typer.Option(None, "--upsampling", help="MISE upsampling steps.",
        show_default=f"generation.upsampling_steps of the model's config, {_GEN.upsampling_steps}"),
    threshold: float | None = typer.Option(None, "--threshold",
        help="Occupancy probability of the surface.",
        show_default=f"generation.threshold of the model's config, {shipped_setting('generation', 'threshold')} "
                     "for the shipped model"),
    mesh_format: str = typer.Option("obj", "--format", help="Mesh format when -o is a folder: obj ply off stl glb."),
    amp: str | None = amp_option(),
    no_crop: bool = typer.Option(False, "--no-crop",
        help="Keep the whole frame (padded to a square) instead of cropping around the object."),
    no_colour: bool = typer.Option(False, "--no-colour", help="Grey meshes: no vertex colours from the picture."),
    mask: Path | None = typer.Option(None, "--mask", metavar="IMAGE",
        help="Image of the object's mask (white or opaque = object) for the one input picture; replaces the automatic cut."),
    keep_background: bool = typer.Option(False, "--keep-background",
        help="No automatic cut of a background that is not plain white (the model then shapes the background too)."),
    gpu: int | None = gpu_option(),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace meshes and the preview if they exist."),
) -> None:
    """Reconstruct one closed mesh per picture (one line per image: time, size, watertight).

    Bad files are reported one line each and skipped (exit 1 if some failed, 2 if all did). Outputs are
    checked before the model loads: none may be an input; existing files are kept unless --overwrite.
    """
    from vitocc.devices import resolve_device
    from vitocc.generation.reconstruct import iter_reconstructions

    paths, targets = _plan_outputs(inputs, output, mesh_format, preview, mask, overwrite)
    device = resolve_device(gpu)
    good = _read_pictures(paths, crop=not no_crop, cut_background=not keep_background, mask=mask)
    rows = []
    if good:
        model, gen = _model_and_settings(checkpoint, device, resolution0=resolution, upsampling_steps=upsampling,
                                         threshold=threshold, amp=amp)
        # The pictures are prepared already (cropped or not): no second crop.
        results = iter_reconstructions([picture for _, picture in good], model, gen, device, crop=False,
                                       colour=not no_colour, cut_background=False)
        rows = _write_meshes([path for path, _ in good], results, targets)
    if preview is not None and rows:
        from vitocc.generation.preview import write_preview

        write_preview(preview, rows)
        console.print(f"preview: {preview}", highlight=False, soft_wrap=True)
    failures = len(paths) - len(good)
    if failures:  # 2 when nothing could be made (a user error), 1 when part of a batch failed
        if len(paths) > 1:  # one picture's own line says it all
            err_console.print(f"[red]{failures} of {len(paths)} file(s) failed[/red]")
        raise typer.Exit(1 if good else 2)


def _plan_outputs(inputs: list[Path], output: Path, mesh_format: str, preview: Path | None, mask: Path | None,
                  overwrite: bool) -> tuple[list[Path], dict[Path, Path]]:
    """The pictures (each once) and where each mesh goes, after checking every output path
    (none is an input; existing files need --overwrite) before anything is read or loaded."""
    from vitocc.errors import UserError
    from vitocc.generation import MESH_FORMATS
    from vitocc.generation.images import find_images
    from vitocc.io import check_outputs

    paths = list({p.resolve(): p for p in find_images(inputs)}.values())  # a picture given twice is made once
    if mask is not None and len(paths) != 1:
        raise UserError(f"--mask {mask} is for one picture but {len(paths)} were given")
    targets = _output_paths(paths, output, f".{mesh_format.lower().lstrip('.')}", MESH_FORMATS)
    if preview is not None and preview.suffix.lower() != ".png":
        raise UserError(f"--preview {preview}: the preview is a .png file")
    check_outputs([*targets.values(), *([preview] if preview else [])], [*paths, *([mask] if mask else [])], overwrite)
    return paths, targets


def _model_and_settings(checkpoint: Path | None, device, **flags):
    """The model (the shipped one for None) and its generation settings with the flags that were given."""
    from vitocc.config import with_values
    from vitocc.models import load_model

    model, cfg = load_model(checkpoint, device)
    return model, with_values(cfg, generation=flags).generation


def _read_pictures(paths: list[Path], **prepare) -> list[tuple[Path, object]]:
    """(path, prepared picture) of each readable picture; each bad one is reported in one line
    (before the model loads, so a bad picture is named at once)."""
    from rich.markup import escape

    from vitocc.errors import UserError
    from vitocc.generation import load_image

    good = []
    for path in paths:
        try:
            good.append((path, load_image(path, **prepare)))
        except UserError as exc:
            err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return good


def _write_meshes(paths: list[Path], results, targets: dict[Path, Path]) -> list[tuple[object, object]]:
    """Save each mesh where `targets` says as soon as `results` (an iterator of (mesh, info)) gives it, and
    print its line; returns the (picture, mesh) rows of a preview."""
    from vitocc.generation import save_mesh

    rows = []
    for path, (mesh, info) in zip(paths, results):
        save_mesh(mesh, targets[path])
        rows.append((info.picture, mesh))
        console.print(f"{path} -> {targets[path]}: {info.seconds:.2f} s, {info.vertices} vertices, "
                      f"{info.faces} faces, watertight {'yes' if info.watertight else 'no'}"
                      + ("" if info.faces else " (empty: nothing above the threshold)"), highlight=False, soft_wrap=True)
    return rows


def _output_paths(paths: list[Path], output: Path, suffix: str, formats: tuple[str, ...]) -> dict[Path, Path]:
    """Where each input's mesh goes: `output` itself for one input with a mesh suffix, else output/<stem><suffix>."""
    from vitocc.errors import UserError

    if suffix not in formats:
        raise UserError(f"--format {suffix[1:]}: unknown mesh format", f"use one of {' '.join(formats)}")
    if output.suffix:
        if output.suffix.lower() not in formats:
            raise UserError(f"-o {output}: unknown mesh format '{output.suffix}'",
                            f"use one of {' '.join(formats)}, or a folder")
        if len(paths) != 1:
            raise UserError(f"-o {output} is one file but {len(paths)} images were given", "give a folder to -o")
        return {paths[0]: output}
    targets, used = {}, set()
    for path in paths:
        name, k = path.stem, 1
        while name in used:  # same file name in two input folders
            name, k = f"{path.stem}_{k}", k + 1
        used.add(name)
        targets[path] = output / f"{name}{suffix}"
    return targets
