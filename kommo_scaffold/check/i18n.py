"""KS401-KS408: one i18n file per locale, the same keys in each, and every text the manifest
and the areas name is there."""

from __future__ import annotations

import re
from typing import Any

from kommo_scaffold.catalog import areas
from kommo_scaffold.check.context import Context, as_dict, flatten, lookup, type_name
from kommo_scaffold.check.manifest import load_json
from kommo_scaffold.check.registry import by_answer, rule
from kommo_scaffold.check.report import plural

# Kommo's own locales are areas.LOCALES; amoCRM accounts add ru.
AMOCRM_LOCALES = ("ru",)
_I18N_KEY = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$")
# Manifest blocks whose texts Kommo reads only when their area is in locations.
_AREA_BLOCKS = {area.manifest_block: area.code for area in areas.AREAS if area.manifest_block}

KS401 = rule("KS401", "error", "i18n file missing for a listed locale",
             "Every locale in widget.locale needs i18n/<locale>.json.",
             "Add the file (copy another locale and translate it).")
KS402 = rule("KS402", "error", "i18n file is not a valid JSON object",
             "Kommo cannot read the texts of this locale.",
             "Fix the JSON; the file is a nested object of texts.")
KS403 = rule("KS403", "error", "i18n key referenced by the manifest is missing",
             "The manifest names its texts by i18n key; a missing key shows as the raw key or "
             "fails the upload.", "Add the key to the locale file.")
KS404 = rule("KS404", "error", "i18n text an area needs is missing or empty",
             "Some areas are read by Kommo from the locale files directly (e.g. ai_agent reads "
             "widget.ai_agent_description in every locale).", "Add a non-empty text.")
KS405 = rule("KS405", "warning", "i18n files differ in key structure",
             "Kommo requires the same keys in every locale file.",
             "Add the missing keys so all locale files match.")
KS406 = rule("KS406", "warning", "Unknown locale",
             "Kommo supports en, es, pt, tr and id (amoCRM adds ru).",
             "Use a supported locale code.")
KS407 = rule("KS407", "note", "amoCRM locale",
             "ru is an amoCRM locale; Kommo accounts do not offer it.",
             "Fine for amoCRM; add en/es/pt for Kommo: " + by_answer("'locales=[ru, en]'")
             + ".")
KS408 = rule("KS408", "note", "i18n file for an unlisted locale",
             "The file is not in widget.locale, so Kommo never reads it.",
             "Add the locale to widget.locale or remove the file.")

def check_i18n(ctx: Context) -> None:
    """KS401-KS408: one file per locale, same keys, every referenced key present."""
    manifest = ctx.manifest
    if manifest is None:
        return
    locale = as_dict(manifest.get("widget")).get("locale")
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
        ok, data = load_json(ctx, file, KS402)
        if ok and not isinstance(data, dict):
            ctx.add(KS402, f"the top level is {type_name(data)}, not an object", file)
        elif ok:
            ctx.i18n[code] = data
    for name in sorted(ctx.widget.sizes):
        match = re.fullmatch(r"i18n/([^/]+)\.json", name)
        if match and match.group(1) not in locales:
            ctx.add(KS408, f"{match.group(1)!r} is not in widget.locale", name)
    refs = manifest_i18n_refs(manifest, ctx.codes)
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
                ctx.add(KS405, f"{plural(len(missing), 'key')} other locales have: {shown}",
                        f"i18n/{code}.json")


def manifest_i18n_refs(manifest: dict[str, Any], codes: list[str] | None = None
                       ) -> dict[str, str]:
    """i18n key -> the manifest path that uses it (only values shaped like dotted keys).
    With ``codes``, texts of area blocks whose area is not among them are left out: Kommo
    ignores those blocks (KS213 reports them)."""
    refs: dict[str, str] = {}

    def add(value: Any, path: str) -> None:
        block = path.split(".", 1)[0]
        if codes is not None and block in _AREA_BLOCKS and _AREA_BLOCKS[block] not in codes:
            return
        if isinstance(value, str) and _I18N_KEY.match(value) and value not in refs:
            refs[value] = path

    widget = as_dict(manifest.get("widget"))
    for key in ("name", "description", "short_description"):
        add(widget.get(key), f"widget.{key}")
    add(as_dict(manifest.get("tour")).get("tour_description"), "tour.tour_description")
    for code, spec in as_dict(manifest.get("settings")).items():
        add(as_dict(spec).get("name"), f"settings.{code}.name")
    add(as_dict(manifest.get("advanced")).get("title"), "advanced.title")
    for code, spec in as_dict(as_dict(manifest.get("dp")).get("settings")).items():
        add(as_dict(spec).get("name"), f"dp.settings.{code}.name")
    for handler, spec in as_dict(manifest.get("salesbot_designer")).items():
        add(as_dict(spec).get("name"), f"salesbot_designer.{handler}.name")
        for code, field_spec in as_dict(as_dict(spec).get("settings")).items():
            add(as_dict(field_spec).get("name"),
                f"salesbot_designer.{handler}.settings.{code}.name")
    for item, spec in as_dict(manifest.get("left_menu")).items():
        add(as_dict(spec).get("title"), f"left_menu.{item}.title")
        for sub, sub_spec in as_dict(as_dict(spec).get("submenu")).items():
            add(as_dict(sub_spec).get("title"), f"left_menu.{item}.submenu.{sub}.title")
    return refs
