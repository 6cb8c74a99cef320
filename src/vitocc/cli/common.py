"""What every command shares: the consoles, the global verbosity and option parsing helpers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rich.console import Console

console = Console()  # results: tables, summaries
err_console = Console(stderr=True)  # errors, warnings, progress


@dataclass
class GlobalOptions:
    """Set by the top-level callback from -v/--verbose and -q/--quiet."""

    verbose: bool = False
    quiet: bool = False

    @property
    def show_progress(self) -> bool:
        return not self.quiet


options = GlobalOptions()


def shipped_setting(section: str, key: str) -> str:
    """A setting of the shipped model's config.yaml, for help texts ('-' without a shipped model)."""
    import yaml

    from vitocc.runs import CONFIG_FILE, shipped_model_dir

    path = shipped_model_dir() / CONFIG_FILE
    try:
        return str(yaml.safe_load(path.read_text())[section][key])
    except (OSError, KeyError, TypeError):
        return "-"


def setup_logging(verbose: bool, quiet: bool) -> None:
    """Route the library's `logging` records through rich on stderr."""
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = RichHandler(console=err_console, show_time=False, show_path=verbose, markup=False)
    root = logging.getLogger("vitocc")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def gpu_option():
    """`--gpu K` of every command that runs a model: one meaning (devices.resolve_device), one help text."""
    import typer

    return typer.Option(None, "--gpu", min=-1, help="CUDA device index K, or -1 for the CPU.",
                        show_default="cuda:0 if a GPU is visible, else the CPU")


def split_option(help: str):
    """`--split` of mise, evaluate and compare: one of the data layout's splits, checked when the flags are read."""
    import typer

    def check(value: str) -> str:
        from vitocc.data.layout import SPLITS

        if value not in SPLITS:
            raise typer.BadParameter(f"'{value}' is not a split (use {', '.join(SPLITS)})")
        return value

    return typer.Option("test", "--split", help=help, callback=check)


def amp_option():
    """`--amp` of the commands that generate meshes: the decoder's precision (generation.amp)."""
    import typer

    return typer.Option(None, "--amp", help="Decoder precision: auto (bf16/fp16 on CUDA, fp32 on the CPU), bf16 "
                        "(2x faster on AVX512-BF16 CPUs), fp16, off.", show_default="generation.amp of the model's config, auto")


def split_list(text: str | None) -> list[str]:
    """`"chair, table"` -> `["chair", "table"]`; None or "" -> []."""
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def lazy_progress(*columns, **kwargs):
    """A rich Progress that appears with its first task, so that an error raised before any work
    prints no empty bar and no blank line."""
    from rich.progress import Progress

    class LazyProgress(Progress):
        def __enter__(self) -> LazyProgress:
            return self

        def __exit__(self, *exc) -> None:
            if self.live.is_started:
                self.stop()

        def add_task(self, *args, **task_kwargs):
            if not self.live.is_started:
                self.start()
            return super().add_task(*args, **task_kwargs)

    return LazyProgress(*columns, **kwargs)
