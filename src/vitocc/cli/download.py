"""`vitocc download`: fetch a known data set (whole, or only some classes/models), or list them."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from vitocc.cli.common import console, err_console, options, split_list


def download(
    dataset: str | None = typer.Argument(None, metavar="DATASET", help="Data set to fetch (see --list), e.g. shapenet."),
    dest: Path = typer.Option(Path("data"), "--dest", metavar="DIR", help="Folder that receives the archive's root folder."),
    url: str | None = typer.Option(None, "--url", metavar="URL", help="Other location of the zip: http(s):// or file://."),
    categories: str | None = typer.Option(
        None, "--categories", metavar="LIST", help="Only these classes, names or synset ids: chair,table or 03001627,..."),
    max_models: int | None = typer.Option(
        None, "--max-models", min=1, metavar="N", help="At most N models per class, spread over train/val/test."),
    keep_zip: bool = typer.Option(False, "--keep-zip", help="Keep the downloaded zip after extraction."),
    sha256: str | None = typer.Option(None, "--sha256", metavar="HEX", help="Expected sha256 of the whole zip."),
    list_: bool = typer.Option(False, "--list", help="List the known data sets and their sizes, then exit."),
) -> None:
    """Download a data set; resumes after interruptions, fetches only a subset with --categories/--max-models."""
    from vitocc.data.fetch import DATASETS, dataset_info, fetch_dataset
    from vitocc.errors import UserError

    if list_:
        _print_datasets(DATASETS)
        return
    if dataset is None:
        raise UserError("name the data set to download", "e.g. vitocc download shapenet; see vitocc download --list")
    info = dataset_info(dataset)
    with _progress_hooks(options.show_progress) as progress:
        summary = fetch_dataset(info, dest, url=url, categories=split_list(categories), max_models=max_models,
                                keep_zip=keep_zip, sha256=sha256, progress=progress)
    _print_summary(summary)


def _print_datasets(datasets) -> None:
    from rich.table import Table

    from vitocc.data.fetch.download import format_size

    table = Table("name", "size", "description", "url")
    for info in datasets.values():
        table.add_row(info.name, format_size(info.size_bytes), info.description, info.url)
    console.print(table)


def _print_summary(summary) -> None:
    from rich.filesize import decimal

    from vitocc.data.layout import SHAPENET_CLASSES

    classes = ", ".join(f"{SHAPENET_CLASSES.get(s, s)} {s}" for s in summary.classes)
    models = f", {summary.models} models" if summary.models else ""
    console.print(
        f"{summary.root}: {summary.mode} download, {decimal(summary.bytes_fetched)} fetched, "
        f"{summary.files_written} files written, {summary.files_kept} kept, "
        f"{len(summary.classes)} classes ({classes}){models}, {summary.seconds:.1f} s",
        highlight=False, markup=False, soft_wrap=True)
    if summary.zip_path:
        console.print(f"archive kept at {summary.zip_path}", highlight=False, markup=False)


@contextlib.contextmanager
def _progress_hooks(show: bool):
    """The library's progress hooks: no-ops when quiet, else two live bars on stderr,
    bytes (size, rate, ETA) and extracted members (M/N)."""
    from vitocc.data.fetch.download import Progress

    if not show:
        yield Progress()
        return
    from rich.console import Group
    from rich.live import Live
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bars

    bytes_bar = Bars(TextColumn("{task.description:>8}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                     TimeRemainingColumn(), console=err_console)
    members_bar = Bars(TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       console=err_console)
    fetched = bytes_bar.add_task("download", total=0)
    written = members_bar.add_task("extract", total=None)
    live = Live(Group(bytes_bar, members_bar), console=err_console, refresh_per_second=4, transient=True)

    class RichHooks(Progress):
        """Starts the bars at the first event, so an early error stays one line."""

        def bytes_expected(self, n: int) -> None:
            live.start()
            bytes_bar.update(fetched, total=(bytes_bar.tasks[0].total or 0) + n)

        def bytes_advanced(self, n: int) -> None:
            bytes_bar.advance(fetched, n)

        def members_started(self, total: int) -> None:
            live.start()
            members_bar.update(written, total=(members_bar.tasks[0].total or 0) + total)

        def member_done(self) -> None:
            members_bar.advance(written)

    try:
        yield RichHooks()
    finally:
        live.stop()
