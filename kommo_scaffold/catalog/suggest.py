"""The areas nearest to a mistyped one, by code and by title ("contacts" is near clist,
"Contacts list", and ccard, "Contact card"), for "did you mean" hints."""

from __future__ import annotations

import difflib
import re

from kommo_scaffold.catalog import areas

# A similarity (difflib's ratio, 0..1) below this is no suggestion.
CUTOFF = 0.75


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[^a-z0-9]+", text.lower()) if word]


def _score(typed: str, area: areas.Area) -> float:
    """How near ``typed`` is to the area's code, its title or a word of its title."""
    flat = " ".join(_words(typed))
    candidates = [area.code, area.code.replace("_", " "), " ".join(_words(area.title)),
                  *_words(area.title)]
    return max(difflib.SequenceMatcher(None, flat, candidate).ratio()
               for candidate in candidates)


def nearest_areas(typed: str, limit: int = 3) -> list[str]:
    """Area codes nearest to ``typed``, nearest first (catalog order among equals)."""
    if not _words(typed):
        return []
    scored = [(_score(typed, area), index, area.code)
              for index, area in enumerate(areas.AREAS)]
    near = sorted((item for item in scored if item[0] >= CUTOFF),
                  key=lambda item: (-item[0], item[1]))
    return [code for _, _, code in near[:limit]]


def did_you_mean(typed: str) -> str:
    """' did you mean clist (Contacts list) or ccard (Contact card)?', or '' if none."""
    codes = nearest_areas(typed)
    if not codes:
        return ""
    named = [f"{code} ({areas.AREA_BY_CODE[code].title})" for code in codes]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return f" did you mean {listed}?"
