"""KS701-KS709: Kommo's public-integration checklist (no eval, no synchronous requests, no
injected scripts, no console clutter, no writes to APP, text limits) and placeholder URLs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kommo_scaffold.catalog import listing
from kommo_scaffold.check import hosts
from kommo_scaffold.check.context import Context, as_dict, lookup
from kommo_scaffold.check.i18n import manifest_i18n_refs
from kommo_scaffold.check.js.parser import Module
from kommo_scaffold.check.manifest import ENDPOINTS
from kommo_scaffold.check.registry import by_answer, rule
from kommo_scaffold.check.report import plural

_SCRIPT_TAG = re.compile(rb"(?i)<script\b")

KS701 = rule("KS701", "warning", "eval or new Function",
             "Kommo's checklist forbids eval and its relatives.",
             "Parse data with JSON.parse and call functions directly.")
KS702 = rule("KS702", "warning", "Synchronous request",
             "The checklist forbids synchronous XHR (`async: false`): it freezes Kommo.",
             "Use asynchronous requests with callbacks or Promises.")
KS703 = rule("KS703", "warning", "Script loaded outside define",
             "The checklist requires loading libraries through define/require, not injected "
             "<script> tags or $.getScript.", "List the library in define([...]).")
KS704 = rule("KS704", "warning", "console output",
             "The checklist forbids console clutter (console.trace only inside catch).",
             "Remove console.log/debug/info calls.")
KS705 = rule("KS705", "warning", "Write to APP",
             "Widgets may read Kommo's APP object but never change it.",
             "Keep your state in the widget, not on APP.")
KS706 = rule("KS706", "warning", "Widget name too long",
             "The checklist limits the name to 30 characters and any word to 19.",
             "Shorten the name in every locale file: " + by_answer("'widget_name=...'")
             + ".")
KS707 = rule("KS707", "warning", "Short description too long",
             "The checklist limits the short description to 50 characters.",
             "Shorten it in every locale file: " + by_answer("'short_description=...'")
             + ".")
KS708 = rule("KS708", "warning", "Description too long or with <script>",
             "The checklist limits the installation description to 400 characters and allows "
             "HTML but no <script>.",
             "Shorten it; use <a> links only: " + by_answer("'widget_description=...'") + ".")
KS709 = rule("KS709", "note", "Placeholder URL",
             "A URL points at a placeholder host (example.com); kommo-new writes these for "
             "back-end areas until you set your server.",
             "Replace it with your server's URL before uploading (in a project, through "
             "the answer that wrote it: backend_url, support_link...): "
             + by_answer("backend_url=https://...") + ".")


# Query pattern (kommo_scaffold.check.js.parser.PATTERNS) -> (rule, what the message says).
_PATTERN_RULES = {
    "eval": ("KS701", "eval(...)"), "new_function": ("KS701", "new Function(...)"),
    "timer_string": ("KS701", "setTimeout/setInterval with a string of code"),
    "sync_request": ("KS702", "async: false"),
    "script_element": ("KS703", "document.createElement('script')"),
    "get_script": ("KS703", "$.getScript(...)"),
    "app_write": ("KS705", "assigns to APP"),
}


def _module_findings(module: Module) -> Iterator[tuple[str, str, int]]:
    """(rule, message, line) for the checklist patterns in one module."""
    for pattern, (rule_id, message) in _PATTERN_RULES.items():
        for node in module.nodes(pattern):
            yield rule_id, message, node.start_point.row + 1
    for _, found in module.search(_SCRIPT_TAG):
        yield "KS703", "a <script> tag in a string", found.line
        break
    console = module.nodes("console")
    if console:
        yield "KS704", plural(len(console), "console call"), console[0].start_point.row + 1


def check_checklist(ctx: Context) -> None:
    """KS701-KS709 in every JavaScript module, the manifest and the i18n texts."""
    for name, module in sorted(ctx.modules.items()):
        seen: set[str] = set()
        for rule_id, message, line in sorted(_module_findings(module), key=lambda f: f[2]):
            if rule_id in seen and rule_id != KS701:
                continue  # one finding per rule per file keeps the report readable
            seen.add(rule_id)
            ctx.add(rule_id, message, name, line)
        for match, host in hosts.urls_in(module.source):
            found = module.literal_at(match.start()) if hosts.placeholder(host) else None
            if found is not None:
                ctx.add(KS709, f"{found.value[:80]} is a placeholder", name, found.line)
    if ctx.manifest is not None:
        endpoints = {f"{block}.{key}" for block, key in ENDPOINTS}
        for path, value in _walk(ctx.manifest):
            if (isinstance(value, str) and path not in endpoints
                    and hosts.placeholder(hosts.host_of(value))):
                ctx.add(KS709, f"{value} is a placeholder", "manifest.json", path=path)
    _check_texts(ctx)


def _check_texts(ctx: Context) -> None:
    refs = manifest_i18n_refs(ctx.manifest or {})
    texts = {"name": (KS706, listing.name_problem),
             "short_description": (KS707, listing.short_description_problem),
             "description": (KS708, listing.description_problem)}
    widget = as_dict(as_dict(ctx.manifest).get("widget"))
    for code, data in ctx.i18n.items():
        file = f"i18n/{code}.json"
        for manifest_key, (rule_id, problem_of) in texts.items():
            key = widget.get(manifest_key)
            if not isinstance(key, str) or key not in refs:
                continue
            found, text = lookup(data, key)
            if not found or not isinstance(text, str):
                continue
            problem = problem_of(text)
            if problem:
                ctx.add(rule_id, problem, file, path=key)


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    stack: list[tuple[str, Any]] = [(path, node)]
    while stack:
        here, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{here}.{k}" if here else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{here}[{i}]", v) for i, v in enumerate(value))
        else:
            yield here, value
