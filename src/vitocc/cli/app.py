"""The `vitocc` Typer app: global options and the command set.

Command modules import nothing heavy at module level (torch, timm, trimesh are imported
inside the command functions) so that `vitocc --help` stays fast.
"""

from __future__ import annotations

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
app.command("config")(config_cmd.config)
