"""Console entry points: quiet on Ctrl-C from the first moment to the last.

The signal handlers are set before the CLI (typer, click) is imported, so an interrupt while
Python is still loading the command ends with one line, never a traceback. A command installs
its own handlers (kommo_scaffold.plumbing.interrupt) while it runs; once it has started, a
signal that reaches the guard again (the command has returned, the process is exiting) is
ignored: the command's message and exit status already tell what happened.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))


class _Phase:
    command_started = False


def _early_exit(signum: int, _frame: FrameType | None) -> None:
    if _Phase.command_started:
        return
    # os.write: no Python-level buffering to break while we are exiting.
    os.write(2, b"error: interrupted; nothing was changed\n")
    os._exit(128 + signum)


def command_started() -> None:
    """Called by the CLI inside the command's own signal handling."""
    _Phase.command_started = True


def _standard_streams() -> None:
    """A standard stream that was closed at start-up (cron and some service managers start
    jobs with stdin closed) becomes /dev/null, as if started with ``</dev/null``.

    Python sets ``sys.stdin`` (or stdout, stderr) to None then, and the next file opened
    would take the free descriptor: a git child process would read it as its stdin.
    """
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        if getattr(sys, name) is not None:
            continue
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        setattr(sys, name, open(fd, "r" if fd == 0 else "w",  # noqa: SIM115 - for good
                                encoding="utf-8", closefd=False))


def _guarded(entry_point: str) -> None:
    for signum in _SIGNALS:
        signal.signal(signum, _early_exit)
    _standard_streams()
    from kommo_scaffold.check.js import worker

    if entry_point == "main":  # `kommo-new check` names a widget, not the command
        worker.start_for(sys.argv)
    try:
        from kommo_scaffold.cli import app

        getattr(app, entry_point)()
    except Exception as error:  # outside a command's own reporting (cli.run): still a bug
        from kommo_scaffold.cli import run

        print(f"error: {run.bug_message(error)}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        worker.discard()
        # While the interpreter shuts down Python resets its own handlers to the system
        # default, which would end the process silently with a signal status; an ignored
        # signal stays ignored.
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


def main() -> None:
    _guarded("main")


def new_main() -> None:
    _guarded("new_main")


if __name__ == "__main__":
    main()
