"""Running one command for the CLI: its signal handling, and every expected failure turned
into a one-line message and the exit code docs/cli.md documents (errors.EXIT_CODES).

Any other exception is a bug in kommo-scaffold: one line says so and names a log file (in
kommo's cache folder, else a temporary file) that holds the traceback to report."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer

from kommo_scaffold.errors import ConflictError, ScaffoldError

T = TypeVar("T")


def _fail(message: str, code: int) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def run(action: Callable[[], T]) -> T:
    """Call ``action``; turn expected failures into a one-line message and an exit code."""
    from kommo_scaffold.cli import entry
    from kommo_scaffold.plumbing import interrupt

    try:
        # Our handlers for the whole command, its report included: an interrupt while the
        # summary prints still says whether the project changed.
        with interrupt.redelivered(), interrupt.handled():
            entry.command_started()
            result = action()
            interrupt.pause("command-reporting")
        interrupt.pause("command-returned")
        return result
    except KeyboardInterrupt as error:
        _interrupted(error)
    except Exception as error:
        # An interrupt that library code turned into another error, or during whose handling
        # a clean-up failed (a temporary folder a child process still wrote into): the
        # interrupt is what happened, and the message says so.
        cause = interrupt.raised() or _interrupt_behind(error)
        if cause is not None:
            _interrupted(cause)
        _report(error)


def _report(error: Exception) -> NoReturn:
    if isinstance(error, ConflictError):
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        for name in error.files:
            typer.echo(f"  conflict: {name}", err=True)
        from kommo_scaffold.scaffold.update import UNDO_COMMAND

        typer.echo(f"(or undo all of it, in the project folder: {UNDO_COMMAND})", err=True)
        raise typer.Exit(error.exit_code) from None
    if isinstance(error, ScaffoldError):
        _fail(str(error), error.exit_code)
    if isinstance(error, OSError):  # a safety net: library code reports these itself
        _fail(f"{error.filename or 'a file'}: {error.strerror or error}", 1)
    if isinstance(error, RecursionError):
        _fail("a folder is nested too deeply to handle", 1)
    _fail(bug_message(error), 1)


def bug_message(error: BaseException) -> str:
    """The one line for an exception no code expected; its traceback goes to a log."""
    return (f"internal error (a bug in kommo-scaffold): {type(error).__name__}: "
            f"{_one_line(error)}; details in {_bug_log(error)}; please report it")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "(no message)"
    return text if len(text) <= 200 else text[:197] + "..."


def _bug_log(error: BaseException) -> str:
    """Write the traceback (with the version and the command line) to a new log file."""
    import datetime
    import os
    import sys
    import tempfile
    import traceback

    from kommo_scaffold.engine import cachedir, store

    try:
        version = store.installed_version()
    except Exception:  # the report must not fail on the way
        version = "unknown"
    text = "".join([f"kommo-scaffold {version}, Python {sys.version.split()[0]}\n",
                    f"command: {' '.join(sys.argv)}\n\n",
                    *traceback.format_exception(error)])
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    prefix = f"error-{stamp}-"
    for folder in (cachedir.private_folder("logs"), None):
        try:
            handle, path = tempfile.mkstemp(prefix=prefix, suffix=".log",
                                            dir=None if folder is None else str(folder))
            with os.fdopen(handle, "w", encoding="utf-8", errors="replace") as log:
                log.write(text)
            return path
        except OSError:
            continue
    return "(no log: no writable folder)"


def _interrupted(error: KeyboardInterrupt) -> NoReturn:
    signum = getattr(error, "signum", 2)
    _fail(getattr(error, "message", "interrupted; nothing was changed"), 128 + signum)


def _interrupt_behind(error: BaseException) -> KeyboardInterrupt | None:
    """The interrupt during whose handling ``error`` was raised (a library's clean-up, such
    as a temporary folder that could not be removed), if any."""
    seen: set[int] = set()
    context = error.__context__
    while context is not None and id(context) not in seen:
        if isinstance(context, KeyboardInterrupt):
            return context
        seen.add(id(context))
        context = context.__context__
    return None
