"""Clones of the template's versions, kept between commands in kommo's cache folder.

copier clones the template in every command that renders it (``git clone``, ``checkout``
and ``submodule update``: about a tenth of ``kommo-new``). A clone of one commit of one
local repository is the same every time and copier only reads from it, so the first one is
kept in ``template-clones`` under kommo's cache folder (``cachedir``), named by the
repository, the commit and the tags on it, and later commands render from it once
``git status`` shows it unchanged (otherwise it is made again). A clone appears there
whole or not at all (it is made in a staging folder, then renamed), and clones unused for a
month are removed when a new one is made.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from kommo_scaffold.engine import cachedir
from kommo_scaffold.errors import ScaffoldError
from kommo_scaffold.plumbing import interrupt
from kommo_scaffold.plumbing.gitutil import git

FOLDER = "template-clones"
_STAGING_PREFIX = ".making-"
_UNUSED_FOR = 30 * 24 * 3600  # seconds
_STAGING_ABANDONED_AFTER = 24 * 3600  # a clone interrupted beyond its own clean-up


def kept_clone(url: str, ref: str, make: Callable[[str], object]) -> str | None:
    """The kept clone of ``ref`` of the local repository ``url``; ``make(folder)`` clones
    into an empty folder the first time. None where no clone can be kept: ``url`` is not a
    local repository, ``ref`` is not one of its commits, or the cache folder is unusable."""
    repository = Path(url).expanduser()
    if ref.startswith("-") or not repository.is_dir():
        return None  # an option, not a ref; or a remote template (copier mirrors those)
    commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=repository,
                 check=False).strip()
    folder = cachedir.private_folder(FOLDER) if commit else None
    if folder is None:
        return None
    place = hashlib.sha256(os.fsencode(repository.resolve())).hexdigest()[:12]
    # The tags on the commit are part of the name: copier records the version it reads from
    # the clone's tags, and the store can tag one commit anew (a development version that a
    # release of the same template replaces), which a kept clone would not know.
    tags = git("tag", "--points-at", commit, cwd=repository, check=False)
    named = hashlib.sha256(tags.encode("utf-8")).hexdigest()[:8]
    kept = folder / f"{place}-{commit}-{named}"
    if kept.is_dir():
        if _pristine(kept):
            with contextlib.suppress(OSError):
                os.utime(kept)  # in use: not to be pruned
            return str(kept)
        shutil.rmtree(kept, ignore_errors=True)  # changed since it was made: made again
    try:
        with interrupt.temporary_folder(_STAGING_PREFIX, folder) as staging:
            make(str(staging))
            try:
                staging.rename(kept)
            except OSError:
                if not kept.is_dir():  # not another command that made it first
                    raise
    except OSError:  # a full disk: clone as if there were no cache
        return None
    _prune(folder, kept.name)
    return str(kept)


def _pristine(clone: Path) -> bool:
    """No file of the clone was changed, removed or added since it was made (copier renders
    every file in it)."""
    try:  # the repository named outright: never one git finds in a parent folder
        return git(f"--git-dir={clone / '.git'}", f"--work-tree={clone}", "status",
                   "--porcelain", "--untracked-files=all", "--ignored", cwd=clone) == ""
    except ScaffoldError:  # not a repository any more
        return False


def _prune(folder: Path, keep: str) -> None:
    now = time.time()
    for entry in folder.iterdir():
        if entry.name == keep:
            continue
        limit = _STAGING_ABANDONED_AFTER if entry.name.startswith(_STAGING_PREFIX) \
            else _UNUSED_FOR
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > limit:
                shutil.rmtree(entry, ignore_errors=True)
