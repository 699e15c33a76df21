"""`kommo check`: find what Kommo would reject in a widget before it is uploaded.

Works on a kommo-new project, a plain widget folder (manifest.json at its root) or a zip.
Every rule has a stable ID, a severity and a docs entry (docs/checker-rules.md is generated
from ``RULES``: ``python -m kommo_scaffold.check --docs``). What each connection area needs
is read from ``kommo_scaffold.areas``; nothing about areas is restated here.

Severities: ``error`` = Kommo would reject the upload or the widget cannot work;
``warning`` = Kommo's public checklist or a likely mistake; ``note`` = fine, but worth
knowing (amoCRM legacy, placeholders).
"""

from __future__ import annotations

import difflib
import io
import json
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kommo_scaffold import areas, listing
from kommo_scaffold.errors import UsageError
from kommo_scaffold.jsparse import JSSyntaxError, Module, parse_module

Severity = Literal["error", "warning", "note"]
DOCS_FILE = "docs/checker-rules.md"

# Reading limits: a widget is a few hundred KB; anything far bigger is a mistake or a bomb.
MAX_ENTRY_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_FILES = 5000

TEXT_SUFFIXES = (".js", ".json", ".css", ".md", ".twig", ".html", ".txt", ".svg")
# Directories and files that are never part of a widget (pack drops them too).
JUNK_DIRS = frozenset((".git", ".hg", ".svn", "node_modules", "__MACOSX", ".idea", ".vscode",
                       "__pycache__", ".pytest_cache"))
JUNK_FILES = frozenset((".DS_Store", "Thumbs.db", "desktop.ini", ".gitignore", ".gitattributes",
                        ".editorconfig", ".copier-answers.yml", ".env", ".npmrc",
                        # build tooling: never loaded by Kommo
                        "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
                        "composer.json", "composer.lock", "tsconfig.json"))
JUNK_SUFFIXES = (".swp", ".swo", "~", ".bak", ".orig", ".tmp", ".pyc")
# Kommo's own locales; LOCALES adds ru for amoCRM accounts
# (https://developers.kommo.com/docs/i18n).
AMOCRM_LOCALES = ("ru",)
# Keys of area blocks Kommo's manifest reference marks optional (dp.settings / webhook_url,
# mobile.color; https://developers.kommo.com/docs/manifest-json):
# missing is a warning, not an error.
OPTIONAL_BLOCK_KEYS = frozenset(("dp.settings", "dp.webhook_url", "mobile.color"))
# The callbacks Kommo needs in every area, or the widget does not start
# (https://developers.kommo.com/docs/script-js).
CORE_CALLBACKS = ("render", "init", "bind_actions")
# Checklist text limits (https://developers.kommo.com/docs/getting-listed).

_DEV_HOST = re.compile(
    r"(?i)(?://|^)((?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|192\.168\.\d+\.\d+"
    r"|10\.\d+\.\d+\.\d+|[\w.-]+\.(?:ngrok(?:-free)?\.(?:io|app|dev)|zrok\.io|loca\.lt"
    r"|trycloudflare\.com|serveo\.net|localtunnel\.me|lhr\.life|localhost\.run))(?::\d+)?)")
_PLACEHOLDER_HOST = re.compile(
    r"(?i)^https?://((?:[\w-]+\.)*(?:example\.(?:com|org|net)|[\w-]+\.(?:example|test|invalid)))"
    r"(?:[:/?#]|$)")
_I18N_KEY = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$")
_LOCATION = re.compile(r"^([a-z_]+)(?:-(.*))?$")


class CheckUsageError(UsageError):
    """PATH cannot be checked at all (missing, not a widget, not a readable zip). Exit 2."""


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    why: str
    fix: str

    @property
    def anchor(self) -> str:
        return f"{DOCS_FILE}#{self.id.lower()}"


RULES: dict[str, Rule] = {}


def _rule(rule_id: str, severity: Severity, title: str, why: str, fix: str) -> str:
    assert rule_id not in RULES, rule_id
    RULES[rule_id] = Rule(rule_id, severity, title, why, fix)
    return rule_id


# KS0xx: the checker itself
KS001 = _rule("KS001", "error", "A check could not finish",
              "The checker met input it did not expect and stopped that check; the rest ran.",
              "Fix the other findings first; if this stays, report it with the widget.")
# KS1xx: manifest.json
KS101 = _rule("KS101", "error", "manifest.json is missing",
              "Kommo reads everything about a widget from manifest.json at the archive root.",
              "Add manifest.json at the root of the widget folder.")
KS102 = _rule("KS102", "error", "manifest.json is not valid JSON",
              "Invalid JSON is the most common upload error; Kommo rejects the archive.",
              "Fix the syntax at the line shown (trailing commas, comments and single quotes "
              "are not JSON).")
KS103 = _rule("KS103", "error", "manifest.json is not a JSON object",
              "The manifest must be an object with `widget`, `locations` and other blocks.",
              "Make the top level `{ \"widget\": {...}, \"locations\": [...] }`.")
KS104 = _rule("KS104", "error", "A required manifest key is missing",
              "Kommo requires widget.name, description, short_description, interface_version, "
              "locale, installation and locations, and name/type for each settings field.",
              "Add the key; text values are i18n keys such as \"widget.name\".")
KS105 = _rule("KS105", "error", "A manifest value has the wrong type",
              "Kommo expects strings for texts, a boolean for installation/init_once, a list "
              "of strings for locale and locations, objects for blocks.",
              "Write the value with the type shown in the message.")
KS106 = _rule("KS106", "error", "interface_version is not 2",
              "Kommo only loads widgets written for interface version 2.",
              "Set \"interface_version\": 2 (a number, not a string).")
KS107 = _rule("KS107", "warning", "init_once written as \"Y\"/\"N\"",
              "An old amoCRM page wrote init_once as 'Y'; Kommo expects a boolean, and any "
              "non-empty string is truthy.", "Write true or false.")
KS108 = _rule("KS108", "warning", "widget.version is missing",
              "Kommo caches widget files by version; without one, users keep old files.",
              "Add \"version\": \"1.0.0\" and raise it on every upload (kommo pack --bump).")
KS109 = _rule("KS109", "warning", "installation is true but there is no settings block",
              "Kommo's checklist lists settings as required when the install form is shown.",
              "Add a `settings` block with at least one field, or set installation to false.")
KS110 = _rule("KS110", "warning", "Unknown settings field type",
              "Settings fields are text, pass, users, users_lp or custom; Kommo cannot draw "
              "other types.", "Use one of the documented types.")
KS111 = _rule("KS111", "note", "Legacy widget.code / widget.secret_key",
              "Old amoCRM manifests carried the widget code and secret key; Kommo now issues "
              "them at upload and ignores these keys.",
              "Remove them unless your account still requires them; never publish a secret.")
KS112 = _rule("KS112", "warning", "Duplicate key in a JSON object",
              "JSON parsers keep only the last value; the first one is silently lost.",
              "Keep one entry per key.")
# KS2xx: locations and areas
KS201 = _rule("KS201", "error", "locations written as an object",
              "Kommo expects `locations` to be an array of strings such as [\"lcard-1\"]; some "
              "old widgets wrote an object, which Kommo does not read.",
              "Write the locations as an array, e.g. [\"lcard-1\", \"settings\"].")
KS202 = _rule("KS202", "error", "Unknown location",
              "Kommo rejects or ignores locations it does not know.",
              "Use a documented area code (see docs/areas.md), e.g. lcard-1 or settings.")
KS203 = _rule("KS203", "error", "Panel flag on an area that takes none",
              "Only card and list areas take -1/-0; `everywhere` and the other areas never do.",
              "Write the area without the suffix.")
KS204 = _rule("KS204", "error", "Both -0 and -1 (or flag and no flag) of one area",
              "An area is either drawn in the right panel (-1) or not (-0); Kommo's tools "
              "reject both together.", "Keep one form of the area.")
KS205 = _rule("KS205", "warning", "Duplicate location", "The same location is listed twice.",
              "Remove the duplicate.")
KS206 = _rule("KS206", "note", "Card or list area without -0/-1",
              "Legacy docs default the flag to 1 (draw in the right panel); Kommo's docs do "
              "not say, so write it.", "Write area-1 to draw in the right panel, area-0 not to.")
KS207 = _rule("KS207", "note", "amoCRM-only area",
              "The area exists on amoCRM and legacy Kommo accounts but not in Kommo's current "
              "area list.", "Fine for amoCRM; on Kommo the widget will not appear there.")
KS208 = _rule("KS208", "warning", "No locations",
              "With an empty list the widget loads nowhere.",
              "List the areas the widget works in, e.g. [\"lcard-1\", \"settings\"].")
KS209 = _rule("KS209", "error", "Area needs a companion area",
              "Some areas only work together with another one (card_sdk draws a tab inside a "
              "card, so it needs a card area).", "Add one of the areas named in the message.")
KS210 = _rule("KS210", "error", "Area needs its manifest block",
              "Areas such as digital_pipeline, advanced_settings, sms, mobile_card, "
              "salesbot_designer and widget_page are configured by a manifest block.",
              "Add the block named in the message (kommo-new writes a correct one).")
KS211 = _rule("KS211", "error", "Manifest block lacks a required key",
              "Kommo needs this key for the area to work (e.g. sms.endpoint, advanced.title).",
              "Add the key.")
KS212 = _rule("KS212", "warning", "Manifest block lacks a recommended key",
              "The key is optional in Kommo's table, but without it the area does little "
              "(e.g. no dp.webhook_url: digital pipeline events go nowhere).", "Add the key.")
KS213 = _rule("KS213", "warning", "Manifest block without its area",
              "The block configures an area that is not in `locations`, so Kommo ignores it; "
              "the checklist says not to leave unused configuration.",
              "Add the area to `locations` or remove the block.")
KS214 = _rule("KS214", "error", "Area callback missing in script.js",
              "Kommo calls this callback in the area; without it the area does nothing or "
              "throws.", "Add the callback to the callbacks object in script.js.")
KS215 = _rule("KS215", "note", "tasks.selected without todo.selected",
              "amoCRM widgets use tasks.selected; Kommo's docs name it todo.selected.",
              "Point both names at the same function: `todo: {selected: fn}, tasks: "
              "{selected: fn}`.")
KS216 = _rule("KS216", "warning", "File referenced by the manifest is missing",
              "The manifest points at a file (left-menu icon, tour image) that is not in the "
              "widget.", "Add the file or fix the path.")
# KS3xx: script.js
KS301 = _rule("KS301", "warning", "script.js is missing",
              "Kommo treats script.js as optional, amoCRM requires it, and without it no "
              "callback runs.", "Add script.js (kommo-new writes one).")
KS302 = _rule("KS302", "error", "JavaScript syntax error",
              "The browser cannot load a file that does not tokenize or whose brackets do not "
              "balance; the widget does not start.", "Fix the syntax at the line shown.")
KS303 = _rule("KS303", "error", "script.js defines no AMD module",
              "Kommo loads script.js with RequireJS: it must call define([...], function () "
              "{...}).", "Wrap the code in define(['jquery'], function ($) { ... }).")
KS304 = _rule("KS304", "error", "No callbacks object",
              "Kommo calls the widget through `this.callbacks = {...}`; none was found.",
              "Set this.callbacks = { render: ..., init: ..., bind_actions: ... } in the "
              "constructor and return this.")
KS305 = _rule("KS305", "error", "render, init or bind_actions missing",
              "Kommo needs all three in every area or the widget does not start.",
              "Add the callback; render must return true.")
KS306 = _rule("KS306", "warning", "onSave missing",
              "The settings modal calls onSave when the user installs or saves; it must return "
              "true or a Promise.", "Add onSave: function () { return true; }.")
KS307 = _rule("KS307", "error", "Callback is not a function",
              "A callback is set to a value that cannot be called (a string, number or "
              "boolean).", "Assign a function or a reference to one.")
KS308 = _rule("KS308", "error", "Development loader left in script.js",
              "The script loads code from localhost or a tunnel (ngrok, zrok, ...) used during "
              "development; in users' browsers that host is unreachable and the widget dies.",
              "Build the real script.js (or remove the dev switch) before packing.")
KS309 = _rule("KS309", "warning", "Development host mentioned in script.js",
              "A localhost or tunnel URL is still in the code; users cannot reach it.",
              "Remove it or keep it only behind a switch users never turn on.")
KS310 = _rule("KS310", "note", "Development switch in script.js",
              "The script can load code from localhost when a localStorage flag is set (the "
              "dev mode of Kommo's own CLI builds); users never set the flag.",
              "Nothing to do, unless you did not mean to ship the switch.")
# KS4xx: i18n
KS401 = _rule("KS401", "error", "i18n file missing for a listed locale",
              "Every locale in widget.locale needs i18n/<locale>.json.",
              "Add the file (copy another locale and translate it).")
KS402 = _rule("KS402", "error", "i18n file is not a valid JSON object",
              "Kommo cannot read the texts of this locale.",
              "Fix the JSON; the file is a nested object of texts.")
KS403 = _rule("KS403", "error", "i18n key referenced by the manifest is missing",
              "The manifest names its texts by i18n key; a missing key shows as the raw key or "
              "fails the upload.", "Add the key to the locale file.")
KS404 = _rule("KS404", "error", "i18n text an area needs is missing or empty",
              "Some areas are read by Kommo from the locale files directly (e.g. ai_agent reads "
              "widget.ai_agent_description in every locale).", "Add a non-empty text.")
KS405 = _rule("KS405", "warning", "i18n files differ in key structure",
              "Kommo requires the same keys in every locale file.",
              "Add the missing keys so all locale files match.")
KS406 = _rule("KS406", "warning", "Unknown locale",
              "Kommo supports en, es, pt, tr and id (amoCRM adds ru).",
              "Use a supported locale code.")
KS407 = _rule("KS407", "note", "amoCRM locale",
              "ru is an amoCRM locale; Kommo accounts do not offer it.",
              "Fine for amoCRM; add en/es/pt for Kommo.")
KS408 = _rule("KS408", "note", "i18n file for an unlisted locale",
              "The file is not in widget.locale, so Kommo never reads it.",
              "Add the locale to widget.locale or remove the file.")
# KS5xx: images
KS501 = _rule("KS501", "error", "Required logo missing",
              "Kommo rejects an archive without its logos (logo_dp.png too with "
              "digital_pipeline).", "Add the PNG at the exact size in the message.")
KS502 = _rule("KS502", "error", "Logo is not a PNG",
              "Kommo accepts PNG logos only.", "Save the logo as PNG.")
KS503 = _rule("KS503", "error", "Image cannot be read",
              "The file is damaged or not an image.", "Export the image again.")
KS504 = _rule("KS504", "error", "Logo has the wrong size",
              "Kommo requires exact pixel sizes for each logo.", "Resize to the size shown.")
KS505 = _rule("KS505", "error", "Logo at the pre-2018 amoCRM size",
              "Old amoCRM widgets used half-size logos (e.g. 120x42, 42x42); Kommo requires "
              "the current sizes.", "Re-export the logo at the size shown (twice the old one).")
KS506 = _rule("KS506", "error", "Image over 300 KB",
              "Kommo limits every image to 300 KB.", "Compress or shrink the image.")
# KS6xx: files and archive
KS601 = _rule("KS601", "error", "Text file is not UTF-8",
              "Kommo reads all text files as UTF-8.", "Re-save the file as UTF-8.")
KS602 = _rule("KS602", "error", "UTF-8 byte order mark",
              "Kommo requires UTF-8 without BOM; a BOM breaks JSON parsing.",
              "Re-save without BOM.")
KS603 = _rule("KS603", "warning", "CRLF line endings",
              "Kommo's checklist requires Unix LF line endings in text files.",
              "Convert to LF (e.g. `git config core.autocrlf input`, or your editor).")
KS604 = _rule("KS604", "warning", "Junk file in the archive",
              "The checklist says to remove unused files; editor, OS and VCS files do not "
              "belong in a widget.", "Build the archive with `kommo pack`, which leaves them out.")
KS605 = _rule("KS605", "error", "Unsafe path in the archive",
              "An entry with `..` or an absolute path could write outside its folder.",
              "Rebuild the archive from the widget folder (`kommo pack`).")
KS606 = _rule("KS606", "error", "Archive entry too large",
              "An entry is far beyond any widget file (a zip bomb or a wrong file); it was not "
              "read.", "Remove it from the archive.")
KS607 = _rule("KS607", "error", "Files inside a wrapping folder",
              "Kommo needs manifest.json at the root of the zip, not inside a folder.",
              "Zip the contents of the widget folder (`kommo pack` does).")
KS608 = _rule("KS608", "error", "Archive entry cannot be read",
              "The entry is damaged, encrypted or compressed with an unsupported method.",
              "Rebuild the archive with `kommo pack`.")
# KS7xx: public checklist
KS701 = _rule("KS701", "warning", "eval or new Function",
              "Kommo's checklist forbids eval and its relatives.",
              "Parse data with JSON.parse and call functions directly.")
KS702 = _rule("KS702", "warning", "Synchronous request",
              "The checklist forbids synchronous XHR (`async: false`): it freezes Kommo.",
              "Use asynchronous requests with callbacks or Promises.")
KS703 = _rule("KS703", "warning", "Script loaded outside define",
              "The checklist requires loading libraries through define/require, not injected "
              "<script> tags or $.getScript.", "List the library in define([...]).")
KS704 = _rule("KS704", "warning", "console output",
              "The checklist forbids console clutter (console.trace only inside catch).",
              "Remove console.log/debug/info calls.")
KS705 = _rule("KS705", "warning", "Write to APP",
              "Widgets may read Kommo's APP object but never change it.",
              "Keep your state in the widget, not on APP.")
KS706 = _rule("KS706", "warning", "Widget name too long",
              "The checklist limits the name to 30 characters and any word to 19.",
              "Shorten the name in every locale file.")
KS707 = _rule("KS707", "warning", "Short description too long",
              "The checklist limits the short description to 50 characters.",
              "Shorten it in every locale file.")
KS708 = _rule("KS708", "warning", "Description too long or with <script>",
              "The checklist limits the installation description to 400 characters and allows "
              "HTML but no <script>.", "Shorten it; use <a> links only.")
KS709 = _rule("KS709", "note", "Placeholder URL",
              "A URL points at a placeholder host (example.com); kommo-new writes these for "
              "back-end areas until you set your server.",
              "Replace it with your server's URL before uploading.")


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None

    @property
    def severity(self) -> Severity:
        return RULES[self.rule].severity

    def where(self) -> str:
        place = self.file or "."
        if self.line:
            place += f":{self.line}"
        if self.path:
            place += f" [{self.path}]"
        return place

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "title": RULES[self.rule].title,
                "message": self.message, "file": self.file, "line": self.line,
                "json_path": self.path, "docs": RULES[self.rule].anchor}


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

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def exit_code(self, strict: bool = False) -> int:
        if self.errors or (strict and self.warnings):
            return 1
        return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(report: Report) -> str:
    return ", ".join((_plural(report.count("error"), "error"),
                      _plural(report.count("warning"), "warning"),
                      _plural(report.count("note"), "note")))


_ORDER = {"error": 0, "warning": 1, "note": 2}


def format_report(report: Report, fmt: str) -> str:
    """The report as text (one line per finding, then a summary line) or JSON."""
    findings = sorted(report.findings, key=lambda f: (_ORDER[f.severity], f.file or "",
                                                      f.line or 0, f.rule))
    if fmt == "json":
        data = {"path": report.path, "kind": report.kind,
                "summary": {"errors": report.count("error"),
                            "warnings": report.count("warning"),
                            "notes": report.count("note")},
                "findings": [f.as_dict() for f in findings]}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    lines = [f"Checking {report.kind} {report.path} ({_plural(len(report.files), 'file')})"]
    for f in findings:
        lines.append(f"{f.where()}: {f.rule} {f.severity}: {f.message}  "
                     f"[{RULES[f.rule].anchor}]")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- reading


@dataclass
class Widget:
    """The widget's files, however they were stored, keyed by posix path from its root."""

    prefix: str  # shown before file names: "widget/" in a project, "" otherwise
    data: dict[str, bytes] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def label(self, name: str) -> str:
        return f"{self.prefix}{name}"


def _is_junk(parts: tuple[str, ...]) -> bool:
    name = parts[-1]
    return (any(p in JUNK_DIRS for p in parts[:-1]) or name in JUNK_FILES
            or name.endswith(JUNK_SUFFIXES) or name.startswith("._"))


def _read_folder(root: Path, prefix: str, report: Report) -> Widget:
    widget = Widget(prefix=prefix)
    total = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError as error:
            raise CheckUsageError(f"cannot read {folder}: {error.strerror}") from None
        for entry in entries:
            rel = entry.relative_to(root).as_posix()
            if entry.is_symlink():
                continue  # never follow links out of the widget
            if entry.is_dir():
                if entry.name not in JUNK_DIRS:
                    stack.append(entry)
                continue
            if _is_junk(tuple(rel.split("/"))) or not entry.is_file():
                continue
            if len(widget.sizes) >= MAX_FILES:
                raise CheckUsageError(f"{root} holds more than {MAX_FILES} files: not a widget")
            try:
                size = entry.stat().st_size
            except OSError as error:
                report.findings.append(Finding(KS608, f"cannot read: {error.strerror}",
                                               widget.label(rel)))
                continue
            widget.sizes[rel] = size
            if size > MAX_ENTRY_BYTES or total + size > MAX_TOTAL_BYTES:
                report.findings.append(Finding(KS606, f"{_kb(size)}: not read",
                                               widget.label(rel)))
                continue
            try:
                widget.data[rel] = entry.read_bytes()
            except OSError as error:
                report.findings.append(Finding(KS608, f"cannot read: {error.strerror}",
                                               widget.label(rel)))
                continue
            total += size
    return widget


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def _unsafe(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[\\/]", name)


def _read_zip(path: Path, report: Report) -> Widget:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise CheckUsageError(f"cannot read {path}: not a valid zip archive ({error})") from None
    widget = Widget(prefix="")
    total = 0
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_FILES:
            raise CheckUsageError(f"{path} holds {len(infos)} entries: not a widget")
        for info in infos:
            name = info.filename
            if _unsafe(name):
                report.findings.append(Finding(KS605, f"entry {name!r} escapes the archive "
                                               "root; not read", path.name))
                continue
            if info.is_dir():
                continue
            parts = tuple(p for p in name.split("/") if p not in ("", "."))
            if not parts:
                continue
            rel = "/".join(parts)
            if _is_junk(parts):
                report.findings.append(Finding(KS604, "editor, OS or VCS file in the archive",
                                               rel))
                continue
            widget.sizes[rel] = info.file_size
            if info.file_size > MAX_ENTRY_BYTES or total + info.file_size > MAX_TOTAL_BYTES:
                report.findings.append(Finding(
                    KS606, f"declares {_kb(info.file_size)} uncompressed; not read", rel))
                continue
            try:
                with archive.open(info) as stream:
                    # Do not trust the declared size: read at most one byte past the limit.
                    content = stream.read(MAX_ENTRY_BYTES + 1)
            except Exception as error:  # zlib, CRC, encryption, unsupported methods, ...
                report.findings.append(Finding(KS608, f"{type(error).__name__}: {error}", rel))
                continue
            if len(content) > MAX_ENTRY_BYTES:
                report.findings.append(Finding(KS606, "inflates past the size it declares; "
                                               "not read", rel))
                continue
            total += len(content)
            widget.data[rel] = content
    # A single wrapping folder: report it, then check what is inside.
    if "manifest.json" not in widget.sizes:
        tops = {name.split("/", 1)[0] for name in widget.sizes}
        if len(tops) == 1:
            top = tops.pop()
            if f"{top}/manifest.json" in widget.sizes:
                report.findings.append(Finding(
                    KS607, f"everything is inside {top}/; Kommo needs manifest.json at the "
                    "root of the zip", path.name))
                cut = len(top) + 1
                widget.data = {k[cut:]: v for k, v in widget.data.items()}
                widget.sizes = {k[cut:]: v for k, v in widget.sizes.items()}
    return widget


def locate(path: Path) -> tuple[str, Path, str]:
    """(kind, widget root or zip file, label prefix) for PATH; CheckUsageError if none."""
    if not path.exists():
        raise CheckUsageError(f"{path}: no such file or directory")
    if path.is_file():
        if path.name == "manifest.json":
            return "widget folder", path.parent, ""
        if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
            return "archive", path, ""
        raise CheckUsageError(f"{path} is neither a widget folder nor a .zip archive")
    if (path / "widget" / "manifest.json").is_file() and not (path / "manifest.json").exists():
        return "widget project", path / "widget", "widget/"
    if (path / "manifest.json").exists():
        return "widget folder", path, ""
    if (path / ".copier-answers.yml").is_file() and (path / "widget").is_dir():
        return "widget project", path / "widget", "widget/"
    raise CheckUsageError(f"{path} is not a widget: no manifest.json there nor in "
                          f"{path / 'widget'}")


def load(path: Path, report: Report) -> Widget:
    kind, root, prefix = locate(path)
    report.kind = kind
    if kind == "archive":
        return _read_zip(root, report)
    return _read_folder(root, prefix, report)


# --------------------------------------------------------------------------- helpers


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), "a value")


class _DuplicateKeys:
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


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def json_line(text: str, path: str) -> int | None:
    """Line of the value at dotted ``path`` (``a.b[2].c``) in JSON ``text``, or of the
    deepest part of it that exists; None if not even the first part does."""
    want = [p for p in re.split(r"\.|\[(\d+)\]", path) if p]
    stack: list[list[Any]] = []  # [container kind, current key or index]
    best: int | None = None
    line, last_end, expect_key = 1, 0, False
    for match in _JSON_TOKEN.finditer(text):
        line += text.count("\n", last_end, match.start())
        last_end = match.start()
        tok = match.group()
        if tok in "{[":
            if stack and stack[-1][0] == "[":
                stack[-1][1] += 1
            stack.append([tok, -1 if tok == "[" else None])
            expect_key = tok == "{"
            continue
        if tok in "}]":
            if stack:
                stack.pop()
            continue
        if tok == ",":
            expect_key = bool(stack) and stack[-1][0] == "{"
            continue
        if tok == ":":
            expect_key = False
            continue
        if expect_key and stack:
            try:
                stack[-1][1] = json.loads(tok)
            except ValueError:
                return best
            current = [str(frame[1]) for frame in stack]
            if current == want[:len(current)]:
                best = line
                if len(current) == len(want):
                    return line
            continue
        if stack and stack[-1][0] == "[":
            stack[-1][1] += 1
            current = [str(frame[1]) for frame in stack]
            if current == want[:len(current)]:
                best = line
                if len(current) == len(want):
                    return line
    return best


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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

    def add(self, rule: str, message: str, file: str | None = None, line: int | None = None,
            path: str | None = None) -> None:
        label = self.widget.label(file) if file is not None else None
        if line is None and path and file in self.texts and file.endswith(".json"):
            line = json_line(self.texts[file], path)
        self.report.findings.append(Finding(rule, message, label, line, path))

    @property
    def codes(self) -> list[str]:
        return [loc[0] for loc in self.locations if loc[0] in areas.AREA_BY_CODE]

    @property
    def script(self) -> Module | None:
        return self.modules.get("script.js")


# --------------------------------------------------------------------------- checks


def check_files(ctx: Context) -> None:
    """KS601-603: UTF-8 without BOM and LF line endings in every text file."""
    for name, content in sorted(ctx.widget.data.items()):
        if not name.lower().endswith(TEXT_SUFFIXES):
            continue
        if content.startswith(b"\xef\xbb\xbf"):
            ctx.add(KS602, "starts with a UTF-8 byte order mark", name, 1)
            content = content[3:]
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as error:
            line = content[:error.start].count(b"\n") + 1
            ctx.add(KS601, f"byte 0x{content[error.start]:02x} is not UTF-8 (binary file?)",
                    name, line)
            continue
        if "\x00" in text:
            ctx.add(KS601, "contains NUL bytes: a binary file, not text", name,
                    text[:text.index("\x00")].count("\n") + 1)
            continue
        crlf = text.count("\r\n")
        if crlf:
            line = text[:text.index("\r\n")].count("\n") + 1
            ctx.add(KS603, f"{_plural(crlf, 'line')} end with CRLF", name, line)
        ctx.texts[name] = text


def _load_json(ctx: Context, name: str, invalid_rule: str) -> tuple[bool, Any]:
    text = ctx.texts.get(name)
    if text is None:
        return False, None  # missing, or not text (KS601 says so)
    hook = _DuplicateKeys()
    try:
        value = json.loads(text, object_pairs_hook=hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        ctx.add(invalid_rule, f"{error.msg} (column {error.colno})", name, error.lineno)
        return False, None
    except (ValueError, RecursionError) as error:
        ctx.add(invalid_rule, str(error) or "not JSON", name)
        return False, None
    for key in dict.fromkeys(hook.duplicates):
        ctx.add(KS112, f"key {key!r} appears more than once; the last value wins", name)
    return True, value


def check_manifest(ctx: Context) -> None:
    """KS101-KS111: the manifest's syntax, required keys and types."""
    name = "manifest.json"
    if name not in ctx.widget.sizes:
        ctx.add(KS101, "no manifest.json at the widget root", name)
        return
    ok, manifest = _load_json(ctx, name, KS102)
    if not ok:
        return
    if not isinstance(manifest, dict):
        ctx.add(KS103, f"the top level is {_type_name(manifest)}, not an object", name)
        return
    ctx.manifest = manifest
    widget = manifest.get("widget")
    if "widget" not in manifest:
        ctx.add(KS104, "no `widget` block", name, path="widget")
    elif not isinstance(widget, dict):
        ctx.add(KS105, f"`widget` is {_type_name(widget)}; it must be an object", name,
                path="widget")
    else:
        _check_widget_block(ctx, widget, name)
    _check_settings(ctx, manifest, name)
    _read_locations(ctx, manifest, name)


def _check_widget_block(ctx: Context, widget: dict[str, Any], name: str) -> None:
    for key in ("name", "description", "short_description"):
        if key not in widget:
            ctx.add(KS104, f"widget.{key} is missing (an i18n key such as \"widget.{key}\")",
                    name, path=f"widget.{key}")
        elif not isinstance(widget[key], str):
            ctx.add(KS105, f"widget.{key} is {_type_name(widget[key])}; it must be a string",
                    name, path=f"widget.{key}")
    version = widget.get("interface_version")
    if "interface_version" not in widget:
        ctx.add(KS104, "widget.interface_version is missing; add \"interface_version\": 2",
                name, path="widget.interface_version")
    elif version != 2 or isinstance(version, bool):
        hint = " (a string; write the number 2)" if version == "2" else ""
        ctx.add(KS106, f"widget.interface_version is {json.dumps(version)}{hint}", name,
                path="widget.interface_version")
    locale = widget.get("locale")
    if "locale" not in widget:
        ctx.add(KS104, "widget.locale is missing (e.g. [\"en\"])", name, path="widget.locale")
    elif not isinstance(locale, list) or not all(isinstance(x, str) for x in locale):
        ctx.add(KS105, f"widget.locale is {_type_name(locale)}; it must be a list of locale "
                "codes", name, path="widget.locale")
    elif not locale:
        ctx.add(KS104, "widget.locale is empty; list at least one locale", name,
                path="widget.locale")
    if "installation" not in widget:
        ctx.add(KS104, "widget.installation is missing (true shows the settings form)", name,
                path="widget.installation")
    elif not isinstance(widget["installation"], bool):
        ctx.add(KS105, f"widget.installation is {json.dumps(widget['installation'])}; it must "
                "be true or false", name, path="widget.installation")
    if "init_once" in widget:
        value = widget["init_once"]
        if isinstance(value, str) and value.upper() in ("Y", "N"):
            ctx.add(KS107, f"init_once is \"{value}\"; write {str(value.upper() == 'Y').lower()}",
                    name, path="widget.init_once")
        elif not isinstance(value, bool):
            ctx.add(KS105, f"widget.init_once is {json.dumps(value)}; it must be true or false",
                    name, path="widget.init_once")
    if "version" not in widget:
        ctx.add(KS108, "no widget.version; Kommo caches files by version", name,
                path="widget.version")
    elif not isinstance(widget["version"], str):
        ctx.add(KS105, f"widget.version is {_type_name(widget['version'])}; write a string "
                "such as \"1.0.0\"", name, path="widget.version")
    legacy = [k for k in ("code", "secret_key") if k in widget]
    if legacy:
        ctx.add(KS111, f"widget.{' and widget.'.join(legacy)}: amoCRM legacy keys", name,
                path=f"widget.{legacy[0]}")


def _check_settings(ctx: Context, manifest: dict[str, Any], name: str) -> None:
    widget = _dict(manifest.get("widget"))
    settings = manifest.get("settings")
    if settings is None:
        if widget.get("installation") is True:
            ctx.add(KS109, "installation is true but there is no `settings` block", name,
                    path="settings")
        return
    blocks: list[tuple[str, Any]] = [("settings", settings)]
    if isinstance(manifest.get("dp"), dict) and "settings" in manifest["dp"]:
        blocks.append(("dp.settings", manifest["dp"]["settings"]))
    for where, block in blocks:
        if isinstance(block, list) and not block:
            continue  # PHP-style empty object
        if not isinstance(block, dict):
            ctx.add(KS105, f"{where} is {_type_name(block)}; it must be an object of fields",
                    name, path=where)
            continue
        for code, spec in block.items():
            path = f"{where}.{code}"
            if not isinstance(spec, dict):
                ctx.add(KS105, f"{path} is {_type_name(spec)}; a field is an object with name "
                        "and type", name, path=path)
                continue
            for key in ("name", "type"):
                if key not in spec:
                    ctx.add(KS104, f"{path}.{key} is missing", name, path=f"{path}.{key}")
            kind = spec.get("type")
            if where == "settings" and "type" in spec and kind not in areas.SETTINGS_FIELD_TYPES:
                ctx.add(KS110, f"{path}.type is {json.dumps(kind)}; use one of "
                        f"{', '.join(areas.SETTINGS_FIELD_TYPES)}", name, path=f"{path}.type")


def _read_locations(ctx: Context, manifest: dict[str, Any], name: str) -> None:
    if "locations" not in manifest:
        ctx.add(KS104, "`locations` is missing (e.g. [\"lcard-1\", \"settings\"])", name,
                path="locations")
        return
    raw = manifest["locations"]
    strings: list[tuple[int, str]] = []
    if isinstance(raw, dict):
        # Old widgets wrote {"lcard": 1}: keep 0/1 as the panel flag where the area takes one.
        values = [f"{k}-{int(v)}" if _takes_flag(k) and str(v) in ("0", "1") and v is not True
                  and v is not False else k for k, v in raw.items()]
        listed = ", ".join(json.dumps(v) for v in values[:6])
        ctx.add(KS201, f"`locations` is an object; write an array such as [{listed}]", name,
                path="locations")
        strings = [(i, v) for i, v in enumerate(values) if isinstance(v, str)]
    elif not isinstance(raw, list):
        ctx.add(KS105, f"`locations` is {_type_name(raw)}; it must be a list of strings", name,
                path="locations")
        return
    else:
        for index, value in enumerate(raw):
            if isinstance(value, str):
                strings.append((index, value))
            else:
                ctx.add(KS105, f"locations[{index}] is {_type_name(value)}; it must be a "
                        "string", name, path=f"locations[{index}]")
    for index, value in strings:
        match = _LOCATION.match(value.strip())
        if match:
            ctx.locations.append((match.group(1), match.group(2), value, index))
        else:
            ctx.locations.append((value, None, value, index))


def _takes_flag(code: str) -> bool:
    area = areas.AREA_BY_CODE.get(code)
    return area is not None and area.takes_panel_flag


def check_locations(ctx: Context) -> None:
    """KS202-KS213, KS216: known areas, panel flags, and what each area needs."""
    if ctx.manifest is None or "locations" not in ctx.manifest:
        return
    name = "manifest.json"
    known = set(areas.AREA_CODES) | set(areas.EXTRA_KNOWN_LOCATIONS)
    if not ctx.locations and isinstance(ctx.manifest["locations"], list):
        ctx.add(KS208, "`locations` is empty: the widget loads nowhere", name, path="locations")
    seen: set[str] = set()
    flags: dict[str, list[str]] = {}
    for code, flag, raw, index in ctx.locations:
        path = f"locations[{index}]"
        if raw in seen:
            ctx.add(KS205, f"{raw!r} is listed twice", name, path=path)
            continue
        seen.add(raw)
        if code not in known:
            guess = difflib.get_close_matches(code.replace("-", "_"), sorted(known), n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            ctx.add(KS202, f"unknown location {raw!r}{hint}", name, path=path)
            continue
        area = areas.AREA_BY_CODE.get(code)
        takes_flag = area is not None and area.takes_panel_flag
        if flag is not None and not takes_flag:
            ctx.add(KS203, f"{raw!r}: {code} never takes a -0/-1 suffix; write {code!r}", name,
                    path=path)
        elif flag is not None and flag not in ("0", "1"):
            ctx.add(KS203, f"{raw!r}: the panel flag is -0 or -1", name, path=path)
        elif takes_flag and flag is None:
            ctx.add(KS206, f"{raw!r} has no -0/-1; write {code}-1 (panel) or {code}-0", name,
                    path=path)
        flags.setdefault(code, []).append(raw)
        if code in areas.LEGACY_AREAS or code in areas.EXTRA_KNOWN_LOCATIONS:
            ctx.add(KS207, f"{code!r} exists on amoCRM and legacy Kommo accounts only", name,
                    path=path)
    for forms in flags.values():
        if len(set(forms)) > 1:
            ctx.add(KS204, f"{' and '.join(repr(f) for f in forms)}: keep one", name,
                    path="locations")
    _check_area_needs(ctx)


def _check_area_needs(ctx: Context) -> None:
    name = "manifest.json"
    manifest = ctx.manifest or {}
    codes = ctx.codes
    for code in dict.fromkeys(codes):
        area = areas.AREA_BY_CODE[code]
        if area.requires_any and not set(area.requires_any) & set(codes):
            ctx.add(KS209, f"{code} needs one of {', '.join(area.requires_any)} in locations",
                    name, path="locations")
        if area.manifest_block:
            block = manifest.get(area.manifest_block)
            if block is None:
                ctx.add(KS210, f"{code} needs the `{area.manifest_block}` block", name,
                        path=area.manifest_block)
            elif not isinstance(block, dict):
                ctx.add(KS105, f"`{area.manifest_block}` is {_type_name(block)}; it must be an "
                        "object", name, path=area.manifest_block)
            else:
                for key in area.manifest_keys:
                    dotted = f"{area.manifest_block}.{key}"
                    if key not in block:
                        rule = KS212 if dotted in OPTIONAL_BLOCK_KEYS else KS211
                        ctx.add(rule, f"{code}: {dotted} is missing", name, path=dotted)
                    elif isinstance(block[key], str) and not block[key].strip():
                        ctx.add(KS211, f"{code}: {dotted} is empty", name, path=dotted)
    used_blocks = {areas.AREA_BY_CODE[c].manifest_block for c in codes}
    for area in areas.AREAS:
        block = area.manifest_block
        if block and block in manifest and block not in used_blocks:
            ctx.add(KS213, f"`{block}` configures {area.code}, which is not in locations",
                    name, path=block)
    _check_referenced_files(ctx, manifest)


def _check_referenced_files(ctx: Context, manifest: dict[str, Any]) -> None:
    refs: list[tuple[str, str]] = []
    for code, item in _dict(manifest.get("left_menu")).items():
        icon = _dict(item).get("icon")
        if isinstance(icon, str) and icon:
            refs.append((f"left_menu.{code}.icon", icon))
    for locale, images in _dict(_dict(manifest.get("tour")).get("tour_images")).items():
        for index, image in enumerate(images if isinstance(images, list) else []):
            if isinstance(image, str):
                refs.append((f"tour.tour_images.{locale}[{index}]", image))
    for path, ref in refs:
        if re.match(r"^(https?:)?//", ref):
            continue
        rel = re.sub(r"^(/?widgets/[^/]+/)|^/+", "", ref.split("?", 1)[0])
        if rel not in ctx.widget.sizes:
            ctx.add(KS216, f"{path} points at {ref!r}, which is not in the widget",
                    "manifest.json", path=path)


def check_scripts(ctx: Context) -> None:
    """KS301-KS309: script.js parses, is an AMD module, has the callbacks; dev loaders."""
    for name, text in sorted(ctx.texts.items()):
        if not name.endswith(".js"):
            continue
        try:
            ctx.modules[name] = parse_module(text)
        except JSSyntaxError as error:
            ctx.add(KS302, error.message, name, error.line)
        except RecursionError:
            ctx.add(KS302, "nested too deeply to read", name)
    if "script.js" not in ctx.widget.sizes:
        ctx.add(KS301, "no script.js: no callback will run", "script.js")
        return
    module = ctx.script
    if module is None:
        return  # not text, or a syntax error: already reported
    if _check_dev_hosts(ctx, "script.js", module):
        return  # a dev loader: its missing callbacks are the same problem
    if module.define_line is None:
        ctx.add(KS303, "no define(...) call: RequireJS cannot load it", "script.js")
        return
    callbacks = module.callbacks
    if callbacks is None:
        ctx.add(KS304, "no `this.callbacks = {...}` or `callbacks: {...}` found", "script.js",
                module.define_line)
        return
    if callbacks.open_ended:
        return  # spread or computed keys: we cannot see every name
    for needed in CORE_CALLBACKS:
        if needed not in callbacks.entries:
            ctx.add(KS305, f"callbacks has no {needed}", "script.js", callbacks.line)
    installation = _dict(_dict(ctx.manifest).get("widget")).get("installation")
    if "onSave" not in callbacks.entries and installation is True:
        ctx.add(KS306, "callbacks has no onSave, which the settings modal calls", "script.js",
                callbacks.line)
    wanted = set(CORE_CALLBACKS) | {"onSave"}
    for code in ctx.codes:
        wanted |= set(areas.AREA_BY_CODE[code].callbacks)
    for name in sorted(wanted):
        if callbacks.entries.get(name) == "other":
            ctx.add(KS307, f"callbacks.{name} is not a function", "script.js", callbacks.line)
    for code in dict.fromkeys(ctx.codes):
        area = areas.AREA_BY_CODE[code]
        for needed in area.callbacks:
            if needed in callbacks.entries:
                continue
            aliases = [a for a in area.alias_callbacks if a in callbacks.entries]
            if aliases:
                ctx.add(KS215, f"{code}: {aliases[0]} is defined but not {needed} (Kommo's "
                        "name); point both at one function", "script.js", callbacks.line)
                continue
            also = "".join(f" (or {a})" for a in area.alias_callbacks)
            ctx.add(KS214, f"{code} needs callbacks.{needed}{also}", "script.js",
                    callbacks.line)


def _loads_code(module: Module, index: int) -> bool:
    """Is the string at tokens[index] a script the module loads (not just a URL it calls)?"""
    tokens, value = module.tokens, module.tokens[index].value
    before = [t.value for t in tokens[max(0, index - 2):index]]
    return (value in module.dependencies or value in module.requires
            or before == ["src", "="]
            or (len(before) == 2 and before[1] == "("
                and before[0] in ("getScript", "importScripts", "import", "loadScript")))


def _check_dev_hosts(ctx: Context, name: str, module: Module) -> bool:
    """Report a dev host; True when the file is nothing but a dev loader."""
    # A script without callbacks of its own that mentions a dev host is a dev loader.
    callbacks = module.callbacks
    loader = callbacks is None or not (callbacks.entries or callbacks.open_ended)
    dev_switch = any(t.kind == "name" and t.value in ("localStorage", "sessionStorage")
                     for t in module.tokens)
    for index, token in enumerate(module.tokens):
        if token.kind not in ("string", "template"):
            continue
        match = _DEV_HOST.search(token.value)
        if not match:
            continue
        host, shown = match.group(1), token.value[:80]
        if loader or (_loads_code(module, index) and not dev_switch):
            ctx.add(KS308, f"loads code from {host} ({shown})", name, token.line)
            return loader
        if dev_switch:
            ctx.add(KS310, f"{host} behind a localStorage switch ({shown})", name, token.line)
        else:
            ctx.add(KS309, f"{host} in {shown!r}", name, token.line)
        return False  # one finding per file is enough
    return False


def check_i18n(ctx: Context) -> None:
    """KS401-KS408: one file per locale, same keys, every referenced key present."""
    manifest = ctx.manifest
    if manifest is None:
        return
    locale = _dict(manifest.get("widget")).get("locale")
    locales = [x for x in locale if isinstance(x, str)] if isinstance(locale, list) else []
    for code in dict.fromkeys(locales):
        file = f"i18n/{code}.json"
        if code in AMOCRM_LOCALES:
            ctx.add(KS407, f"{code!r} is an amoCRM locale", "manifest.json",
                    path="widget.locale")
        elif code not in areas.LOCALES:
            ctx.add(KS406, f"unknown locale {code!r}", "manifest.json", path="widget.locale")
        if file not in ctx.widget.sizes:
            ctx.add(KS401, f"widget.locale lists {code!r} but {file} is missing", file)
            continue
        ok, data = _load_json(ctx, file, KS402)
        if ok and not isinstance(data, dict):
            ctx.add(KS402, f"the top level is {_type_name(data)}, not an object", file)
        elif ok:
            ctx.i18n[code] = data
    for name in sorted(ctx.widget.sizes):
        match = re.fullmatch(r"i18n/([^/]+)\.json", name)
        if match and match.group(1) not in locales:
            ctx.add(KS408, f"{match.group(1)!r} is not in widget.locale", name)
    refs = manifest_i18n_refs(manifest)
    area_keys = [key for code in dict.fromkeys(ctx.codes)
                 for key in areas.AREA_BY_CODE[code].i18n_keys if key.startswith("widget.")]
    structures = {code: flatten(data) for code, data in ctx.i18n.items()}
    for code, data in ctx.i18n.items():
        file = f"i18n/{code}.json"
        for key, used_by in refs.items():
            found, value = lookup(data, key)
            if not found:
                ctx.add(KS403, f"{key} is missing (used by manifest {used_by})", file, path=key)
            elif isinstance(value, dict):
                ctx.add(KS403, f"{key} is an object; {used_by} needs a text", file, path=key)
        for key in area_keys:
            found, value = lookup(data, key)
            if not found or not isinstance(value, str) or not value.strip():
                areas_needing = [c for c in ctx.codes if key in areas.AREA_BY_CODE[c].i18n_keys]
                ctx.add(KS404, f"{key} must be a non-empty text ({', '.join(areas_needing)})",
                        file, path=key)
    if len(structures) > 1:
        union = set().union(*structures.values())
        for code, keys in structures.items():
            missing = sorted(union - set(keys))
            if missing:
                shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
                ctx.add(KS405, f"{_plural(len(missing), 'key')} other locales have: {shown}",
                        f"i18n/{code}.json")


def manifest_i18n_refs(manifest: dict[str, Any]) -> dict[str, str]:
    """i18n key -> the manifest path that uses it (only values shaped like dotted keys)."""
    refs: dict[str, str] = {}

    def add(value: Any, path: str) -> None:
        if isinstance(value, str) and _I18N_KEY.match(value) and value not in refs:
            refs[value] = path

    widget = _dict(manifest.get("widget"))
    for key in ("name", "description", "short_description"):
        add(widget.get(key), f"widget.{key}")
    add(_dict(manifest.get("tour")).get("tour_description"), "tour.tour_description")
    for code, spec in _dict(manifest.get("settings")).items():
        add(_dict(spec).get("name"), f"settings.{code}.name")
    add(_dict(manifest.get("advanced")).get("title"), "advanced.title")
    for code, spec in _dict(_dict(manifest.get("dp")).get("settings")).items():
        add(_dict(spec).get("name"), f"dp.settings.{code}.name")
    for handler, spec in _dict(manifest.get("salesbot_designer")).items():
        add(_dict(spec).get("name"), f"salesbot_designer.{handler}.name")
        for code, field_spec in _dict(_dict(spec).get("settings")).items():
            add(_dict(field_spec).get("name"), f"salesbot_designer.{handler}.settings.{code}.name")
    for item, spec in _dict(manifest.get("left_menu")).items():
        add(_dict(spec).get("title"), f"left_menu.{item}.title")
        for sub, sub_spec in _dict(_dict(spec).get("submenu")).items():
            add(_dict(sub_spec).get("title"), f"left_menu.{item}.submenu.{sub}.title")
    return refs


# Legacy (pre-2018, non-retina) amoCRM logos were exactly half today's size.
def _legacy_size(size: tuple[int, int], wanted: tuple[int, int]) -> bool:
    return (size[0] * 2, size[1] * 2) == wanted


def check_images(ctx: Context) -> None:
    """KS501-KS506: the logos the areas need, PNG, exact sizes, under 300 KB."""
    codes = ctx.codes
    for name, wanted in areas.logos_for(codes).items():
        file = f"images/{name}"
        if file not in ctx.widget.sizes:
            ctx.add(KS501, f"{name} ({wanted[0]}x{wanted[1]}) is missing", file)
            continue
        content = ctx.widget.data.get(file)
        if content is None:
            continue  # too large to read: KS606
        if not content.startswith(b"\x89PNG\r\n\x1a\n"):
            ctx.add(KS502, f"{name} is not a PNG file", file)
            continue
        size = _image_size(content)
        if size is None:
            ctx.add(KS503, f"{name} is not a readable PNG", file)
        elif size != wanted:
            w, h = wanted
            if _legacy_size(size, wanted):
                ctx.add(KS505, f"{name} is {size[0]}x{size[1]}, the pre-2018 size; Kommo needs "
                        f"{w}x{h}", file)
            else:
                ctx.add(KS504, f"{name} is {size[0]}x{size[1]}; Kommo needs {w}x{h}", file)
    for file, byte_count in sorted(ctx.widget.sizes.items()):
        is_image = file.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"))
        if is_image and byte_count > areas.MAX_IMAGE_BYTES:
            ctx.add(KS506, f"{_kb(byte_count)}; the limit is {_kb(areas.MAX_IMAGE_BYTES)}", file)


def _image_size(content: bytes) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            size = image.size
            image.verify()
        return size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError):
        return None


def _dev_and_checklist_tokens(module: Module) -> Iterator[tuple[str, str, int]]:
    """(rule, message, line) for checklist patterns in one module's tokens."""
    tokens = module.tokens
    count = len(tokens)

    def value(i: int) -> str:
        return tokens[i].value if 0 <= i < count else ""

    console_lines: list[int] = []
    for i, token in enumerate(tokens):
        v = token.value
        if token.kind == "name":
            prev = value(i - 1)
            if v == "eval" and value(i + 1) == "(" and (prev != "." or value(i - 2) == "window"):
                yield KS701, "eval(...)", token.line
            elif v == "Function" and prev == "new":
                yield KS701, "new Function(...)", token.line
            elif (v in ("setTimeout", "setInterval") and value(i + 1) == "("
                  and tokens[i + 2].kind in ("string", "template") if i + 2 < count else False):
                yield KS701, f"{v} with a string of code", token.line
            elif v == "async" and value(i + 1) == ":" and value(i + 2) == "false":
                yield KS702, "async: false", token.line
            elif v == "createElement" and value(i + 1) == "(" and value(i + 2).lower() == "script":
                yield KS703, "document.createElement('script')", token.line
            elif v == "getScript" and prev == "." and value(i + 1) == "(":
                yield KS703, "$.getScript(...)", token.line
            elif (v == "console" and value(i + 1) == "." and value(i + 3) == "("
                  and value(i + 2) in ("log", "debug", "info", "dir", "table", "time")):
                console_lines.append(token.line)
            elif v == "APP" and prev != "." and value(i + 1) == ".":
                j = i + 1
                while value(j) == "." and j + 1 < count and tokens[j + 1].kind == "name":
                    j += 2
                if value(j) in ("=", "+=", "-=", "||=", "&&=", "??="):
                    yield KS705, "assigns to APP", token.line
        elif token.kind in ("string", "template") and re.search(r"(?i)<script\b", v):
            yield KS703, "a <script> tag in a string", token.line
    if console_lines:
        yield KS704, f"{_plural(len(console_lines), 'console call')}", console_lines[0]


def check_checklist(ctx: Context) -> None:
    """KS701-KS709: Kommo's public checklist rules and placeholders."""
    for name, module in sorted(ctx.modules.items()):
        seen: set[str] = set()
        for rule, message, line in _dev_and_checklist_tokens(module):
            if rule in seen and rule != KS701:
                continue  # one finding per rule per file keeps the report readable
            seen.add(rule)
            ctx.add(rule, message, name, line)
        if name != "script.js":
            _check_dev_hosts(ctx, name, module)
        for token in module.strings():
            match = _PLACEHOLDER_HOST.match(token.value)
            if match:
                ctx.add(KS709, f"{token.value} is a placeholder", name, token.line)
    if ctx.manifest is not None:
        for path, value in _walk(ctx.manifest):
            if isinstance(value, str) and _PLACEHOLDER_HOST.match(value):
                ctx.add(KS709, f"{value} is a placeholder", "manifest.json", path=path)
    refs = manifest_i18n_refs(ctx.manifest or {})
    texts = {"widget.name": KS706, "widget.short_description": KS707,
             "widget.description": KS708}
    widget = _dict(_dict(ctx.manifest).get("widget"))
    for code, data in ctx.i18n.items():
        file = f"i18n/{code}.json"
        for manifest_key, rule in texts.items():
            key = widget.get(manifest_key.split(".")[1])
            if not isinstance(key, str) or key not in refs:
                continue
            found, text = lookup(data, key)
            if not found or not isinstance(text, str):
                continue
            problem = {KS706: listing.name_problem, KS707: listing.short_description_problem,
                       KS708: listing.description_problem}[rule](text)
            if problem:
                ctx.add(rule, problem, file, path=key)


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")
    else:
        yield path, node


CHECKS: tuple[Callable[[Context], None], ...] = (
    check_files, check_manifest, check_locations, check_scripts, check_i18n, check_images,
    check_checklist,
)


def check_path(path: Path) -> Report:
    """Check a kommo-new project, a widget folder or a widget.zip."""
    report = Report(path=str(path), kind="widget")
    widget = load(Path(path), report)
    report.files = sorted(widget.sizes)
    ctx = Context(widget=widget, report=report)
    for check in CHECKS:
        try:
            check(ctx)
        except RecursionError:
            ctx.add(KS001, f"{check.__name__}: input nested too deeply")
        except Exception as error:  # never crash on odd input; say which check gave up
            ctx.add(KS001, f"{check.__name__}: {type(error).__name__}: {error}")
    return report


# --------------------------------------------------------------------------- docs


def rules_markdown() -> str:
    """docs/checker-rules.md, generated from RULES."""
    groups = {"KS0": "The checker", "KS1": "manifest.json", "KS2": "Locations and areas",
              "KS3": "script.js", "KS4": "i18n", "KS5": "Images", "KS6": "Files and archive",
              "KS7": "Public checklist"}
    out = [
        "# kommo check: rules",
        "",
        "<!-- Generated by `python -m kommo_scaffold.check --docs > docs/checker-rules.md`; "
        "do not edit by hand. -->",
        "",
        "`kommo check [PATH]` reads a kommo-new project, a widget folder (manifest.json at its "
        "root) or a widget.zip and reports what Kommo would reject before you upload it.",
        "",
        "* **error**: Kommo would reject the upload or the widget cannot work. Exit code 1.",
        "* **warning**: Kommo's public-integration checklist, or a likely mistake. "
        "Fails only with `--strict`.",
        "* **note**: fine, but worth knowing (amoCRM legacy, placeholders). Never fails.",
        "",
        "Exit codes: 0 no errors, 1 errors (or warnings with `--strict`), 2 PATH cannot be read. "
        "`--format json` prints the same findings as JSON. What each connection area needs "
        "(callbacks, manifest blocks, logos, i18n keys) comes from `kommo_scaffold/areas.py`.",
        "",
        "| ID | Severity | Rule |",
        "|---|---|---|",
    ]
    out += [f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {r.title} |" for r in RULES.values()]
    current = ""
    for rule in RULES.values():
        if rule.id[:3] != current:
            current = rule.id[:3]
            out += ["", f"## {current}xx: {groups[current]}"]
        out += ["", f'<a id="{rule.id.lower()}"></a>', "", f"### {rule.id}: {rule.title}", "",
                f"Severity: **{rule.severity}**", "", f"Why: {rule.why}", "",
                f"Fix: {rule.fix}"]
    return "\n".join(out) + "\n" + DOCS_APPENDIX


DOCS_APPENDIX = """
## Notes

* amoCRM widgets are first-class input. `ru`, `widget.code`/`widget.secret_key`,
  `cucard`/`culist`/`whatsapp_modal`, `tasks.selected` for the tasks list are notes, never
  errors. Pre-2018 half-size logos (120x42, 42x42, ...), `init_once: "Y"` and `locations`
  written as an object each get their own finding that says what to write instead.
* script.js is read by a tokenizer (`kommo_scaffold/jsparse.py`), not grepped: text in
  comments and strings never counts as code, callbacks may be functions, method shorthand,
  arrows or references (`selected: onTasksSelected`, `_.bind(fn, this)`), nested objects
  give dotted names (`leads.selected`). A callbacks object with a spread (`...base`) or a
  computed key is not checked for missing callbacks.
* A script that only loads code from localhost or a tunnel (ngrok, zrok, localtunnel,
  cloudflared) is an error and `kommo pack` refuses it; a localhost URL behind a
  `localStorage` switch (the dev mode of Kommo's CLI builds) is a note.
* `kommo pack` runs the checker first and refuses on errors unless `--force`; `--bump` edits
  only the version value in manifest.json and only once the check has passed.
"""


def _main(argv: list[str]) -> int:
    if argv == ["--docs"]:
        sys.stdout.write(rules_markdown())
        return 0
    sys.stderr.write("usage: python -m kommo_scaffold.check --docs\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))


__all__ = ["RULES", "CheckUsageError", "Finding", "Report", "Rule", "check_path",
           "format_report"]
