"""Errors the user can fix (the CLI prints them as one line and exits with code 2), and the record of Ctrl-C."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (path, option, config, data) and how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


# One entry per Ctrl-C the CLI's handler saw, even one a library swallowed (trimesh imports its optional
# modules under `except BaseException`): long loops check it, and the CLI reports an interrupted command.
ctrl_c_seen: list[bool] = []


def stop_if_interrupted() -> None:
    """Raise KeyboardInterrupt when a Ctrl-C was seen, for a loop whose last interrupt may have been swallowed."""
    if ctrl_c_seen:
        raise KeyboardInterrupt
