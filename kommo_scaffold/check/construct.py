"""KS317-KS319: the widget loaded and constructed as Kommo does it (in V8, see
:mod:`kommo_scaffold.check.js.engine`): what throws, which AMD dependencies are missing, and
``this.callbacks`` as Kommo sees it."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from kommo_scaffold.check.context import Context, as_dict
from kommo_scaffold.check.js import engine
from kommo_scaffold.check.js.parser import Callbacks, Module, Node, function_of
from kommo_scaffold.check.registry import rule

KS317 = rule("KS317", "error", "Kommo cannot construct the widget",
             "Kommo loads script.js, runs its define() factory with the page's modules, then "
             "its constructor with `this` holding Kommo's widget methods. Here that throws: a "
             "name no browser or Kommo page defines (a mistyped global), or a method of the "
             "widget called before the constructor assigns it. The widget never starts.",
             "Fix the line shown: define the name or correct its spelling; assign the method "
             "before the code that calls it.",
             example="var CustomWidget = function () {\n  this.load();        // TypeError: "
             "this.load is not a function\n  this.load = function () {};\n};")
KS318 = rule("KS318", "error", "AMD dependency missing from the widget",
             "A relative module id (./app.js, text!./templates/x.twig) is loaded from the "
             "widget's own folder; a file that is not in the widget fails to load, and "
             "RequireJS never calls the factory.",
             "Add the file (build it first), or fix the path in define([...]).",
             example="define(['./build/app.js'], ...) with no build/app.js in the widget")
KS319 = rule("KS319", "note", "Construction stopped in the checker's stand-in page",
             "The checker constructs the widget with stand-ins for Kommo's page; something "
             "threw there that may be the stand-in rather than the widget (a value only a "
             "real account has), so the callbacks were read from the source instead.",
             "Nothing to do if the widget starts in `kommo dev`; otherwise fix the line shown.",
             example="JSON.parse(self.get_settings().custom) with no saved settings")

# Globals Kommo's page defines on top of the browser's (harness.js gives each a stand-in).
PAGE_GLOBALS = ("$", "jQuery", "_", "APP", "AMOCRM", "Twig", "moment", "define", "require",
                "requirejs")
# Members of Kommo's widget object (harness.js widgetObject): calling one is never "before
# it is assigned".
WIDGET_METHODS = frozenset((
    "system", "i18n", "set_lang", "get_settings", "set_settings", "get_version",
    "get_install_status", "set_status", "render", "render_template", "crm_post",
    "$authorizedAjax", "list_selected", "widgetsOverlay", "add_action", "add_source",
    "get_pipeline_id", "setSdkCatalogId", "get_current_card_contacts_data",
    "get_accounts_current"))
_NOT_DEFINED = re.compile(r"^([\w$]+) is not defined$")
_NOT_A_FUNCTION = re.compile(r"^(?:[\w$]+\.)+([\w$]+) is not a function$")


def _config(ctx: Context) -> dict[str, Any]:
    manifest = as_dict(ctx.manifest)
    widget = as_dict(manifest.get("widget"))
    locale = widget.get("locale")
    first = locale[0] if isinstance(locale, list) and locale and isinstance(locale[0], str) \
        else "en"
    try:
        langs = json.loads(ctx.texts.get(f"i18n/{first}.json", "{}"))
    except ValueError:
        langs = {}
    code = widget.get("code")
    version = widget.get("version")
    return {"code": code if isinstance(code, str) and code else "widget",
            "version": version if isinstance(version, str) else "1.0.0",
            "fields": {str(k): "" for k in as_dict(manifest.get("settings"))},
            "langs": langs if isinstance(langs, dict) else {},
            "texts": {name: text for name, text in ctx.texts.items()
                      if not name.endswith(".js")},
            "area": ctx.codes[0] if ctx.codes else "everywhere"}


def start(ctx: Context, scripts: dict[str, str]) -> Any:
    """The page, evaluating ``scripts`` as Kommo loads them; ``.result()`` gives the run."""
    page = ctx.page if ctx.page is not None else engine.new_page()
    ctx.page = page
    page.start(scripts, _config(ctx))
    return page


def check_dependencies(ctx: Context, result: engine.Run) -> bool:
    """KS318: every relative dependency of the files script.js loads is in the widget;
    True when one is missing (RequireJS then never calls the factory)."""
    missing = False
    for owner in result.loaded:
        for deps in result.deps.get(owner, []):
            for dep in deps:
                path = engine.relative_path(dep, owner)
                if path is not None and path not in ctx.widget.sizes:
                    ctx.add(KS318, f"{owner} loads {dep!r}, but {path} is not in the widget",
                            owner, _line_of(ctx, owner, dep))
                    missing = True
    return missing


def _line_of(ctx: Context, file: str, text: str) -> int | None:
    source = ctx.texts.get(file, "")
    at = source.find(text)
    return source.count("\n", 0, at) + 1 if at >= 0 else None


def _assigned(ctx: Context, result: engine.Run, name: str) -> bool:
    pattern = re.compile(rf"\.{re.escape(name)}\s*=(?!=)|\b{re.escape(name)}\s*:\s*function")
    return any(pattern.search(ctx.texts.get(file, "")) for file in result.loaded)


def check_failure(ctx: Context, result: engine.Run) -> bool:
    """KS317/KS319 for what threw; True when Kommo certainly cannot construct the widget."""
    failure = result.failure
    if failure is None:
        if result.factory_type == "undefined" and result.defines:
            ctx.add(KS317, "script.js's define() factory returns nothing: Kommo has no "
                    "widget constructor to call", "script.js", result.defines[0][1])
            return True
        return False
    file = failure.file if failure.file in ctx.texts else "script.js"
    line = failure.line or None
    stage = {"load": "while script.js loads", "factory": "in the define() factory",
             "constructor": "in the widget's constructor"}[failure.stage]
    shown = f"{failure.name}: {failure.message} ({stage}, column {failure.column})"
    missing = _NOT_DEFINED.match(failure.message)
    if failure.name == "ReferenceError" and missing:
        known = (*engine.browser_globals(), *PAGE_GLOBALS)
        guess = difflib.get_close_matches(missing.group(1), known, n=1, cutoff=0.8)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        ctx.add(KS317, f"{shown}: neither the browser nor Kommo's page defines "
                f"{missing.group(1)}{hint}", file, line)
        return True
    method = _NOT_A_FUNCTION.match(failure.message)
    if (failure.name == "TypeError" and method and method.group(1) not in WIDGET_METHODS
            and _assigned(ctx, result, method.group(1))):
        ctx.add(KS317, f"{shown}: {method.group(1)} is called before the code that assigns "
                "it", file, line)
        return True
    ctx.add(KS319, shown, file, line)
    return False


def located(ctx: Context, result: engine.Run, source: str) -> tuple[str, int] | None:
    """(file, line) where a function's source text is written, among the files loaded."""
    for file in result.loaded:
        text = ctx.texts.get(file, "")
        at = text.find(source) if source else -1
        if at >= 0:
            return file, text.count("\n", 0, at) + 1
    return None


def callbacks(ctx: Context, result: engine.Run, line: int
              ) -> tuple[Callbacks, dict[str, tuple[Module, Node, str, int]]] | None:
    """The constructed widget's callbacks (values still undefined count as missing), and each
    function's (snippet module, node, file, line) for reading its return statements."""
    if result.callbacks is None:
        return None
    found = Callbacks(line=line)
    functions: dict[str, tuple[Module, Node, str, int]] = {}
    for name, entry in result.callbacks.items():
        if entry.kind == "undefined":
            continue
        found.entries[name] = "function" if entry.kind == "function" else (
            "object" if entry.kind == "object" else "other")
        if entry.kind != "function":
            continue
        place = located(ctx, result, entry.source)
        snippet = function_of(entry.source)
        if place is not None and snippet is not None:
            functions[name] = (snippet[0], snippet[1], place[0], place[1])
    return found, functions
