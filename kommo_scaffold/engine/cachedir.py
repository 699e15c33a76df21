"""The one folder for what kommo keeps between commands and can always rebuild: compiled
template code, clones of the template's versions, and the preview's JavaScript libraries.

``~/.kommo-scaffold`` (next to the template store), or the folder named by
``KOMMO_SCAFFOLD_CACHE``. Anything under it may be deleted while no kommo command runs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

ENV = "KOMMO_SCAFFOLD_CACHE"


def root() -> Path:
    configured = os.environ.get(ENV)
    return Path(configured) if configured else Path.home() / ".kommo-scaffold"


def is_private(folder: Path) -> bool:
    """Owned by this user and writable by nobody else: what kommo loads from a cache runs
    as code (compiled templates) or becomes the user's files (template clones)."""
    if not hasattr(os, "geteuid"):
        return True
    try:
        info = folder.stat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def private_folder(name: str) -> Path | None:
    """``root()/name``, created (0700) if missing; None where it cannot be created or others
    could write to it. The cache root itself may be group-writable (umask 002, common with
    one group per user): nobody else can put a folder owned by this user in its place."""
    folder = root() / name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:  # a read-only or full disk: the caller works without its cache
        return None
    return folder if is_private(folder) else None
