"""Errors the user can fix; the CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (path, option, config, data) and how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message
