"""Command-line interface: a thin shell over the library."""

from __future__ import annotations

import sys

from vitocc.cli.app import command


def main(argv: list[str] | None = None) -> None:
    """Run the app; user errors become one red line and exit code 2.

    Unexpected exceptions print one line too, with the traceback only under --verbose.
    """
    import typer

    from vitocc.cli import common
    from vitocc.errors import UserError

    args = sys.argv[1:] if argv is None else argv
    verbose = any(a in ("-v", "--verbose") for a in args)
    try:
        code = command().main(args=args, prog_name="vitocc", standalone_mode=False)
    except UserError as exc:
        _fail(str(exc), 2)
    except (typer.Abort, KeyboardInterrupt):
        common.err_console.print("[red]interrupted:[/red] every file already written is complete (written "
                                 "atomically); a rerun of download, synth, build-dataset, train --resume, mise or "
                                 "evaluate continues where this one stopped", highlight=False, soft_wrap=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last resort: one line unless --verbose
        if _is_click_error(exc):  # bad option or argument (typer may vendor click)
            if not exc.format_message():  # a bare `vitocc`: the help is printed, nothing to add
                sys.exit(2)
            ctx = getattr(exc, "ctx", None)
            cmd = ctx.command_path if ctx else "vitocc"
            _fail(f"{exc.format_message()} (see '{cmd} --help')", 2)
        if verbose:
            raise
        _fail(f"{type(exc).__name__}: {exc} (run with --verbose for the traceback)", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    """Print `error: message` as one red line on stderr (message shown verbatim) and exit with `code`."""
    from rich.markup import escape

    from vitocc.cli import common

    common.err_console.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    sys.exit(code)


def _is_click_error(exc: Exception) -> bool:
    """A click usage error, whichever click (the package or typer's vendored copy) raised it."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)
