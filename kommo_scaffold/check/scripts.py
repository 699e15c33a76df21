"""KS302-KS307, KS311, KS313, KS314 and the area callbacks (KS214, KS215, KS218): every
JavaScript file parses, script.js is one AMD module, and its callbacks object has what the
areas need (read from the syntax tree, also when script.js delegates to a bundled module)."""

from __future__ import annotations

import posixpath

from kommo_scaffold.catalog import areas
from kommo_scaffold.check import scriptrefs
from kommo_scaffold.check.context import Context, as_dict
from kommo_scaffold.check.js.parser import (
    MAX_TOKENS,
    Callbacks,
    JSSyntaxError,
    JSTooLarge,
    Module,
    returns,
)
from kommo_scaffold.check.registry import rule

# The callbacks Kommo needs in every area, or the widget does not start.
CORE_CALLBACKS = ("render", "init", "bind_actions")
# Area callbacks Kommo's docs describe as optional ("may return"): missing is a warning.
OPTIONAL_CALLBACKS = frozenset(("salesbotDesignerSettings",))

KS301 = rule("KS301", "warning", "script.js is missing",
             "Kommo treats script.js as optional, amoCRM requires it, and without it no "
             "callback runs.", "Add script.js (kommo-new writes one).")
KS302 = rule("KS302", "error", "JavaScript syntax error",
             "The browser cannot load a file that does not tokenize or whose brackets do not "
             "balance; the widget does not start.", "Fix the syntax at the line shown.")
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
             "when one is missing; a callback the docs call optional "
             "(salesbotDesignerSettings) is KS218, a warning, instead.")
KS215 = rule("KS215", "note", "tasks.selected without todo.selected",
             "amoCRM widgets use tasks.selected; Kommo's docs name it todo.selected.",
             "Point both names at the same function: `todo: {selected: fn}, tasks: "
             "{selected: fn}`.")

KS218 = rule("KS218", "warning", "Optional area callback missing",
             "Kommo calls this callback when it exists, and its docs describe it as optional "
             "(salesbotDesignerSettings may return the step's exits); without it the area "
             "works with defaults.", "Add the callback if the area needs its settings form.",
             example="salesbot_designer with onSalesbotDesignerSave but no "
             "salesbotDesignerSettings",
             uncertain="Kommo's Salesbot SDK page does not say what happens without it; the "
             "bot builder is seen to show the step without settings.")
KS316 = rule("KS316", "warning", "JavaScript file too large to check",
             f"The checker parses files of up to about {MAX_TOKENS:,} tokens (several MB of "
             "real code) to keep its time and memory bounded; this file is bigger, so its "
             "syntax, callbacks and checklist rules were not checked, and `kommo pack` "
             "does not ship it without --force.",
             "Check it with `node --check FILE`; split or minify what does not belong in the "
             "widget.",
             example="a 12 MB script.js bundling a whole UI library", blocks_pack=True)
KS311 = rule("KS311", "error", "More than one anonymous define() in script.js",
             "RequireJS loads script.js as one module; a second anonymous top-level define() "
             "throws \"Mismatched anonymous define() module\" and the widget does not start "
             "(a typical result of concatenating two builds).",
             "Keep one define(); bundle libraries inside it or list them as dependencies.",
             example="define([], function () {...});\ndefine(['jquery'], function ($) {...});")
KS313 = rule("KS313", "note", "Callbacks in a module that cannot be read",
             "script.js hands the widget to another module (define(['./build/app.js'], ...)); "
             "that module is not in the widget or has no callbacks object the checker can "
             "see, so the callbacks were not checked.",
             "Nothing to do if the module is loaded from elsewhere on purpose; otherwise add "
             "it to the widget.",
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
    """Parse every .js file; then read script.js's module and callbacks."""
    placeholder_lines = scriptrefs.check_build_placeholders(ctx)
    for name in sorted(ctx.texts):
        if not name.endswith(".js") or name in ctx.conflicted:
            continue  # a file with merge markers: KS609 says so
        try:
            ctx.modules[name] = ctx.parse(name)
        except JSSyntaxError as error:
            if error.line not in placeholder_lines.get(name, ()):
                ctx.add(KS302, f"{error.message} (column {error.column})", name, error.line)
        except JSTooLarge as error:
            ctx.add(KS316, str(error), name)
        except RecursionError:
            ctx.add(KS302, "nested too deeply to read", name)
    loader = False
    for name, parsed in sorted(ctx.modules.items()):
        is_loader = scriptrefs.check_module_refs(ctx, name, parsed)
        loader = loader or (name == "script.js" and is_loader)
    if "script.js" not in ctx.widget.sizes:
        ctx.add(KS301, "no script.js: no callback will run", "script.js")
        return
    module = ctx.script
    if module is None or placeholder_lines.get("script.js"):
        return  # not text, a syntax error or an unbuilt file: already reported
    if loader:
        return  # a dev loader: its missing callbacks are the same problem
    if module.define_line is None:
        ctx.add(KS303, "no define(...) call: RequireJS cannot load it", "script.js")
        return
    _check_defines(ctx, module)
    name, callbacks = _find_callbacks(ctx, module)
    if callbacks is not None:
        _check_callbacks(ctx, name, module if name == "script.js" else ctx.modules[name],
                         callbacks)


def _check_defines(ctx: Context, module: Module) -> None:
    anonymous = [call for call in module.defines if call.anonymous and call.statement]
    if len(anonymous) > 1:
        lines = ", ".join(str(call.line) for call in anonymous)
        ctx.add(KS311, f"{len(anonymous)} anonymous define() calls (lines {lines})",
                "script.js", anonymous[1].line)


def _relative_modules(module: Module) -> list[str]:
    deps = [dep.value for dep in module.defines[0].dependencies] if module.defines else []
    return [dep for dep in deps if dep.startswith(("./", "../"))]


def _find_callbacks(ctx: Context, module: Module) -> tuple[str, Callbacks | None]:
    """(file, callbacks) from script.js, or from the widget module script.js delegates to."""
    if module.callbacks is not None:
        return "script.js", module.callbacks
    relative = _relative_modules(module)
    if not relative:
        ctx.add(KS304, "no `this.callbacks = {...}` or `callbacks: {...}` found", "script.js",
                module.define_line)
        return "script.js", None
    for dep in relative:
        path = posixpath.normpath(dep)
        for candidate in (path, f"{path}.js"):
            if candidate in ctx.modules and ctx.modules[candidate].callbacks is not None:
                return candidate, ctx.modules[candidate].callbacks
    shown = ", ".join(relative)
    found = [p for d in relative for p in (posixpath.normpath(d), posixpath.normpath(d) + ".js")
             if p in ctx.widget.sizes]
    reason = (f"{found[0]} has no callbacks object the checker can read" if found
              else "the module is not in the widget")
    ctx.add(KS313, f"script.js loads {shown}; {reason}: callbacks not checked", "script.js",
            module.define_line)
    return "script.js", None


def _check_callbacks(ctx: Context, file: str, module: Module, callbacks: Callbacks) -> None:
    _check_returns(ctx, file, module, callbacks)
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
    for code in dict.fromkeys(ctx.codes):
        area = areas.AREA_BY_CODE[code]
        for needed in area.callbacks:
            if needed in entries:
                continue
            aliases = [a for a in area.alias_callbacks if a in entries]
            if aliases:
                ctx.add(KS215, f"{code}: {aliases[0]} is defined but not {needed} (Kommo's "
                        "name); point both at one function", file, callbacks.line)
                continue
            also = "".join(f" (or {a})" for a in area.alias_callbacks)
            rule_id = KS218 if needed in OPTIONAL_CALLBACKS else KS214
            ctx.add(rule_id, f"{code} needs callbacks.{needed}{also}", file, callbacks.line)


_NOT_TRUE = frozenset(("false", "null", "undefined", "unary_expression"))


def _check_returns(ctx: Context, file: str, module: Module, callbacks: Callbacks) -> None:
    for name in CORE_CALLBACKS:
        function = callbacks.functions.get(name)
        if function is None:
            continue
        values = returns(module, function)
        never = all(value is None or (value.type in _NOT_TRUE and (
            value.type != "unary_expression" or module.text(value).startswith("void")))
            for value in values)
        if never:
            what = "has no return" if not values else "only returns " + ", ".join(
                sorted({module.text(v) if v is not None else "nothing" for v in values}))
            ctx.add(KS314, f"callbacks.{name} {what}; Kommo waits for true", file,
                    function.start_point.row + 1)
