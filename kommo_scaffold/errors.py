"""Errors the CLI turns into one-line messages and exit codes (no tracebacks)."""

from __future__ import annotations


class ScaffoldError(Exception):
    """A problem the user can fix; the message says what to do. Exit code 1."""

    exit_code = 1


class UsageError(ScaffoldError):
    """Bad arguments or answers. Exit code 2, like other usage errors."""

    exit_code = 2


class ConflictError(ScaffoldError):
    """An update merged with conflicts the user must resolve. Exit code 3."""

    exit_code = 3

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files
