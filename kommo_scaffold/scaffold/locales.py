"""A locale file an update creates starts with every text the project already has.

The template renders a new ``widget/i18n/<locale>.json`` with the template's own keys only
(copier renders each file from the answers; it cannot read the user's other locale files
without a trusted hook). The user's keys live in the existing locale files, and Kommo, the
checker and the generated tests all expect every locale to have the same keys. So after an
update that adds locales, the new files get every key they lack from the first locale the
project already had, with that locale's texts (to translate later); the keys the template
rendered, with their translated built-in labels, are kept as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

I18N_DIR = "widget/i18n"


def _read_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None where the file is not one (check reports it)."""
    try:
        data = json.loads(path.read_text("utf-8").lstrip("\ufeff"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _fill(target: dict[str, Any], source: dict[str, Any]) -> int:
    """Add to ``target`` every key of ``source`` it lacks, at any depth; how many were added."""
    added = 0
    for key, value in source.items():
        if key not in target:
            target[key] = value
            added += 1
        elif isinstance(target[key], dict) and isinstance(value, dict):
            added += _fill(target[key], value)
    return added


def seed_new_locales(project: Path, created: list[str], locales: list[str]) -> list[str]:
    """Fill the locale files in ``created`` from the first of ``locales`` that existed
    before; the files changed."""
    new = [code for code in locales if f"{I18N_DIR}/{code}.json" in created]
    sources = [code for code in locales if code not in new]
    source = next((data for code in sources
                   if (data := _read_object(project / I18N_DIR / f"{code}.json")) is not None),
                  None)
    seeded = []
    for code in new if source else []:
        path = project / I18N_DIR / f"{code}.json"
        target = _read_object(path)
        if target is None or not _fill(target, source or {}):
            continue
        text = path.read_text("utf-8")
        ending = "\n" if text.endswith("\n") else ""
        path.write_text(json.dumps(target, indent=2, ensure_ascii=False) + ending, "utf-8")
        seeded.append(f"{I18N_DIR}/{code}.json")
    return seeded
