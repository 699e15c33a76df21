"""The one place that calls copier: lazily imported, its errors turned into one-liners.

Around each copier run (``_running_copier``): git isolated from the user's config, copier's
temporary folders in one folder of ours, no git child left running after an interrupt, and
the work copier repeats done once (``reuse``).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kommo_scaffold.engine.reuse import replaced
from kommo_scaffold.errors import ScaffoldError, UsageError
from kommo_scaffold.plumbing import gitutil


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    # copier wraps validator messages: "Validation error for question 'x': message"
    match = re.search(r"Validation error for question '([^']+)': (.*)", text)
    if match:
        return match.group(2)
    if len(text) > 300:  # some copier errors carry whole object reprs
        text = text[:297] + "..."
    return text or error.__class__.__name__


@contextlib.contextmanager
def copier_errors() -> Iterator[None]:
    """Map copier's exceptions (tracebacks by default) to ScaffoldError messages."""
    from copier.errors import CopierAnswersInterrupt, CopierError, InteractiveSessionError

    try:
        yield
    except CopierAnswersInterrupt:
        # Ctrl-C at a prompt: the caller cleans up and reports the interrupt itself.
        raise KeyboardInterrupt from None
    except InteractiveSessionError as error:
        raise UsageError("No terminal to ask the questions on: pass --defaults and/or "
                         "-d KEY=VALUE / --data-file") from error
    except CopierError as error:
        raise ScaffoldError(_one_line(error)) from error
    except (ValueError, TypeError) as error:
        # copier raises these for answers its validators or type parsers reject; raised by
        # kommo's own code running inside copier they are a bug, reported as one.
        if _raised_by_kommo(error):
            raise
        raise UsageError(_one_line(error)) from error


def _raised_by_kommo(error: BaseException) -> bool:
    """The innermost frame of the error's traceback is kommo-scaffold's code."""
    import kommo_scaffold

    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    package = os.path.dirname(os.path.abspath(kommo_scaffold.__file__)) + os.sep
    return os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(package)


@contextlib.contextmanager
def _isolated_git() -> Iterator[None]:
    """copier's git calls ignore the user's git config (hooks, signing, autocrlf, status)
    and start no background work (gitutil.NO_BACKGROUND_WORK_ENV).

    copier runs git through plumbum, whose environment is a copy taken at import time, so
    the variables are set there.
    """
    from plumbum import local

    with local.env(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
                   GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0",
                   **gitutil.NO_BACKGROUND_WORK_ENV):
        yield


@contextlib.contextmanager
def _private_temp() -> Iterator[None]:
    """copier's temporary folders (template clones, old and new copies) go into one folder
    of ours, removed as a whole on any exit: an interrupt can end copier between creating
    one and its own clean-up."""
    import tempfile

    from kommo_scaffold.plumbing import interrupt

    previous = tempfile.tempdir
    with interrupt.temporary_folder("kommo-copier-") as folder:
        tempfile.tempdir = str(folder)
        try:
            yield
        finally:
            tempfile.tempdir = previous


@contextlib.contextmanager
def _children_reaped() -> Iterator[None]:
    """A git process copier started does not outlive an interrupt.

    copier runs git through plumbum, which leaves the child running when a signal interrupts
    its wait: a ``git clone`` into copier's temporary folder then goes on after the command
    has removed the folder and exited, and leaves a copy of the template behind. Here the
    child is killed and reaped before the interrupt goes on.
    """
    from plumbum.commands import base

    def wrap(original: Any) -> Any:
        def run_proc(proc: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(proc, *args, **kwargs)
            except BaseException:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                raise
        return run_proc

    with replaced(base, "run_proc", wrap):
        yield


@contextlib.contextmanager
def _running_copier() -> Iterator[None]:
    from kommo_scaffold.engine import reuse

    with copier_errors(), _isolated_git(), _private_temp(), _children_reaped(), \
            reuse.repeated_work_done_once():
        yield


def copy(src_path: str, dest: Path, vcs_ref: str, data: dict[str, Any], defaults: bool) -> None:
    from copier import run_copy

    with _running_copier():
        run_copy(src_path, dest, data=data, defaults=defaults, vcs_ref=vcs_ref,
                 unsafe=False, quiet=True, overwrite=False)


def update(project: Path, data: dict[str, Any], vcs_ref: str, defaults: bool = True,
           skip_answered: bool = False) -> None:
    from copier import run_update

    with _running_copier():
        run_update(project, data=data, defaults=defaults, vcs_ref=vcs_ref, overwrite=True,
                   conflict="inline", unsafe=False, quiet=True, skip_answered=skip_answered)
