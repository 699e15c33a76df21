"""Ctrl-C, SIGTERM and SIGHUP: stop cleanly, and say whether the project changed.

Inside ``handled()`` the first of these signals raises ``Interrupted`` (a KeyboardInterrupt),
so every ``finally`` and context manager runs (temporary folders go, nothing is left
half-written); later signals are remembered, not raised, so a second Ctrl-C cannot break the
clean-up. Inside ``critical()`` (the short step that writes the result into the project)
signals are held until the step is complete, so the project is either fully as before or
fully as after. The step calls ``changed()`` once the result is in place; from then on an
interrupt says the command completed, so the message always tells which of the two it is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))
# Tests set this to "name" or "name:seconds": the command prints "kommo-pause: name" on
# stderr at that point and sleeps, so a signal can be sent at a known moment.
PAUSE_ENV = "KOMMO_SCAFFOLD_TEST_PAUSE"


NOTHING_CHANGED = "interrupted; nothing was changed"
COMPLETED = "interrupted after the changes were written: the command completed (see git status)"


class Interrupted(KeyboardInterrupt):
    """A signal stopped the command; ``message`` says what state the project is in."""

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message)
        self.signum = signum
        self.message = message or NOTHING_CHANGED

    def __str__(self) -> str:
        return self.message


class _State:
    def __init__(self) -> None:
        self.depth = 0
        self.critical = 0
        self.raised = False
        self.pending: int | None = None
        self.changed = False
        self.last: Interrupted | None = None


_state = _State()


def changed() -> None:
    """The command's result is in place: an interrupt from here on reports it completed."""
    _state.changed = True


def _interrupted(signum: int) -> Interrupted:
    _state.raised = True
    _state.last = Interrupted(signum, COMPLETED if _state.changed else NOTHING_CHANGED)
    return _state.last


def raised() -> Interrupted | None:
    """The interrupt raised in the last command, if one was.

    Library code may catch it and raise something else instead: pydantic-core, building a
    validator while copier is imported, reports an interrupt inside its isinstance() probe
    as a SchemaError. The command then ends with that error, but the interrupt is what
    happened.
    """
    return _state.last if _state.raised else None


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _state.raised or _state.critical:
        _state.pending = _state.pending or signum
        return
    raise _interrupted(signum)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into ``Interrupted`` for the duration of a command."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    if _state.depth:
        _state.depth += 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    _state.depth, _state.raised, _state.pending, _state.changed = 1, False, None, False
    _state.last = None
    for signum in SIGNALS:
        signal.signal(signum, _handler)
    try:
        yield
    finally:
        # Still ours while the clean-up above ran; restore only now.
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state.depth = 0


@contextlib.contextmanager
def redelivered() -> Iterator[None]:
    """An interrupt that a C extension swallowed is sent again.

    Where native code calls back into Python (pydantic's validators while copier loads),
    an exception raised by a signal handler cannot propagate: CPython prints it as
    "Exception ignored in ..." and the Ctrl-C is lost. Here such an interrupt is not printed
    but re-sent a moment later, from a helper thread, so it arrives in plain Python code.
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        error = unraisable.exc_value
        if not isinstance(error, KeyboardInterrupt):
            previous(unraisable)
            return
        if isinstance(error, Interrupted):
            _state.raised = False  # it never reached the command: the next one must raise
        again = threading.Timer(0.05, os.kill, (os.getpid(), getattr(error, "signum",
                                                                   signal.SIGINT)))
        again.daemon = True
        again.start()

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Hold signals while the block runs; a signal that arrived raises right after it."""
    _state.critical += 1
    try:
        yield
    finally:
        _state.critical -= 1
    if not _state.critical and _state.pending is not None and not _state.raised:
        signum, _state.pending = _state.pending, None
        raise _interrupted(signum)


@contextlib.contextmanager
def temporary_folder(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A new empty folder, removed with all it holds on any exit.

    ``tempfile.mkdtemp`` (and ``TemporaryDirectory``) can be interrupted after the folder
    exists and before the caller owns its removal: a signal handler runs at the next
    bytecode after ``mkdir`` returns. Here signals are held from creating the folder until
    it is recorded, and while it is removed.
    """
    import shutil
    import tempfile

    folder: Path | None = None
    try:
        with critical():
            folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        yield folder
    finally:
        if folder is not None:
            with critical():
                shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def temporary_file(parent: Path, prefix: str, suffix: str = ".tmp") -> Iterator[Path]:
    """A new empty file in ``parent`` (to be renamed over its target), removed on any exit
    unless it was renamed; created and recorded with signals held, as above."""
    import tempfile

    file: Path | None = None
    try:
        with critical():
            handle, name = tempfile.mkstemp(dir=parent, prefix=prefix, suffix=suffix)
            os.close(handle)
            file = Path(name)
        yield file
    finally:
        if file is not None:
            file.unlink(missing_ok=True)


_paused: set[str] = set()


def pause(point: str) -> None:
    """Test hook: stop at a named point when PAUSE_ENV asks for it (see above)."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted:
        return
    name, _, seconds = wanted.partition(":")
    if name != point or point in _paused:
        return
    _paused.add(point)  # once per run, even where the point is passed for every file
    import time

    print(f"kommo-pause: {point}", file=sys.stderr, flush=True)
    # A signal held by critical() ends the pause too (one not held raises out of sleep).
    deadline = time.monotonic() + float(seconds or 5)
    while _state.pending is None and time.monotonic() < deadline:
        time.sleep(0.01)
