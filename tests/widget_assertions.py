"""Verify a generated widget project with real tools, against the area catalog.

JSON files are parsed, script.js is compiled and loaded by a node harness the way Kommo
loads it (V8 in script mode, as a browser runs it: a syntax error fails the harness), logos
are opened with Pillow, PHP files go through `php -l`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from kommo_scaffold.catalog import areas

HARNESS = Path(__file__).parent / "js" / "widget_harness.js"
# Salesbot placeholders ({{json.status}}, {{json.<key>}}) the template writes on purpose.
ALLOWED_BRACES = re.compile(r"\{\{json\.[^{}]*\}\}")


def callbacks_for(locations: list[str] | tuple[str, ...]) -> list[str]:
    """All callbacks script.js defines for these areas (from the catalog), base ones first."""
    result = list(areas.BASE_CALLBACKS)
    for code in locations:
        for name in areas.AREA_BY_CODE[code].callbacks + areas.AREA_BY_CODE[code].alias_callbacks:
            if name not in result:
                result.append(name)
    return result


def load_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def flatten_keys(node: Any, prefix: str = "") -> set[str]:
    if not isinstance(node, dict):
        return {prefix}
    keys: set[str] = set()
    for key, value in node.items():
        keys |= flatten_keys(value, f"{prefix}.{key}" if prefix else key)
    return keys


def manifest_i18n_keys(manifest: dict[str, Any]) -> set[str]:
    """Every i18n key the manifest refers to."""
    refs = {manifest["widget"][k] for k in ("name", "description", "short_description")}
    if "tour" in manifest:
        refs.add(manifest["tour"]["tour_description"])
    for field in manifest.get("settings", {}).values():
        refs.add(field["name"])
    if "advanced" in manifest:
        refs.add(manifest["advanced"]["title"])
    for field in manifest.get("dp", {}).get("settings", {}).values():
        refs.add(field["name"])
    for handler in manifest.get("salesbot_designer", {}).values():
        if isinstance(handler, dict):
            refs.add(handler["name"])
            refs |= {f["name"] for f in handler.get("settings", {}).values()}
    for item in manifest.get("left_menu", {}).values():
        refs.add(item["title"])
    return refs


def widget_facts(project: Path) -> dict[str, Any]:
    """What the node harness sees when it loads script.js like Kommo does."""
    widget = project / "widget"
    locale = load_json(widget / "manifest.json")["widget"]["locale"][0]
    result = subprocess.run(
        ["node", str(HARNESS), str(widget / "script.js"), str(widget / "i18n" / f"{locale}.json")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Where Kommo's DOM or API is addressed by the code Kommo assigned (not the project's).
KOMMO_LOOKUPS: dict[str, str] = {
    "settings": "#{code}_custom_content",
    "advanced_settings": "#work-area-{code}",
    "widget_page": "#work-area-{code}",
    "digital_pipeline": ".digital-pipeline__short-task_widget-style_{code}",
    "card_sdk": "#{code}",
}


def assert_kommo_code_read_at_run_time(facts: dict[str, Any], locations: list[str],
                                       project_code: str) -> None:
    """The harness gives the widget a Kommo code unlike the project's: every lookup of
    Kommo's DOM uses it, and no lookup uses the project's code in its place."""
    kommo = facts["kommoCode"]
    lookups = facts["kommoLookups"]
    for code in ["settings", *locations]:
        if code in KOMMO_LOOKUPS:
            assert KOMMO_LOOKUPS[code].format(code=kommo) in lookups, (code, lookups)
    for template in KOMMO_LOOKUPS.values():
        assert template.format(code=project_code) not in lookups, lookups


def assert_valid_widget(project: Path, allowed_warnings: frozenset[str] = frozenset()
                        ) -> dict[str, Any]:
    """Check everything the catalog says about this project; return its answers.

    ``allowed_warnings``: checker rules the user's own answers trigger (e.g. a long name).
    """
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    locations: list[str] = answers["locations"]
    panel: list[str] = answers.get("panel_locations") or []
    widget = project / "widget"
    manifest = load_json(widget / "manifest.json")

    # manifest.json
    assert manifest["widget"]["interface_version"] == 2
    assert manifest["widget"]["locale"] == answers["locales"]
    assert manifest["widget"]["init_once"] is answers["init_once"]
    assert manifest["widget"]["installation"] is answers["installation"]
    assert manifest["locations"] == [areas.manifest_location(c, panel) for c in locations]
    for location in manifest["locations"]:
        code, _, flag = location.partition("-")
        assert bool(flag) == areas.AREA_BY_CODE[code].takes_panel_flag, location
    blocks = {a.manifest_block for a in areas.AREAS if a.manifest_block}
    wanted_blocks = {areas.AREA_BY_CODE[c].manifest_block for c in locations} - {None}
    assert {b for b in blocks if b in manifest} == wanted_blocks
    for code in locations:
        area = areas.AREA_BY_CODE[code]
        if area.manifest_block and area.manifest_keys:
            assert set(area.manifest_keys) <= set(manifest[area.manifest_block]), code

    # i18n: one file per locale, one key structure, every referenced key present
    files = sorted(p.stem for p in (widget / "i18n").glob("*.json"))
    assert files == sorted(answers["locales"])
    structures = {loc: flatten_keys(load_json(widget / "i18n" / f"{loc}.json")) for loc in files}
    first = structures[files[0]]
    assert all(keys == first for keys in structures.values()), structures
    assert manifest_i18n_keys(manifest) <= first
    for code in locations:
        assert set(areas.AREA_BY_CODE[code].i18n_keys) <= first, code
    if "ai_agent" in locations:
        for loc in files:
            assert load_json(widget / "i18n" / f"{loc}.json")["widget"]["ai_agent_description"]

    # script.js: valid JS (the harness compiles it), an AMD module with exactly the
    # callbacks the areas need
    facts = widget_facts(project)
    assert facts["returnsWidget"]
    assert sorted(facts["callbacks"]) == sorted(callbacks_for(locations))
    for name in ("render", "init", "bind_actions", "onSave"):
        assert facts["results"][name] is True, name
    for name, value in facts["results"].items():
        assert value is True, name
    assert_kommo_code_read_at_run_time(facts, locations, str(answers["widget_code"]))

    # images: exactly the logos the areas need, at Kommo's sizes, well under 300 KB
    wanted_logos = areas.logos_for(locations)
    pngs = {p.name for p in (widget / "images").glob("*.png")}
    assert pngs == set(wanted_logos)
    for name, size in wanted_logos.items():
        path = widget / "images" / name
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == size, name
        assert path.stat().st_size < areas.MAX_IMAGE_BYTES / 4
    assert (widget / "images" / "menu_icon.svg").exists() == ("widget_page" in locations)

    # no Jinja left behind in any text file (meaningful only if the user typed no braces)
    user_typed_braces = re.search(r"\{\{|\{%", yaml.safe_dump(answers, allow_unicode=True))
    for path in project.rglob("*"):
        if user_typed_braces:
            break
        if path.is_file() and ".git" not in path.parts and path.suffix != ".png":
            text = path.read_text("utf-8")
            leftovers = {found for found in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text)
                         if not ALLOWED_BRACES.fullmatch(found)}
            assert not leftovers, (path, leftovers)

    # back end only when an area needs it or the backend answer asks for it; every PHP
    # file lints
    needs_backend = areas.has_backend(locations, answers.get("backend") is True)
    assert (project / "backend").is_dir() == needs_backend
    if needs_backend and shutil.which("php"):
        for php in (project / "backend").rglob("*.php"):
            lint = subprocess.run(["php", "-l", str(php)], capture_output=True, text=True,
                                  check=False)
            assert lint.returncode == 0, lint.stdout + lint.stderr
    # our own checker: nothing Kommo would reject, no warning the template could avoid
    from kommo_scaffold.check import check_path

    report = check_path(project)
    from check_helpers import generated_warnings_ok

    unexpected = [f"{f.rule} {f.where()}: {f.message}" for f in report.errors]
    unexpected += [w for w in generated_warnings_ok(report)
                   if w.split(" ", 1)[0] not in allowed_warnings]
    assert not unexpected, unexpected
    return answers
