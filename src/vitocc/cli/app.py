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


# Commands register themselves here, one line each, in the order of the workflow.
from vitocc.cli import config_cmd  # noqa: E402

app.command("config")(config_cmd.config)
from vitocc.cli import reconstruct  # noqa: E402

app.command("reconstruct")(reconstruct.reconstruct)
from vitocc.cli import mise  # noqa: E402

app.command("mise")(mise.mise)
from vitocc.cli import download  # noqa: E402

app.command("download")(download.download)
from vitocc.cli import synth  # noqa: E402

app.command("synth")(synth.synth)
from vitocc.cli import build_dataset  # noqa: E402

app.command("build-dataset")(build_dataset.build_dataset)
from vitocc.cli import train  # noqa: E402

app.command("train")(train.train)
from vitocc.cli import evaluate  # noqa: E402

app.command("evaluate")(evaluate.evaluate)
from vitocc.cli import compare  # noqa: E402

app.command("compare")(compare.compare)
