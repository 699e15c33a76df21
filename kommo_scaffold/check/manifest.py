"""KS1xx: manifest.json parses, has the keys and types Kommo needs, and its endpoints are
URLs Kommo can call."""

from __future__ import annotations

import json
from typing import Any

from kommo_scaffold.catalog import areas
from kommo_scaffold.catalog import version as widget_version
from kommo_scaffold.check import hosts
from kommo_scaffold.check.context import Context, DuplicateKeys, as_dict, type_name
from kommo_scaffold.check.registry import by_answer, rule

KS101 = rule("KS101", "error", "manifest.json is missing",
             "Kommo reads everything about a widget from manifest.json at the archive root.",
             "Add manifest.json at the root of the widget folder.")
KS102 = rule("KS102", "error", "manifest.json is not valid JSON",
             "Invalid JSON is the most common upload error; Kommo rejects the archive.",
             "Fix the syntax at the line shown (trailing commas, comments and single quotes "
             "are not JSON).")
KS103 = rule("KS103", "error", "manifest.json is not a JSON object",
             "The manifest must be an object with `widget`, `locations` and other blocks.",
             "Make the top level `{ \"widget\": {...}, \"locations\": [...] }`.")
KS104 = rule("KS104", "error", "A required manifest key is missing",
             "Kommo requires widget.name, description, short_description, interface_version, "
             "locale, installation and locations, and name/type for each settings field.",
             "Add the key; text values are i18n keys such as \"widget.name\".")
KS105 = rule("KS105", "error", "A manifest value has the wrong type",
             "Kommo expects strings for texts, a boolean for installation/init_once, a list "
             "of strings for locale and locations, objects for blocks.",
             "Write the value with the type shown in the message.")
KS106 = rule("KS106", "error", "interface_version is not 2",
             "Kommo only loads widgets written for interface version 2.",
             "Set \"interface_version\": 2 (a number, not a string).")
KS107 = rule("KS107", "warning", "init_once written as \"Y\"/\"N\"",
             "An old amoCRM page wrote init_once as 'Y'; Kommo expects a boolean, and any "
             "non-empty string is truthy.", "Write true or false.")
KS108 = rule("KS108", "warning", "widget.version is missing",
             "Kommo caches widget files by version; without one, users keep old files.",
             "Add \"version\": \"1.0.0\" and raise it on every upload (kommo pack --bump).")
KS109 = rule("KS109", "warning", "installation is true but there is no settings block",
             "Kommo's checklist lists settings as required when the install form is shown.",
             "Add a `settings` block with at least one field, or set installation to false: "
             + by_answer("installation=false") + ".")
KS110 = rule("KS110", "warning", "Unknown settings field type",
             "Settings fields are text, pass, users, users_lp or custom; Kommo cannot draw "
             "other types.", "Use one of the documented types.")
KS111 = rule("KS111", "note", "Legacy widget.code / widget.secret_key",
             "Old amoCRM manifests carried the widget code and secret key; Kommo now issues "
             "them at upload and ignores these keys.",
             "Remove them unless your account still requires them; never publish a secret.")
KS112 = rule("KS112", "warning", "Duplicate key in a JSON object",
             "JSON parsers keep only the last value; the first one is silently lost.",
             "Keep one entry per key.")
KS113 = rule("KS113", "warning", "widget.version is not like 1.2.3",
             "kommo-new, `kommo pack --bump` and this checker share one definition of a "
             "version: one to three numbers separated by dots, the form of every Kommo "
             "example; `--bump` cannot raise anything else.",
             "Write the version as numbers and dots, e.g. \"1.4.0\".")
KS114 = rule("KS114", "warning", "Endpoint Kommo cannot reach",
             "Kommo's servers call dp.webhook_url and sms.endpoint, and the mobile app opens "
             "mobile.frame_url; a placeholder (example.com), this machine, a private network "
             "address or plain http there means the call never arrives or is refused.",
             "Point the endpoint at your public https server (dp.webhook_url and "
             "sms.endpoint follow backend_url; the answers dp_webhook_url, sms_endpoint and "
             "mobile_frame_url set one each): " + by_answer("backend_url=https://...")
             + "; in any other widget, edit manifest.json.",
             uncertain="Kommo's docs show only https endpoints but do not say that plain http "
             "is refused for server-to-server calls; http is reported for all of them.",
             blocks_pack=True)
# Manifest values Kommo's servers or apps call: (block, key).
ENDPOINTS = (("dp", "webhook_url"), ("sms", "endpoint"), ("mobile", "frame_url"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(ctx: Context, name: str, invalid_rule: str) -> tuple[bool, Any]:
    text = ctx.texts.get(name)
    if text is None:
        return False, None  # missing, or not text (KS601 says so)
    hook = DuplicateKeys()
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
    ok, manifest = load_json(ctx, name, KS102)
    if not ok:
        return
    if not isinstance(manifest, dict):
        ctx.add(KS103, f"the top level is {type_name(manifest)}, not an object", name)
        return
    ctx.manifest = manifest
    widget = manifest.get("widget")
    if "widget" not in manifest:
        ctx.add(KS104, "no `widget` block", name, path="widget")
    elif not isinstance(widget, dict):
        ctx.add(KS105, f"`widget` is {type_name(widget)}; it must be an object", name,
                path="widget")
    else:
        _check_widget_block(ctx, widget, name)
    _check_settings(ctx, manifest, name)
    check_endpoints(ctx)


def _check_widget_block(ctx: Context, widget: dict[str, Any], name: str) -> None:
    for key in ("name", "description", "short_description"):
        if key not in widget:
            ctx.add(KS104, f"widget.{key} is missing (an i18n key such as \"widget.{key}\")",
                    name, path=f"widget.{key}")
        elif not isinstance(widget[key], str):
            ctx.add(KS105, f"widget.{key} is {type_name(widget[key])}; it must be a string",
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
        ctx.add(KS105, f"widget.locale is {type_name(locale)}; it must be a list of locale "
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
        ctx.add(KS105, f"widget.version is {type_name(widget['version'])}; write a string "
                "such as \"1.0.0\"", name, path="widget.version")
    elif not widget_version.is_valid(widget["version"]):
        ctx.add(KS113, f"widget.version {widget_version.problem(widget['version'])}", name,
                path="widget.version")
    legacy = [k for k in ("code", "secret_key") if k in widget]
    if legacy:
        ctx.add(KS111, f"widget.{' and widget.'.join(legacy)}: amoCRM legacy keys", name,
                path=f"widget.{legacy[0]}")


def _check_settings(ctx: Context, manifest: dict[str, Any], name: str) -> None:
    widget = as_dict(manifest.get("widget"))
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
            ctx.add(KS105, f"{where} is {type_name(block)}; it must be an object of fields",
                    name, path=where)
            continue
        for code, spec in block.items():
            path = f"{where}.{code}"
            if not isinstance(spec, dict):
                ctx.add(KS105, f"{path} is {type_name(spec)}; a field is an object with name "
                        "and type", name, path=path)
                continue
            for key in ("name", "type"):
                if key not in spec:
                    ctx.add(KS104, f"{path}.{key} is missing", name, path=f"{path}.{key}")
            kind = spec.get("type")
            if where == "settings" and "type" in spec and kind not in areas.SETTINGS_FIELD_TYPES:
                ctx.add(KS110, f"{path}.type is {json.dumps(kind)}; use one of "
                        f"{', '.join(areas.SETTINGS_FIELD_TYPES)}", name, path=f"{path}.type")


def endpoint_problem(url: str) -> str | None:
    """Why Kommo cannot call ``url`` (None if it can)."""
    host = hosts.host_of(url)
    if not host:
        return "is not a URL"
    if hosts.placeholder(host):
        return f"is a placeholder ({host})"
    reason = hosts.unreachable(host)
    if reason:
        return f"points at {reason} ({host}), which Kommo cannot reach"
    if url.strip().lower().startswith("http://"):
        return "uses plain http; use https"
    return None


def check_endpoints(ctx: Context) -> None:
    """KS114: endpoints Kommo calls are real, public https URLs."""
    manifest = ctx.manifest or {}
    for block, key in ENDPOINTS:
        value = as_dict(manifest.get(block)).get(key)
        if not isinstance(value, str) or not value.strip():
            continue  # missing or empty: KS211/KS212 say so
        reason = endpoint_problem(value)
        if reason:
            ctx.add(KS114, f"{block}.{key} {value!r} {reason}", "manifest.json",
                    path=f"{block}.{key}")
