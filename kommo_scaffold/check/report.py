"""Findings, the report, and how it is printed (text for people, JSON for tools)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kommo_scaffold.check.registry import RULES, Severity

_ORDER = {"error": 0, "warning": 1, "note": 2}
# C0/C1 controls, DEL and the bidirectional overrides that can disguise a file name.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control characters and terminal escapes written as escapes."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None  # dotted JSON path inside the file

    @property
    def severity(self) -> Severity:
        return RULES[self.rule].severity

    @property
    def title(self) -> str:
        return RULES[self.rule].title

    def where(self) -> str:
        place = self.file or "."
        if self.line:
            place += f":{self.line}"
        if self.path:
            place += f" [{self.path}]"
        return printable(place)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "title": self.title,
                "message": self.message, "file": self.file, "line": self.line,
                "json_path": self.path}


@dataclass
class Report:
    path: str
    kind: str
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def pack_blockers(self) -> list[Finding]:
        """Findings `kommo pack` refuses without --force: every error, and a few warnings."""
        return [f for f in self.findings if RULES[f.rule].refuses_pack]

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def exit_code(self, strict: bool = False) -> int:
        return 1 if self.errors or (strict and self.warnings) else 0


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def kb(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def summary_line(report: Report) -> str:
    return ", ".join((plural(report.count("error"), "error"),
                      plural(report.count("warning"), "warning"),
                      plural(report.count("note"), "note")))


def sorted_findings(report: Report) -> list[Finding]:
    return sorted(report.findings, key=lambda f: (_ORDER[f.severity], f.file or "",
                                                  f.line or 0, f.rule))


def format_report(report: Report, fmt: str) -> str:
    """The report as text (one line per finding, then a summary line) or JSON."""
    findings = sorted_findings(report)
    if fmt == "json":
        data = {"path": report.path, "kind": report.kind,
                "summary": {"errors": report.count("error"),
                            "warnings": report.count("warning"),
                            "notes": report.count("note")},
                "findings": [f.as_dict() for f in findings]}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    lines = [f"Checking {report.kind} {printable(report.path)} "
             f"({plural(len(report.files), 'file')})"]
    for f in findings:
        lines.append(f"{f.where()}: {f.rule} {f.severity}: {f.title}: {printable(f.message)}")
    if findings:
        lines.append("(`kommo check --explain RULE` tells why a rule matters and how to fix it)")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
