"""`vitocc compare`: runs side by side per class, with the paper's published numbers on request."""

from __future__ import annotations

from pathlib import Path

import typer

from vitocc.cli.common import console, err_console, split_option


def compare(
    run_dirs: list[Path] = typer.Argument(..., help="Run directories with an evaluation of --split (first = reference)."),
    split: str = split_option("Which evaluation/SPLIT/ to read: train, val or test."),
    paper: bool = typer.Option(False, "--paper", help="Add the Occupancy Networks paper's published rows."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table."),
    csv: bool = typer.Option(False, "--csv", help="Print long-form CSV."),
    plot: Path | None = typer.Option(None, "--plot", help="Also save a bar chart per metric (.png .pdf .svg; needs matplotlib)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --plot file if it exists."),
) -> None:
    """Per-class tables of several runs: best value per class in bold, deltas against the first run."""
    from vitocc.errors import UserError
    from vitocc.evaluation import build_comparison, load_runs, tables

    if markdown and csv:
        raise UserError("--markdown and --csv exclude each other", "pick one output format")
    if plot:  # before anything is printed
        from vitocc.io import check_outputs

        check_outputs([tables.check_plot_path(plot)], overwrite=overwrite)
    table = build_comparison(load_runs(run_dirs, split), with_paper=paper)
    if markdown:
        console.print(tables.to_markdown(table), end="", markup=False, highlight=False, soft_wrap=True)
    elif csv:
        console.print(tables.to_csv_text(table), end="", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(tables.to_rich(table, title=f"split '{split}' (Chamfer-L1 x10 = paper units; deltas vs {table.reference})"))
    if plot:
        err_console.print(f"plot -> {tables.plot(table, plot)}", highlight=False)
