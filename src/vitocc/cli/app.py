"""The `vitocc` Typer app: global options and the command set.

Command modules import nothing heavy at module level (torch, timm, trimesh are imported
inside the command functions) so that `vitocc --help` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from vitocc import __version__
from vitocc.cli import common

app = typer.Typer(
    name="vitocc",
    help="Single-image 3D reconstruction with Occupancy Networks and Vision Transformers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vitocc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging and full tracebacks."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings, errors and results."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Single-image 3D reconstruction with Occupancy Networks and Vision Transformers."""
    # Idle OpenMP threads sleep instead of spinning: spinning made the decoder 2-3x and training
    # steps 3x slower on a busy CPU (docs/performance.md). Read when torch loads, which every
    # command does after this callback, and inherited by worker processes.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    common.options.verbose = verbose
    common.options.quiet = quiet and not verbose
    common.setup_logging(verbose, common.options.quiet)


# The commands, in the order of the workflow.
from vitocc.cli import (  # noqa: E402
    build_dataset,
    compare,
    config_cmd,
    download,
    evaluate,
    mise,
    reconstruct,
    serve,
    synth,
    train,
)

app.command("download")(download.download)
app.command("synth")(synth.synth)
app.command("build-dataset")(build_dataset.build_dataset)
app.command("train")(train.train)
app.command("reconstruct")(reconstruct.reconstruct)
app.command("mise")(mise.mise)
app.command("evaluate")(evaluate.evaluate)
app.command("compare")(compare.compare)
app.command("serve")(serve.serve)
app.command("config")(config_cmd.config)


# Placeholders in --help: upper-case names that say what goes there; flags take none.
_METAVARS = {"inputs": "IMAGE_OR_DIR", "output": "OUT", "dest": "DIR", "data": "DIR", "set_": "KEY=VALUE",
             "checkpoint": "CKPT", "config": "PRESET|FILE", "gpu": "K", "split": "SPLIT", "mesh_format": "FORMAT",
             "run_dir": "RUN_DIR", "run_dirs": "RUN_DIR", "mesh_dir": "MESH_DIR", "dataset": "DATASET",
             "source": "PRESET|FILE", "preview": "PNG", "plot": "PNG|PDF|SVG", "up": "AXIS", "front": "AXIS",
             "texture_filter": "FILTER", "inside": "TEST", "max_time": "SECONDS",
             "threshold": "P", "host": "HOST", "max_upload_mb": "MB", "classes": "LIST", "categories": "LIST", "fscore": "LIST"}
_TYPE_METAVARS = {int: "N", float: "X", Path: "PATH"}


def command():
    """The click command of the app, with its help normalised to one style: an upper-case placeholder for
    every value (see _METAVARS; typer would show `<bool>`, `<int range>`, `<list[Path]>` type labels), none
    on flags, arguments in the usage line as NAME (required) or [NAME] (optional), and every default as
    `[default: ...]` (typer puts descriptive ones in parentheses)."""
    cmd = typer.main.get_command(app)
    for sub in [cmd, *getattr(cmd, "commands", {}).values()]:
        sub.get_help_option = _flag_help_option(sub.get_help_option)
        for param in sub.params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
            elif param.metavar is None:
                by_type = _TYPE_METAVARS.get(getattr(getattr(param, "type_descriptor", None), "annotation", None))
                param.metavar = _METAVARS.get(param.name) or by_type or param.name.upper()
            if param.param_type_name == "argument":  # its upper-case name stands in the first column
                param.display_type_rich = lambda ctx: None
                param.get_usage_pieces = lambda ctx, p=param: [_usage_name(p)]
            if isinstance(param.show_default, str):
                param._get_default_string = lambda p=param, **kw: p.show_default
    return cmd


def _usage_name(argument) -> str:
    """An argument in the usage line: RUN_DIR when required, [DATASET] when not, ... when it takes several."""
    name = argument.metavar if argument.required else f"[{argument.metavar}]"
    return name + ("..." if argument.nargs != 1 else "")


def _flag_help_option(make):
    """click makes --help when asked; this makes it without a placeholder, like every other flag."""
    def get_help_option(ctx):
        option = make(ctx)
        if option is not None:
            option.metavar = ""
        return option
    return get_help_option
