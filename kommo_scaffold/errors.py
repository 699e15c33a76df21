"""Errors the CLI turns into one-line messages and exit codes (no tracebacks)."""

from __future__ import annotations

# The one exit-code convention of every command (documented in docs/cli.md and --help).
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "done"),
    (1, "findings (check), a refusal that changed nothing, or an internal error (a bug: "
        "the message names its log)"),
    (2, "usage error or unreadable input (arguments, answers, data file, path)"),
    (3, "merge conflicts left for you to resolve (add-area, remove-area, update)"),
    (130, "interrupted (Ctrl-C): nothing was changed, unless the message says the "
          "command completed"),
)


class ScaffoldError(Exception):
    """A problem the user can fix, or a refusal; the message says what to do. Exit code 1."""

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


class Interrupted(ScaffoldError):
    """The user pressed Ctrl-C; nothing was changed. Exit code 130 (128 + SIGINT)."""

    exit_code = 130
