"""What the rule families share while checking one widget: its files, the parsed manifest,
locations and scripts, and the helpers that turn a JSON path into a line number."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kommo_scaffold.catalog import areas
from kommo_scaffold.check.js.parser import Module, parse_module
from kommo_scaffold.check.reader import Widget
from kommo_scaffold.check.report import Finding, Report

BOM = b"\xef\xbb\xbf"


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")


class DuplicateKeys:
    """object_pairs_hook that records duplicate keys instead of silently dropping them."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                self.duplicates.append(key)
            result[key] = value
        return result


# A string token may be unterminated ("? at its end): a text that is not valid JSON must not
# make every later quote rescan the rest of the text, which was quadratic on '"\\"\\"...'.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[{}\[\],:]|[^\s{}\[\],:"]+', re.DOTALL)
# Lines are indexed this deep (a widget's JSON nests a few levels; each path holds its parents).
_MAX_DEPTH = 64


def json_lines(text: str) -> dict[str, int]:
    """Dotted path (``a.b[2].c``) -> line, for every key and array item of JSON ``text``,
    in one pass (a finding's line is then a dictionary lookup, however many findings)."""
    lines: dict[str, int] = {}
    stack: list[list[Any]] = []  # [container kind, current key or index, path]
    line, last_end, expect_key = 1, 0, False

    def child_path(frame: list[Any]) -> str:
        parent = frame[2]
        if frame[0] == "[":
            return f"{parent}[{frame[1]}]"
        return f"{parent}.{frame[1]}" if parent else str(frame[1])

    for match in _JSON_TOKEN.finditer(text):
        line += text.count("\n", last_end, match.start())
        last_end = match.start()
        tok = match.group()
        if tok in "{[":
            if len(stack) >= _MAX_DEPTH:
                return lines  # deeper paths would cost memory quadratic in the depth
            path = ""
            if stack:
                if stack[-1][0] == "[":
                    stack[-1][1] += 1
                    lines.setdefault(child_path(stack[-1]), line)
                path = child_path(stack[-1])
            stack.append([tok, -1 if tok == "[" else None, path])
            expect_key = tok == "{"
        elif tok in "}]":
            if stack:
                stack.pop()
        elif tok == ",":
            expect_key = bool(stack) and stack[-1][0] == "{"
        elif tok == ":":
            expect_key = False
        elif expect_key and stack:
            try:
                stack[-1][1] = json.loads(tok)
            except ValueError:
                return lines
            lines.setdefault(child_path(stack[-1]), line)
        elif stack and stack[-1][0] == "[":
            stack[-1][1] += 1
            lines.setdefault(child_path(stack[-1]), line)
    return lines


def path_line(lines: dict[str, int], path: str) -> int | None:
    """Line of ``path``, or of the deepest part of it that exists."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> leaf value of a nested i18n object."""
    if not isinstance(node, dict) or (not node and prefix):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def lookup(node: Any, dotted: str) -> tuple[bool, Any]:
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


@dataclass
class Context:
    widget: Widget
    report: Report
    texts: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] | None = None
    # (code, flag, raw, index in the manifest list) per location string; flag None if absent.
    locations: list[tuple[str, str | None, str, int]] = field(default_factory=list)
    modules: dict[str, Module] = field(default_factory=dict)
    i18n: dict[str, dict[str, Any]] = field(default_factory=dict)
    # files with merge-conflict markers: their syntax errors are that same problem
    conflicted: set[str] = field(default_factory=set)
    # files whose content is another format than their extension (KS610 says so)
    mismatched: set[str] = field(default_factory=set)
    _json_lines: dict[str, dict[str, int]] = field(default_factory=dict)
    # the V8 page (kommo_scaffold.check.js.engine.Page) the scripts are run in, if any
    page: Any = None

    def parse(self, name: str) -> Module:
        """The parsed module of a .js file (JSSyntaxError and the like as parse_module)."""
        return parse_module(self.widget.data[name].removeprefix(BOM))

    def add(self, rule: str, message: str, file: str | None = None, line: int | None = None,
            path: str | None = None) -> None:
        label = self.widget.label(file) if file is not None else None
        if line is None and path and file in self.texts and file.endswith(".json"):
            if file not in self._json_lines:
                self._json_lines[file] = json_lines(self.texts[file])
            line = path_line(self._json_lines[file], path)
        self.report.findings.append(Finding(rule, message, label, line, path))

    @property
    def codes(self) -> list[str]:
        return [loc[0] for loc in self.locations if loc[0] in areas.AREA_BY_CODE]

    @property
    def script(self) -> Module | None:
        return self.modules.get("script.js")
