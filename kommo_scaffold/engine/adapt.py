"""How kommo wraps an internal of copier, Jinja, plumbum or questionary for one command.

Each adaptation names the internal it wraps and the parameters it expects that internal to
have. Where another version of the library lacks the internal or gives it other parameters,
the adaptation turns itself off and copier runs as it is: an adaptation only saves time or
adds to what copier does, it is never needed to get the same files.

``KOMMO_SCAFFOLD_NO_ADAPTATIONS=1`` turns every adaptation off (plain copier behaviour), to
tell whether a problem is kommo's or copier's and to measure what the adaptations save.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any

OFF_ENV = "KOMMO_SCAFFOLD_NO_ADAPTATIONS"


def enabled() -> bool:
    """False where the user turned the adaptations off."""
    return os.environ.get(OFF_ENV, "").strip().lower() in ("", "0", "false", "no")


def has_parameters(function: Any, expected: tuple[str, ...], more: bool = False) -> bool:
    """``function`` takes exactly the parameters ``expected``, by name and in order; with
    ``more``, those first and possibly others after them (a wrapper that passes ``*args`` and
    ``**kwargs`` on)."""
    try:
        names = tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # not a callable, or one without a signature
        return False
    return names[:len(expected)] == expected if more else names == expected


@contextlib.contextmanager
def replaced(owner: Any, name: str, wrap: Callable[[Any], Any], parameters: tuple[str, ...],
             more: bool = False) -> Iterator[bool]:
    """``owner.name`` replaced by ``wrap(original)`` for the block, then restored; the block
    gets True if it was replaced. Nothing is replaced where the adaptations are off, or where
    the original is missing or has other parameters than ``parameters`` (see
    ``has_parameters``)."""
    original = getattr(owner, name, None)
    if original is None or not enabled() or not has_parameters(original, parameters, more):
        yield False
        return
    setattr(owner, name, wrap(original))
    try:
        yield True
    finally:
        setattr(owner, name, original)
