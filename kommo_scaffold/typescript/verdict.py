"""`kommo check` and `kommo pack` on any target: a TypeScript project is built first, its
source map stays out of the upload, and findings in the built script.js point at src/."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kommo_scaffold.typescript import build, project
from kommo_scaffold.typescript.sourcemap import SourceMap

if TYPE_CHECKING:
    from kommo_scaffold.check import Report
    from kommo_scaffold.check.pack import PackResult

# The map, as a path inside widget/: never uploaded unless asked for.
MAP_IN_WIDGET = Path(project.SOURCE_MAP).relative_to("widget").as_posix()


def remap(report: Report, ts: project.TsProject) -> None:
    """Findings at a line of the built widget/script.js are moved to the src/ line it came
    from (the built line stays in the message); the others are left as they are."""
    source_map = SourceMap.load(ts.source_map, ts.root)
    if source_map is None:
        return
    moved = []
    for finding in report.findings:
        place = (source_map.original(finding.line)
                 if finding.file == project.OUTPUT and finding.line else None)
        if place is None:
            moved.append(finding)
            continue
        moved.append(dataclasses.replace(
            finding, file=place[0], line=place[1],
            message=f"{finding.message} (built {project.OUTPUT}:{finding.line})"))
    report.findings = moved


def check(target: Path, page: Any = None) -> Report:
    """The checker's report on ``target``; a TypeScript project is built first."""
    ts = project.find(target)
    if ts is not None:
        try:
            build.build(ts)
        except BaseException:
            if page is not None:
                page.close()
            raise
    return _report(target, ts, page)


def check_built(target: Path, page: Any = None) -> Report:
    """The checker's report on ``target`` as it is now (`kommo dev` has built it)."""
    return _report(target, project.find(target), page)


def _report(target: Path, ts: project.TsProject | None, page: Any) -> Report:
    from kommo_scaffold import check as checker

    if ts is None:
        return checker.check_path(target, page)
    report = checker.check_path(target, page, exclude=frozenset({MAP_IN_WIDGET}))
    remap(report, ts)
    return report


def pack(target: Path, output: Path | None, force: bool, bump: str | None,
         source_map: bool = False) -> PackResult:
    """The upload zip; a TypeScript project is built first (without a source map unless
    ``source_map``), under the same lock as the pack."""
    from kommo_scaffold.check import pack as packer

    ts = project.find(target)
    if ts is None:
        if source_map:
            raise packer.PackUsageError("--source-map is for TypeScript projects, whose "
                                        "widget/script.js is built from src/")
        return packer.pack(target, output=output, force=force, bump=bump)
    build.require_tools(ts)
    return packer.pack(target, output=output, force=force, bump=bump,
                       exclude=frozenset() if source_map else frozenset({MAP_IN_WIDGET}),
                       before=lambda: build.build(ts, release=not source_map))
