"""KS302-KS307, KS311, KS313, KS314, KS316 and the area callbacks (KS214, KS215, KS218): V8
accepts every JavaScript file, script.js defines one AMD module, and the callbacks of the
widget Kommo constructs have what the areas need (as constructed in V8; read from the source
when construction stopped in the checker's stand-in page)."""

from __future__ import annotations

import posixpath
import re

from kommo_scaffold.catalog import areas
from kommo_scaffold.check import construct, scriptrefs
from kommo_scaffold.check.context import Context, as_dict
from kommo_scaffold.check.js import engine
from kommo_scaffold.check.js.parser import (
    MAX_TOKENS,
    Callbacks,
    JSTooLarge,
    Module,
    Node,
    returns,
)
from kommo_scaffold.check.registry import rule

# The callbacks Kommo needs in every area, or the widget does not start.
CORE_CALLBACKS = ("render", "init", "bind_actions")
# Area callbacks Kommo works without (missing is KS218, a warning), and why.
OPTIONAL_CALLBACKS = {
    "salesbotDesignerSettings": "Kommo's Salesbot SDK page calls it optional: it may return "
    "the step's exits",
    "settings": "Kommo draws the settings modal from the manifest's settings fields; "
    "settings() only adds your own UI (a custom field stays empty without it)",
    "dpSettings": "Kommo draws the digital pipeline action's form from dp.settings in the "
    "manifest; dpSettings() only adds your own UI",
    "advancedSettings": "the script draws the page itself (it addresses #work-area- or the "
    "advanced-settings area)",
    "searchDataInCard": "Kommo's own CLI leaves it out of its card_sdk template; without it "
    "the card tab has no search",
}

KS301 = rule("KS301", "warning", "script.js is missing",
             "Kommo treats script.js as optional, amoCRM requires it, and without it no "
             "callback runs.", "Add script.js (kommo-new writes one).")
KS302 = rule("KS302", "error", "JavaScript syntax error",
             "V8, the engine of Chromium, refuses the file as a script (the message and "
             "position are the ones the browser console shows); the browser cannot load it "
             "and the widget does not start.", "Fix the syntax at the line shown.")
KS303 = rule("KS303", "error", "script.js defines no AMD module",
             "Kommo loads script.js with RequireJS: it must call define([...], function () "
             "{...}).", "Wrap the code in define(['jquery'], function ($) { ... }).")
KS304 = rule("KS304", "error", "No callbacks object",
             "Kommo calls the widget through `this.callbacks = {...}`; none was found.",
             "Set this.callbacks = { render: ..., init: ..., bind_actions: ... } in the "
             "constructor and return this.")
KS305 = rule("KS305", "error", "render, init or bind_actions missing",
             "Kommo needs all three in every area or the widget does not start.",
             "Add the callback; render must return true.")
KS306 = rule("KS306", "warning", "onSave missing",
             "The settings modal calls onSave when the user installs or saves; it must return "
             "true or a Promise.", "Add onSave: function () { return true; }.")
KS307 = rule("KS307", "error", "Callback is not a function",
             "A callback is set to a value that cannot be called (a string, number or "
             "boolean).", "Assign a function or a reference to one.")
KS214 = rule("KS214", "error", "Area callback missing in script.js",
             "Kommo calls this callback in the area; without it the area does nothing or "
             "throws.", "Add the callback to the callbacks object in script.js.",
             uncertain="Kommo's docs list the callbacks each area calls, not what happens "
             "when one is missing; callbacks Kommo is known to work without are KS218, a "
             "warning, instead; a list area written with -0 never calls *.selected.")
KS215 = rule("KS215", "note", "tasks.selected without todo.selected",
             "amoCRM widgets use tasks.selected; Kommo's docs name it todo.selected.",
             "Point both names at the same function: `todo: {selected: fn}, tasks: "
             "{selected: fn}`.")

KS218 = rule("KS218", "warning", "Optional area callback missing",
             "Kommo calls this callback when it exists and works without it: it draws the "
             "settings modal and the digital pipeline form from the manifest (settings, "
             "dpSettings), the Salesbot SDK page calls salesbotDesignerSettings optional, "
             "Kommo's own CLI leaves searchDataInCard out of its card_sdk template, and "
             "advancedSettings is not needed when the script draws the page itself. The "
             "message gives the reason.", "Add the callback if the area needs your own UI.",
             example="salesbot_designer with onSalesbotDesignerSave but no "
             "salesbotDesignerSettings",
             uncertain="Kommo's docs do not say what happens without these callbacks; the "
             "settings modal and the bot builder are seen to work without them.")
KS316 = rule("KS316", "note", "JavaScript file too large to read",
             "V8 checked the file's syntax and the widget was constructed from it, but the "
             f"checker reads the source of files of up to about {MAX_TOKENS:,} tokens "
             "(about 600 KB of real code) to keep its time bounded; this file is bigger, so "
             "the rules that read the source (the public checklist, development hosts, "
             "i18n paths) did not look at it.",
             "Check the sources the bundle was built from (`kommo check` on them).",
             example="a 1.6 MB script.js bundling lodash and react-dom")
KS311 = rule("KS311", "error", "More than one anonymous define() in script.js",
             "RequireJS loads script.js as one module; a second anonymous top-level define() "
             "throws \"Mismatched anonymous define() module\" and the widget does not start "
             "(a typical result of concatenating two builds).",
             "Keep one define(); bundle libraries inside it or list them as dependencies.",
             example="define([], function () {...});\ndefine(['jquery'], function ($) {...});")
KS313 = rule("KS313", "note", "Callbacks in a module that cannot be read",
             "script.js hands the widget to another module (define(['./build/app.js'], ...)) "
             "that has no callbacks object the checker can see, and constructing the widget "
             "stopped in the checker's stand-in page, so the callbacks were not checked.",
             "Nothing to do if the widget starts in `kommo dev`.",
             example="define(['./build/app.js'], m => function () { return m.default(this); })")
KS314 = rule("KS314", "warning", "render, init or bind_actions never returns true",
             "Kommo runs init and bind_actions only after render returns true (or a Promise "
             "of true); a callback that visibly returns nothing or false stops the widget.",
             "End the callback with `return true;`.",
             uncertain="Kommo's script.js page says render must return true; its official "
             "sample also returns a Promise of true in cards, which is accepted here. Other "
             "truthy values (1, an object) are not reported.",
             example="render: function () { self.render_template({...}); }  // no return")


def check_scripts(ctx: Context) -> None:
    """V8's verdict on every .js file; tree-sitter's reading of those it accepts; then
    script.js loaded and constructed as Kommo does, and its callbacks checked."""
    scripts = {name: text for name, text in sorted(ctx.texts.items())
               if name.endswith(".js") and name not in ctx.conflicted}  # KS609: merge markers
    page = construct.start(ctx, scripts) if scripts else None
    # While V8 evaluates: the placeholders, and tree-sitter's reading of every file (kept
    # only for the files V8 accepts).
    placeholder_lines = scriptrefs.check_build_placeholders(ctx)
    readings: dict[str, Module | JSTooLarge | RecursionError] = {}
    for name in scripts:
        try:
            readings[name] = ctx.parse(name)
        except (JSTooLarge, RecursionError) as error:
            readings[name] = error
    result = page.result() if page is not None else engine.Run()
    for name in scripts:
        problem = result.syntax.get(name)
        if problem is not None:
            if problem.line not in placeholder_lines.get(name, ()):
                ctx.add(KS302, f"{problem.message} (column {problem.column})", name,
                        problem.line)
            continue
        reading = readings[name]
        if isinstance(reading, Module):
            ctx.modules[name] = reading
        else:
            detail = str(reading) if isinstance(reading, JSTooLarge) else "nested too deeply"
            ctx.add(KS316, f"{detail}: its syntax was checked, its checklist rules were not",
                    name)
    loader = False
    for name, parsed in sorted(ctx.modules.items()):
        is_loader = scriptrefs.check_module_refs(ctx, name, parsed)
        loader = loader or (name == "script.js" and is_loader)
    if "script.js" not in ctx.widget.sizes:
        ctx.add(KS301, "no script.js: no callback will run", "script.js")
        return
    if "script.js" not in scripts or "script.js" in result.syntax \
            or placeholder_lines.get("script.js") or loader:
        return  # not text, a syntax error, an unbuilt file or a dev loader: already reported
    if construct.check_dependencies(ctx, result):
        return  # the factory never runs: what construction would say is the same problem
    if result.unfinished:
        ctx.add(construct.KS319, f"stopped by the checker's limits ({result.unfinished})",
                "script.js")
    certain = construct.check_failure(ctx, result)
    if result.failure is not None and result.failure.stage == "load":
        return
    if not result.defines and result.unfinished is None:
        ctx.add(KS303, "script.js never calls define(...) when it loads: RequireJS gets no "
                "module", "script.js")
        return
    anonymous = [line for is_anonymous, line in result.defines if is_anonymous]
    if len(anonymous) > 1:
        ctx.add(KS311, f"{len(anonymous)} anonymous define() calls (lines "
                f"{', '.join(map(str, anonymous))})", "script.js", anonymous[1])
    if certain:
        return
    module = ctx.script
    static_file, static = _find_callbacks(ctx, module, quiet=result.callbacks is not None) \
        if module is not None else ("script.js", None)
    line = static.line if static is not None else (result.defines[0][1] if result.defines
                                                   else None)
    runtime = construct.callbacks(ctx, result, line or 1)
    if runtime is not None:
        found, functions = runtime
        _check_callbacks(ctx, static_file if static is not None else "script.js", found,
                         functions)
    elif result.failure is None and result.callbacks_type is not None:
        ctx.add(KS304, f"the widget Kommo constructs has no callbacks object (callbacks is "
                f"{result.callbacks_type})", "script.js", line)
    elif static is not None and module is not None:
        owner = module if static_file == "script.js" else ctx.modules[static_file]
        _check_callbacks(ctx, static_file, static, {
            name: (owner, node, static_file, node.start_point.row + 1)
            for name, node in static.functions.items()})


def _relative_modules(module: Module) -> list[str]:
    deps = [dep.value for dep in module.defines[0].dependencies] if module.defines else []
    return [dep for dep in deps if dep.startswith(("./", "../"))]


def _find_callbacks(ctx: Context, module: Module, quiet: bool) -> tuple[str, Callbacks | None]:
    """(file, callbacks as written) from script.js, or from the module script.js delegates
    to; ``quiet`` when the constructed widget already showed its callbacks."""
    if module.callbacks is not None:
        return "script.js", module.callbacks
    relative = _relative_modules(module)
    for dep in relative:
        path = posixpath.normpath(dep)
        for candidate in (path, f"{path}.js"):
            if candidate in ctx.modules and ctx.modules[candidate].callbacks is not None:
                return candidate, ctx.modules[candidate].callbacks
    if quiet:
        return "script.js", None
    if not relative:
        ctx.add(KS304, "no `this.callbacks = {...}` or `callbacks: {...}` found", "script.js",
                module.define_line)
        return "script.js", None
    shown = ", ".join(relative)
    found = [p for d in relative for p in (posixpath.normpath(d), posixpath.normpath(d) + ".js")
             if p in ctx.widget.sizes]
    if found:
        ctx.add(KS313, f"script.js loads {shown}; {found[0]} has no callbacks object the "
                "checker can read: callbacks not checked", "script.js", module.define_line)
    return "script.js", None


Functions = dict[str, tuple[Module, Node, str, int]]


def _skipped_areas(ctx: Context) -> set[str]:
    """List areas written with -0: the widget runs there without a list-menu entry, so
    Kommo never calls its *.selected callback."""
    return {code for code, flag, _, _ in ctx.locations
            if flag == "0" and code in areas.AREA_BY_CODE
            and areas.AREA_BY_CODE[code].kind == "list"}


def _optional_reason(ctx: Context, name: str) -> str | None:
    if name == "advancedSettings":
        source = "\n".join(text for file, text in ctx.texts.items() if file.endswith(".js"))
        if not re.search(r"work-area-|advanced[-_]settings", source):
            return None  # nothing else draws the page
    return OPTIONAL_CALLBACKS.get(name)


def _check_callbacks(ctx: Context, file: str, callbacks: Callbacks, functions: Functions
                     ) -> None:
    _check_returns(ctx, functions)
    if callbacks.open_ended:
        return  # spread or computed keys: we cannot see every name
    entries = callbacks.entries
    for needed in CORE_CALLBACKS:
        if needed not in entries:
            ctx.add(KS305, f"callbacks has no {needed}", file, callbacks.line)
    installation = as_dict(as_dict(ctx.manifest).get("widget")).get("installation")
    if "onSave" not in entries and installation is True:
        ctx.add(KS306, "callbacks has no onSave, which the settings modal calls", file,
                callbacks.line)
    wanted = set(CORE_CALLBACKS) | {"onSave"}
    for code in ctx.codes:
        wanted |= set(areas.AREA_BY_CODE[code].callbacks)
    for name in sorted(wanted):
        if entries.get(name) == "other":
            ctx.add(KS307, f"callbacks.{name} is not a function", file, callbacks.line)
    skipped = _skipped_areas(ctx)
    for code in dict.fromkeys(ctx.codes):
        area = areas.AREA_BY_CODE[code]
        for needed in area.callbacks:
            if needed in entries or (code in skipped and needed.endswith(".selected")):
                continue
            aliases = [a for a in area.alias_callbacks if a in entries]
            if aliases:
                ctx.add(KS215, f"{code}: {aliases[0]} is defined but not {needed} (Kommo's "
                        "name); point both at one function", file, callbacks.line)
                continue
            also = "".join(f" (or {a})" for a in area.alias_callbacks)
            reason = _optional_reason(ctx, needed)
            if reason is None:
                ctx.add(KS214, f"{code} needs callbacks.{needed}{also}", file, callbacks.line)
            else:
                ctx.add(KS218, f"{code}: no callbacks.{needed}{also}; {reason}", file,
                        callbacks.line)


_NOT_TRUE = frozenset(("false", "null", "undefined", "unary_expression"))


def _check_returns(ctx: Context, functions: Functions) -> None:
    for name in CORE_CALLBACKS:
        if name not in functions:
            continue
        module, function, file, line = functions[name]
        values = returns(module, function)
        never = all(value is None or (value.type in _NOT_TRUE and (
            value.type != "unary_expression" or module.text(value).startswith("void")))
            for value in values)
        if never:
            what = "has no return" if not values else "only returns " + ", ".join(
                sorted({module.text(v) if v is not None else "nothing" for v in values}))
            ctx.add(KS314, f"callbacks.{name} {what}; Kommo waits for true", file, line)
