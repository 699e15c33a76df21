"""Find the widget project a command is run in, from any folder inside it (as git does).

A kommo-scaffold project is a folder holding copier's answers file (``.copier-answers.yml``).
Project commands (add-area, remove-area, update, check, pack and the ones to come) look in the
folder they are given and then in each parent, and use the nearest project; so `kommo pack`
inside ``widget/`` or ``backend/hooks/`` works on the whole project.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from kommo_scaffold.errors import UsageError

ANSWERS_FILE = ".copier-answers.yml"
WIDGET_DIR = "widget"


def _ceilings() -> list[Path]:
    """Folders the search stops below, from GIT_CEILING_DIRECTORIES (as git honours it)."""
    raw = os.environ.get("GIT_CEILING_DIRECTORIES", "")
    return [Path(item).absolute() for item in raw.split(os.pathsep) if item]


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a project's answers file, or None."""
    here = Path(os.path.abspath(start.expanduser()))  # keeps the user's spelling of links
    ceilings = _ceilings()
    for folder in (here, *here.parents):
        if (folder / ANSWERS_FILE).is_file():
            return folder
        if folder in ceilings:
            break
    return None


def require_root(start: Path) -> Path:
    """The project containing ``start``; a one-line usage error when there is none."""
    start_abs = Path(os.path.abspath(start.expanduser()))
    if not start_abs.is_dir():
        raise UsageError(f"No folder {start_abs}; run the command inside a widget project or "
                         "pass -C PATH")
    root = find_root(start_abs)
    if root is None:
        raise UsageError(f"{start_abs} is not inside a kommo-scaffold project (no {ANSWERS_FILE} "
                         "there or in any parent folder); run the command inside a project made "
                         "by kommo-new, or pass -C PATH")
    return root


def widget_target(path: Path) -> Path:
    """What `check`/`pack` should work on for PATH.

    A folder inside a project means the whole project (its widget/ and dist/); a zip, a
    manifest.json or a stand-alone widget folder (one with its own manifest.json that is not
    a project's widget/) is taken as it is.
    """
    if not path.is_dir():
        return path
    root = find_root(path)
    if root is None:
        return path
    here = Path(os.path.abspath(path))
    if (here / "manifest.json").exists() and here != root / WIDGET_DIR:
        return path  # a widget folder of its own (say, a copy kept for reference)
    return root


def recorded_word(root: Path, key: str) -> str | None:
    """A one-word top-level answer (a code, a choice) of the project at ``root``, read from
    its answers file without a YAML library, which commands on the hot path (`kommo check`,
    `kommo dev`) need not load: copier writes such an answer as a plain `key: word` line."""
    try:
        text = (root / ANSWERS_FILE).read_text("utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(rf"(?m)^{re.escape(key)}:\s*['\"]?([A-Za-z0-9_]+)", text)
    return match.group(1) if match else None
