"""Console entry points: quiet on Ctrl-C from the first moment.

The signal handlers are set before the CLI (typer, click) is imported, so an interrupt while
Python is still loading the command ends with one line, never a traceback. Commands install
their own handlers (kommo_scaffold.interrupt) while they run.
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Any


def _early_exit(signum: int, _frame: FrameType | None) -> None:
    # os.write: no Python-level buffering to break while we are exiting.
    os.write(2, b"error: interrupted; nothing was changed\n")
    os._exit(128 + signum)


_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))


def _guard() -> dict[int, Any]:
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    for signum in _SIGNALS:
        signal.signal(signum, _early_exit)
    return previous


def _release(previous: dict[int, Any]) -> None:
    """Back to Python's behaviour: Ctrl-C raises KeyboardInterrupt, which the CLI reports."""
    for signum, handler in previous.items():
        signal.signal(signum, handler)


_previous: dict[int, Any] = {}


def release_early_guard() -> None:
    """Called by the CLI when a command starts: from here on its own handling applies.

    Until then (imports, argument parsing) an interrupt ends the process with one line.
    """
    if _previous:
        _release(_previous)
        _previous.clear()


def main() -> None:
    _previous.update(_guard())
    from kommo_scaffold.cli import main as cli_main

    cli_main()


def new_main() -> None:
    _previous.update(_guard())
    from kommo_scaffold.cli import new_main as cli_new_main

    cli_new_main()


if __name__ == "__main__":
    main()
