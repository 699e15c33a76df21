"""Which projects are TypeScript projects, and the files their build owns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kommo_scaffold.catalog import languages
from kommo_scaffold.plumbing import projectroot

BUILD_SCRIPT = "build.mjs"
OUTPUT = "widget/script.js"
SOURCE_MAP = "widget/script.js.map"
SOURCES = "src"


@dataclass(frozen=True)
class TsProject:
    root: Path

    @property
    def output(self) -> Path:
        return self.root / OUTPUT

    @property
    def source_map(self) -> Path:
        return self.root / SOURCE_MAP

    @property
    def sources(self) -> Path:
        return self.root / SOURCES


def recorded_language(root: Path) -> str:
    """The project's `language` answer (projects made before the question are JavaScript)."""
    return (projectroot.recorded_word(root, languages.LANGUAGE_QUESTION)
            or languages.DEFAULT_LANGUAGE)


def find(target: Path) -> TsProject | None:
    """The TypeScript project `check`/`pack` work on for ``target`` (a project folder, as
    projectroot.widget_target gives it), or None for anything else."""
    if not target.is_dir() or not (target / projectroot.ANSWERS_FILE).is_file():
        return None
    if recorded_language(target) != "typescript":
        return None
    return TsProject(target)
