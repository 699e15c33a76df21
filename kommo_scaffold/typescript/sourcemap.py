"""Source Map v3 (https://tc39.es/ecma426/): from a line of widget/script.js back to the
line of src/ it was built from, so the checker's findings point at what the user edits."""

from __future__ import annotations

import json
import posixpath
from bisect import bisect_right
from pathlib import Path

_B64 = {c: i for i, c in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _vlq(segment: str) -> list[int]:
    values: list[int] = []
    value = shift = 0
    for char in segment:
        digit = _B64[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        value = shift = 0
    return values


class SourceMap:
    """The mappings of one generated file: per generated line, (column, source, line)."""

    def __init__(self, data: dict[str, object], map_dir: str = "") -> None:
        raw_sources = data.get("sources")
        root = str(data.get("sourceRoot") or "")
        self.sources = [posixpath.normpath(posixpath.join(map_dir, root, str(s)))
                        for s in (raw_sources if isinstance(raw_sources, list) else [])]
        self.lines: list[list[tuple[int, int, int]]] = []
        source = original = 0
        for text in str(data.get("mappings") or "").split(";"):
            column = 0
            row: list[tuple[int, int, int]] = []
            for segment in text.split(","):
                if not segment:
                    continue
                fields = _vlq(segment)
                column += fields[0]
                if len(fields) >= 4:
                    source += fields[1]
                    original += fields[2]
                    row.append((column, source, original))
            self.lines.append(row)

    @classmethod
    def load(cls, path: Path, relative_to: Path) -> SourceMap | None:
        """The map at ``path`` with sources as paths relative to ``relative_to``; None when it
        is missing or unreadable (positions then stay in the built file)."""
        try:
            data = json.loads(path.read_text("utf-8"))
            map_dir = path.parent.resolve().relative_to(relative_to.resolve()).as_posix()
        except (OSError, ValueError):
            return None
        return cls(data, map_dir) if isinstance(data, dict) else None

    def original(self, line: int, column: int = 0) -> tuple[str, int] | None:
        """(source path, 1-based line) for a 1-based generated line and 0-based column: the
        segment at or before the column, else the line's first one; None for the wrapper's
        own lines and esbuild's helpers, which come from no source."""
        if not 1 <= line <= len(self.lines) or not self.lines[line - 1]:
            return None
        row = self.lines[line - 1]
        at = max(bisect_right([c for c, _, _ in row], column) - 1, 0)
        _, source, original = row[at]
        if not 0 <= source < len(self.sources):
            return None
        return self.sources[source], original + 1
