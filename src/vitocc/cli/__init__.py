"""Command-line interface: a thin shell over the library."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys

from vitocc.cli.app import command

INTERRUPTED = 130  # the shell's code for a process ended by SIGINT (128 + 2)
# Commands whose process ends without the interpreter's teardown once they succeed (see `_end_quickly`):
# the main job, which leaves no thread, child process or temporary file behind when it is done.
QUICK_EXIT_COMMANDS = ("reconstruct",)


def main(argv: list[str] | None = None) -> None:
    """Run the app; every failure becomes one red line on stderr (docs/errors.md).

    Exit codes: 2 for user errors (UserError, bad options), 130 after Ctrl-C, 1 for a failure
    during the work (a file that could not be written, an unexpected error; the traceback only
    under --verbose). Commands exit 1 themselves when some files of a batch failed.
    """
    import typer

    from vitocc import errors
    from vitocc.errors import UserError

    args = sys.argv[1:] if argv is None else argv
    verbose = any(a in ("-v", "--verbose") for a in args)
    _watch_ctrl_c()
    try:
        code = command().main(args=args, prog_name="vitocc", standalone_mode=False)
    except UserError as exc:
        _fail(str(exc), 2)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    except OSError as exc:  # a file that could not be read or written during the work
        if verbose:
            raise
        _fail(_os_error_line(exc), 1)
    except Exception as exc:  # noqa: BLE001 - last resort: one line unless --verbose
        if _is_click_error(exc):  # bad option or argument (typer may vendor click)
            if not exc.format_message():  # a bare `vitocc`: the help is printed, nothing to add
                sys.exit(2)
            ctx = getattr(exc, "ctx", None)
            cmd = ctx.command_path if ctx else "vitocc"
            _fail(f"{exc.format_message().rstrip('.')} (see '{cmd} --help')", 2)
        if verbose:
            raise
        _fail(f"{_first_line(exc)} (unexpected; run with --verbose for the traceback)", 1)
    if code == INTERRUPTED or errors.ctrl_c_seen:  # typer turns Ctrl-C into exit code 130 without a word
        _interrupted()
    code = code if isinstance(code, int) else 0
    if code == 0 and argv is None and _command_name(args) in QUICK_EXIT_COMMANDS:
        _end_quickly()
    sys.exit(code)


def _command_name(args: list[str]) -> str | None:
    """The subcommand of a command line (its first word that is not an option)."""
    return next((a for a in args if not a.startswith("-")), None)


def _end_quickly() -> None:
    """End a finished command's process at once, with exit code 0: flush the output streams and the log
    handlers, then `os._exit`. Python's own teardown frees every module and tensor first, which takes
    0.35 s once torch is loaded (a `python -c "import torch"` process: 1.52 s, of which the import 1.17 s)
    and writes nothing: every file of the command is already complete and closed (written atomically).
    Only for a command line (`main()` without argv), so a caller in Python keeps its interpreter."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe: nothing more can reach it
            stream.flush()
    os._exit(0)


def _watch_ctrl_c() -> None:
    """Record every Ctrl-C (SIGINT) in errors.ctrl_c_seen, and raise KeyboardInterrupt as Python does.

    The record is what tells that a command was interrupted when a library swallowed the
    KeyboardInterrupt: trimesh imports its optional modules under `except BaseException`, so a
    Ctrl-C during that import was lost and the command ended with exit 0. Where SIGINT is ignored
    (a background job) it stays ignored."""
    import threading

    from vitocc import errors

    errors.ctrl_c_seen.clear()
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        def on_sigint(signum, frame):
            errors.ctrl_c_seen.append(True)
            raise KeyboardInterrupt
        signal.signal(signal.SIGINT, on_sigint)


def _interrupted() -> None:
    """The one line after Ctrl-C: what is kept and what resumes; exit 130."""
    from vitocc.cli import common

    common.err_console.print("[red]interrupted:[/red] every file already written is complete (written "
                             "atomically); a rerun of download, synth, build-dataset, train --resume, mise or "
                             "evaluate continues where this one stopped", highlight=False, soft_wrap=True)
    sys.exit(INTERRUPTED)


def _os_error_line(exc: OSError) -> str:
    """'cannot write PATH: reason' (a failed write of vitocc.io), else 'PATH: reason', for an
    operating-system error: no exception class, no errno, no temporary name."""
    from vitocc.io import WriteError

    reason = (exc.strerror or str(exc)).rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    if not exc.filename:
        return reason
    return f"{'cannot write ' if isinstance(exc, WriteError) else ''}{exc.filename}: {reason}"


def _first_line(exc: Exception) -> str:
    """The first line of an exception's message (CUDA's out-of-memory text runs over several)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _fail(message: str, code: int) -> None:
    """Print `error: message` as one red line on stderr (message shown verbatim) and exit with `code`."""
    from rich.markup import escape

    from vitocc.cli import common

    common.err_console.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    sys.exit(code)


def _is_click_error(exc: Exception) -> bool:
    """A click usage error, whichever click (the package or typer's vendored copy) raised it."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)
