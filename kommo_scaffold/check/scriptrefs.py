"""KS308-KS310, KS312, KS315: what a widget's JavaScript points at: development hosts,
unresolved build placeholders, and Kommo's own DOM and API addressed with a hard-coded
widget code."""

from __future__ import annotations

import re

from kommo_scaffold.check import hosts
from kommo_scaffold.check.context import BOM, Context
from kommo_scaffold.check.js.parser import Module, Node, StringLiteral
from kommo_scaffold.check.registry import rule

KS308 = rule("KS308", "error", "Development loader left in script.js",
             "The script loads code from a development host: this machine, a private "
             "network, or a tunnel or ephemeral preview (ngrok, zrok, trycloudflare, loca.lt, "
             "a Codespaces port...). Users' browsers cannot reach it, or it dies with the "
             "developer's session, and the widget with it.",
             "Build the real script.js (or gate the dev loader behind a switch) before "
             "packing.",
             example="define(['https://4f2a.ngrok-free.app/script.js'], w => w);")
KS309 = rule("KS309", "warning", "Development host mentioned in script.js",
             "A localhost, private or tunnel URL is still in the code; users cannot reach it.",
             "Remove it or keep it only behind a switch users never turn on.",
             example="$.get('http://localhost:8080/api/notes')")
KS310 = rule("KS310", "note", "Development switch in script.js",
             "The script can load code from localhost when a localStorage flag is set (the "
             "dev mode of Kommo's own CLI builds); users never set the flag.",
             "Nothing to do, unless you did not mean to ship the switch.",
             example="localStorage.getItem('w_is_dev') ? define(['http://localhost:9000/"
             "script.js'], m => m) : define([...], factory)")
KS312 = rule("KS312", "error", "Unresolved build placeholder",
             "The file still holds a placeholder a build step should have replaced "
             "({{BASE_PATH}}, @entrypoint@, %PUBLIC_URL%): the browser loads the literal text "
             "(or cannot parse it), so the widget does not start.",
             "Run the build that fills the placeholder and pack its output.",
             example="define(['{{BASE_PATH}}/app.js'], function (app) { ... });")
KS315 = rule("KS315", "warning", "Hard-coded widget code in Kommo's selectors or API",
             "Kommo assigns a widget's code when the integration is created and names its "
             "own DOM and API after it: #work-area-<code>, #<code>_custom_content, "
             ".digital-pipeline__short-task_widget-style_<code>, /api/v4/widgets/<code>. "
             "A code written into the script finds nothing in an account where Kommo "
             "assigned another one.",
             "Read the code at run time: self.get_settings().widget_code (or "
             "self.params.widget_code).",
             example="$('#work-area-deal_notes')  ->  $('#work-area-' + "
             "self.get_settings().widget_code)")

# A build placeholder: {{UPPER_CASE}} (lower-case {{ name }} is a template for render_template),
# @name@ and %UPPER_CASE% (not percent-encoded bytes: %D0%9F is two bytes of a URL's text).
_PLACEHOLDERS = (re.compile(rb"\{\{\s*[A-Z][A-Z0-9_]*\s*\}\}"),
                 re.compile(rb"@[A-Za-z][A-Za-z0-9_]*@(?![\w@])"),
                 re.compile(rb"%(?![0-9A-F]{2}%)[A-Z][A-Z0-9_]*%"))
_STORAGE = re.compile(rb"\b(?:localStorage|sessionStorage)\b")
_WORD_OR_AT = re.compile(rb"[\w@]")
_LOADERS = frozenset(("getScript", "importScripts", "loadScript", "import", "require",
                      "requirejs"))
_MAX_PLACEHOLDERS = 5


def check_build_placeholders(ctx: Context) -> dict[str, set[int]]:
    """KS312 in every .js file; the lines with a placeholder, per file."""
    found: dict[str, set[int]] = {}
    for name in sorted(ctx.texts):
        if not name.endswith(".js"):
            continue
        data = ctx.widget.data[name].removeprefix(BOM)
        lines: set[int] = set()
        matches = sorted((m for p in _PLACEHOLDERS for m in p.finditer(data)),
                         key=lambda m: m.start())
        for match in matches:
            if len(lines) >= _MAX_PLACEHOLDERS:
                break
            if match.start() and _WORD_OR_AT.match(data, match.start() - 1):
                continue  # an e-mail address or @@decorator, not @name@
            line_start = data.rfind(b"\n", 0, match.start()) + 1
            line = data.count(b"\n", 0, match.start()) + 1
            if _in_comment(data, line_start, match.start()) or line in lines:
                continue
            lines.add(line)
            ctx.add(KS312, f"{match.group().decode()} was never filled in", name, line)
        if lines:
            found[name] = lines
    return found


def _in_comment(data: bytes, line_start: int, offset: int) -> bool:
    before = data[line_start:offset].lstrip()
    return before.startswith((b"//", b"*", b"/*"))


def _code_identifier(module: Module, pattern: re.Pattern[bytes]) -> bool:
    for match in pattern.finditer(module.source):
        node = module.root.descendant_for_byte_range(match.start(), match.end())
        if node is not None and node.type in ("identifier", "property_identifier"):
            return True
    return False


def _loads_code(module: Module, found: StringLiteral) -> bool:
    """Is the string a script the module loads (not just a URL it calls)?"""
    if found.value in module.dependencies or found.value in {r.value for r in module.requires}:
        return True
    node, parent = found.node, found.node.parent
    if parent is None:
        return False
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
        left = parent.child_by_field_name("left")
        return left is not None and module.text(left).endswith(".src")
    if parent.type == "array" and parent.parent is not None:
        parent = parent.parent  # require([...]) / define([...])
    if parent.type == "arguments" and parent.parent is not None:
        function = parent.parent.child_by_field_name("function")
        if function is not None:
            name = module.text(function).rsplit(".", 1)[-1]
            return name in _LOADERS or function.type == "import"
    return False


def check_module_refs(ctx: Context, name: str, module: Module) -> bool:
    """KS308-KS310 and KS315 for one module; True when it is nothing but a dev loader."""
    _check_widget_code(ctx, name, module)
    return _check_dev_hosts(ctx, name, module)


def _check_dev_hosts(ctx: Context, name: str, module: Module) -> bool:
    # A script without callbacks of its own that mentions a dev host is a dev loader.
    callbacks = module.callbacks
    loader = callbacks is None or not (callbacks.entries or callbacks.open_ended)
    dev_switch: bool | None = None
    for match, host in hosts.urls_in(module.source):
        if not hosts.dev_host(host):
            continue
        found = module.literal_at(match.start())
        if found is None:
            continue  # in a comment
        if dev_switch is None:
            dev_switch = _code_identifier(module, _STORAGE)
        shown = found.value[:80]
        if loader or (_loads_code(module, found) and not dev_switch):
            ctx.add(KS308, f"loads code from {host} ({shown})", name, found.line)
            return loader
        if dev_switch:
            ctx.add(KS310, f"{host} behind a localStorage switch ({shown})", name, found.line)
        else:
            ctx.add(KS309, f"{host} in {shown!r}", name, found.line)
        return False  # one finding per file is enough
    return False


# Kommo's names built from the widget code: (text before the code, text after it).
_KOMMO_NAMES = (("#work-area-", ""), ("#", "_custom_content"),
                (".digital-pipeline__short-task_widget-style_", ""), ("/api/v4/widgets/", ""))
_CODE = r"[A-Za-z][A-Za-z0-9_]*"
_LITERAL_NAME = re.compile(r"#work-area-(?P<a>" + _CODE + r")|#(?P<b>" + _CODE
                           + r")_custom_content|\.digital-pipeline__short-task_widget-style_(?P<c>"
                           + _CODE + r")|/api/v4/widgets/(?P<d>" + _CODE + r")")
_HINT = re.compile(rb"work-area-|_custom_content|widget-style_|/api/v4/widgets/")


def _bindings(module: Module) -> dict[str, str]:
    """Names declared with a plain string literal: var CODE = 'deal_notes'."""
    bound: dict[str, str] = {}
    for found in module.matches("string_binding"):
        bound[module.text(found["name"][0])] = module.text(found["value"][0])
    return bound


def _code_value(module: Module, node: Node | None, bound: dict[str, str]) -> str | None:
    """The literal widget code ``node`` stands for, if it is one."""
    if node is None:
        return None
    if node.type == "string":
        return module.text(node)[1:-1]
    if node.type == "identifier":
        return bound.get(module.text(node))
    return None


def _concatenated(module: Module, found: StringLiteral, bound: dict[str, str]) -> str | None:
    """'#work-area-' + CODE, '#' + CODE + '_custom_content' with CODE a literal."""
    parent = found.node.parent
    value = found.value
    if parent is None or parent.type != "binary_expression":
        return None
    if parent.child_by_field_name("left") == found.node and any(
            prefix != "#" and value.endswith(prefix) for prefix, _ in _KOMMO_NAMES):
        code = _code_value(module, parent.child_by_field_name("right"), bound)
        return f"'{value}' + {code!r}" if code else None
    if value.startswith("_custom_content") and parent.child_by_field_name("right") == found.node:
        left = parent.child_by_field_name("left")
        if left is not None and left.type == "binary_expression":
            head = left.child_by_field_name("left")
            if head is not None and head.type == "string" and module.text(head)[1:-1].endswith("#"):
                code = _code_value(module, left.child_by_field_name("right"), bound)
                return f"'#' + {code!r} + '_custom_content'" if code else None
    return None


def _templated(module: Module, found: StringLiteral, bound: dict[str, str]) -> str | None:
    """`#work-area-${CODE}` with CODE a literal."""
    pieces = found.node.named_children
    for index, piece in enumerate(pieces[1:], 1):
        before = pieces[index - 1]
        if piece.type != "template_substitution" or before.type != "string_fragment":
            continue
        inner = [c for c in piece.named_children if c.type != "comment"]
        code = _code_value(module, inner[0] if inner else None, bound)
        if code and any(module.text(before).endswith(prefix) for prefix, _ in _KOMMO_NAMES):
            return f"{module.text(before)}${{...}} = {code!r}"
    return None


def _check_widget_code(ctx: Context, name: str, module: Module) -> None:
    bound: dict[str, str] | None = None
    seen: set[int] = set()
    for _, found in module.search(_HINT):
        if found.node.start_byte in seen:
            continue
        seen.add(found.node.start_byte)
        if bound is None:
            bound = _bindings(module)
        literal = _LITERAL_NAME.search(found.value)
        shown: str | None
        if literal and found.node.type == "string":
            shown = literal.group()
        elif found.node.type == "template_string":
            shown = _templated(module, found, bound)
        else:
            shown = _concatenated(module, found, bound)
        if shown:
            ctx.add(KS315, f"{shown}: Kommo names this after the code it assigned; read it "
                    "with self.get_settings().widget_code", name, found.line)

