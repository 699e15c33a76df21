"""The one definition of a valid ``widget.version``: used by kommo-new's answer validation,
`kommo pack --bump` and the checker (and the template's validator is tested against it).

Kommo treats the version as an informational string that should change on every upload so
cached files refresh; every Kommo example writes it as ``1.0.0``. We accept one to three
dot-separated numbers (``1``, ``1.2``, ``1.2.3``): the forms ``--bump`` can raise.
"""

from __future__ import annotations

import re

PATTERN = r"[0-9]+(?:\.[0-9]+){0,2}"
# \A...\Z, not ^...$: `$` would accept a trailing newline.
_VERSION = re.compile(rf"\A({PATTERN})\Z")
BUMP_PARTS = ("patch", "minor", "major")
EXAMPLE = "1.0.0"


def is_valid(version: object) -> bool:
    return isinstance(version, str) and _VERSION.match(version) is not None


def problem(version: object) -> str | None:
    """Why ``version`` is not a valid widget.version (None when it is)."""
    if not isinstance(version, str):
        return f"must be a string such as \"{EXAMPLE}\""
    if not is_valid(version):
        return f"{version!r} is not one to three numbers separated by dots, such as {EXAMPLE}"
    return None


def bump(version: str, part: str) -> str:
    """``version`` with ``part`` (patch, minor or major) raised; ValueError if either is
    invalid."""
    if part not in BUMP_PARTS:
        raise ValueError(f"the part to raise must be one of {', '.join(BUMP_PARTS)}, "
                         f"not {part!r}")
    reason = problem(version)
    if reason:
        raise ValueError(f"widget.version {reason}")
    numbers = [int(x) for x in version.split(".")] + [0, 0]
    major, minor, patch = numbers[:3]
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"
