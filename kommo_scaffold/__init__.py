"""kommo-scaffold: start and grow Kommo (amoCRM) widgets.

The public API is ``__all__``; everything else is internal. Attributes load lazily so that
importing the package (as the CLI does) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "ConflictError",
    "ScaffoldError",
    "UsageError",
    "add_area",
    "check_path",
    "create",
    "pack",
    "remove_area",
    "upgrade",
]

_HOMES = {
    "ConflictError": "errors",
    "ScaffoldError": "errors",
    "UsageError": "errors",
    "add_area": "scaffold.update",
    "check_path": "check",
    "create": "scaffold.generate",
    "pack": "check.pack",
    "remove_area": "scaffold.update",
    "upgrade": "scaffold.update",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'kommo_scaffold' has no attribute {name!r}")
    return getattr(import_module(f"kommo_scaffold.{_HOMES[name]}"), name)
