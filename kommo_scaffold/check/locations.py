"""KS2xx: the manifest's locations are areas Kommo knows, written right, with the blocks,
companion areas and files each area needs (from the area catalog in
``kommo_scaffold.catalog.areas``)."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from kommo_scaffold.catalog import areas
from kommo_scaffold.check.context import Context, as_dict, type_name
from kommo_scaffold.check.manifest import KS104, KS105
from kommo_scaffold.check.registry import by_area, rule

# Keys of area blocks Kommo's manifest table marks optional (dp.settings, dp.webhook_url,
# mobile.color): missing is a warning, not an error.
OPTIONAL_BLOCK_KEYS = frozenset(("dp.settings", "dp.webhook_url", "mobile.color"))
_LOCATION = re.compile(r"^([a-z_]+)(?:-(.*))?$")

KS201 = rule("KS201", "error", "locations written as an object",
             "Kommo expects `locations` to be an array of strings such as [\"lcard-1\"]; some "
             "old widgets wrote an object, which Kommo does not read.",
             "Write the locations as an array, e.g. [\"lcard-1\", \"settings\"].")
KS202 = rule("KS202", "error", "Unknown location",
             "Kommo rejects or ignores locations it does not know.",
             "Use a documented area code (docs/areas.md lists them, from Kommo's "
             "https://developers.kommo.com/docs/widget-locations), e.g. lcard-1 or settings.")
KS203 = rule("KS203", "error", "Panel flag on an area that takes none",
             "Only card and list areas take -1/-0; `everywhere` and the other areas never do.",
             "Write the area without the suffix.")
KS204 = rule("KS204", "error", "Both -0 and -1 (or flag and no flag) of one area",
             "An area is either drawn in the right panel (-1) or not (-0); Kommo's tools "
             "reject both together.", "Keep one form of the area.")
KS205 = rule("KS205", "warning", "Duplicate location", "The same location is listed twice.",
             "Remove the duplicate.")
KS206 = rule("KS206", "note", "Card or list area without -0/-1",
             "Legacy docs default the flag to 1 (draw in the right panel); Kommo's docs do "
             "not say, so write it.", "Write area-1 to draw in the right panel, area-0 not to.")
KS207 = rule("KS207", "note", "amoCRM-only area",
             "The area exists on amoCRM and legacy Kommo accounts but not in Kommo's current "
             "area list.", "Fine for amoCRM; on Kommo the widget will not appear there.")
KS208 = rule("KS208", "warning", "No locations",
             "With an empty list the widget loads nowhere.",
             "List the areas the widget works in, e.g. [\"lcard-1\", \"settings\"].")
KS209 = rule("KS209", "error", "Area needs a companion area",
             "Some areas only work together with another one (card_sdk draws a tab inside a "
             "card, so it needs a card area).",
             "Add one of the areas named in the message (" + by_area("lcard") + ", say).")
KS210 = rule("KS210", "error", "Area needs its manifest block",
             "Areas such as digital_pipeline, advanced_settings, sms, mobile_card, "
             "salesbot_designer and widget_page are configured by a manifest block.",
             "Add the block named in the message (kommo-new writes a correct one).")
KS211 = rule("KS211", "error", "Manifest block lacks a required key",
             "Kommo needs this key for the area to work (e.g. sms.endpoint, advanced.title).",
             "Add the key.")
KS212 = rule("KS212", "warning", "Manifest block lacks a recommended key",
             "The key is optional in Kommo's table, but without it the area does little "
             "(e.g. no dp.webhook_url: digital pipeline events go nowhere).", "Add the key.")
KS213 = rule("KS213", "warning", "Manifest block without its area",
             "The block configures an area that is not in `locations`, so Kommo ignores it; "
             "the checklist says not to leave unused configuration.",
             "Add the area to `locations` or remove the block.")
KS216 = rule("KS216", "warning", "File referenced by the manifest is missing",
             "The manifest points at a file (left-menu icon, tour image) that is not in the "
             "widget.", "Add the file or fix the path.")
KS217 = rule("KS217", "warning", "custom settings field without the settings location",
             "A settings field of type custom is drawn by your settings() callback, which "
             "Kommo calls only when `settings` is in locations; without it the field stays "
             "empty on the install form.",
             "Add \"settings\" to locations (" + by_area("settings") + "), or use a "
             "text/pass/users field.")

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
        ctx.add(KS105, f"`locations` is {type_name(raw)}; it must be a list of strings", name,
                path="locations")
        return
    else:
        for index, value in enumerate(raw):
            if isinstance(value, str):
                strings.append((index, value))
            else:
                ctx.add(KS105, f"locations[{index}] is {type_name(value)}; it must be a "
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
    """KS201-KS217: known areas, panel flags, and what each area needs."""
    if ctx.manifest is None:
        return
    name = "manifest.json"
    _read_locations(ctx, ctx.manifest, name)
    if "locations" not in ctx.manifest:
        return
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
                ctx.add(KS105, f"`{area.manifest_block}` is {type_name(block)}; it must be an "
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
    _check_custom_fields(ctx, manifest)


def _check_referenced_files(ctx: Context, manifest: dict[str, Any]) -> None:
    refs: list[tuple[str, str]] = []
    for code, item in as_dict(manifest.get("left_menu")).items():
        icon = as_dict(item).get("icon")
        if isinstance(icon, str) and icon:
            refs.append((f"left_menu.{code}.icon", icon))
    for locale, images in as_dict(as_dict(manifest.get("tour")).get("tour_images")).items():
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


def _check_custom_fields(ctx: Context, manifest: dict[str, Any]) -> None:
    if "settings" in ctx.codes:
        return
    for code, spec in as_dict(manifest.get("settings")).items():
        if as_dict(spec).get("type") == "custom":
            ctx.add(KS217, f"settings.{code} is a custom field, but `settings` is not in "
                    "locations: Kommo never calls settings() to draw it", "manifest.json",
                    path=f"settings.{code}.type")
