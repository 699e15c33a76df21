"""Every project ships types of Kommo's widget API (types/kommo-widget.d.ts) and a
jsconfig.json, so `tsc -p jsconfig.json` (TypeScript, nothing else installed in the project)
checks widget/script.js: zero errors as generated, for each area alone and all together, and
the widget API's misuses reported where they are."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import rendered
from npm_tools import linked, npm_tools, tsc  # noqa: F401  (npm_tools is a fixture)

from kommo_scaffold.catalog import areas
from kommo_scaffold.check.pack import pack

COMPANIONS = {code: [a.requires_any[0]] for code, a in areas.AREA_BY_CODE.items()
              if a.requires_any}
ALL = {"locations": list(areas.AREA_CODES), "panel_locations": ["lcard", "llist"],
       "locales": ["en", "ru"]}


def type_check(project: Path, tools: Path) -> tuple[int, list[str]]:
    """tsc's exit code and its error lines (file(line,col): error TSnnnn: ...)."""
    done = subprocess.run([str(tsc(tools)), "-p", "jsconfig.json", "--pretty", "false"],
                          cwd=project, capture_output=True, text=True, timeout=120,
                          check=False)
    return done.returncode, [line for line in (done.stdout + done.stderr).splitlines()
                             if "error TS" in line]


@pytest.fixture(scope="module")
def all_areas(tmp_path_factory) -> Path:
    return rendered(tmp_path_factory.mktemp("all") / "widget", ALL)


def _edit(project: Path, old: str, new: str) -> None:
    script = project / "widget" / "script.js"
    text = script.read_text("utf-8")
    assert old in text, old
    script.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.parametrize("code", areas.AREA_CODES)
def test_each_area_alone_type_checks(make_widget, npm_tools, code):  # noqa: F811
    project = make_widget(locations=[code, *COMPANIONS.get(code, [])])
    assert (project / "types" / "kommo-widget.d.ts").is_file()
    assert (project / "widget" / "script.js").read_text("utf-8").startswith("// @ts-check\n")
    assert type_check(project, npm_tools) == (0, [])
    assert not (project / "node_modules").exists()


def test_all_areas_type_check_and_the_types_stay_out_of_the_zip(all_areas, npm_tools,  # noqa: F811
                                                                 tmp_path):
    project = tmp_path / "w"
    shutil.copytree(all_areas, project)
    assert type_check(project, npm_tools) == (0, [])
    names = [name for name, _ in pack(project, force=True).files]
    assert "script.js" in names
    assert not any(name.endswith((".d.ts", "jsconfig.json")) for name in names), names


# (text in script.js, its replacement, tsc's error, the text on the line tsc names)
MISUSES = {
    "mistyped method": (
        "self.get_settings()", "self.get_setings()",
        r"TS2551: Property 'get_setings' does not exist on type 'Widget'. "
        r"Did you mean 'get_settings'\?", "self.get_setings()"),
    "extra argument": (
        "var settings = self.get_settings();", "var settings = self.get_settings(true);",
        r"TS2554: Expected 0 arguments, but got 1\.", "self.get_settings(true)"),
    "missing argument": (
        "self.setSdkCatalogId(CATALOG_ID);", "self.setSdkCatalogId();",
        r"TS2554: Expected 1 arguments, but got 0\.", "self.setSdkCatalogId()"),
    "unknown option": (
        "caption: {class_name: PROJECT_CODE + '-caption'},",
        "caption_: {class_name: PROJECT_CODE + '-caption'},",
        r"TS2561: Object literal may only specify known properties, but 'caption_' does not "
        r"exist in type 'RenderTemplateOptions'. Did you mean to write 'caption'\?",
        "caption_:"),
    "Salesbot save returns no string": (
        "return JSON.stringify([", "return ([",
        r"TS2322: Type .* is not assignable to type .*=> string'",
        "this.callbacks.onSalesbotDesignerSave = function"),
    "card SDK callback returns no Promise": (
        "'-widget');\n      return Promise.resolve([]);",
        "'-widget');\n      return [];",
        r"TS2322: Type '\(\) => never\[\]' is not assignable to type '\(\) => Promise<",
        "this.callbacks.loadPreloadedData = function"),
    "current_card may be false": (
        "if (PANEL_AREAS.indexOf(self.system().area) !== -1) {",
        "if (APP.data.current_card.id) {",
        r"TS2339: Property 'id' does not exist on type 'false \| CurrentCard'",
        "APP.data.current_card.id"),
}


@pytest.mark.parametrize("misuse", sorted(MISUSES))
def test_misuses_of_the_widget_api_are_reported_at_their_line(all_areas, npm_tools,  # noqa: F811
                                                              tmp_path, misuse):
    old, new, error, at = MISUSES[misuse]
    project = tmp_path / "w"
    shutil.copytree(all_areas, project)
    _edit(project, old, new)
    status, errors = type_check(project, npm_tools)
    assert status != 0 and len(errors) == 1, errors
    text = (project / "widget" / "script.js").read_text("utf-8")
    line = text[:text.index(at)].count("\n") + 1
    assert errors[0].startswith(f"widget/script.js({line},"), (line, errors)
    assert re.search(error, errors[0]), errors


def test_definitelytyped_jquery_types_make_dollar_richer(all_areas, npm_tools, tmp_path):  # noqa: F811
    """With @types/jquery installed and listed, the generated script still checks cleanly
    and jQuery's own types apply (a jQuery result is no longer `any`)."""
    project = tmp_path / "w"
    shutil.copytree(all_areas, project)
    linked(project, npm_tools)
    config = project / "jsconfig.json"
    config.write_text(config.read_text("utf-8").replace(
        '"strict": true,', '"strict": true,\n    "types": ["jquery"],'), "utf-8")
    assert type_check(project, npm_tools) == (0, [])
    _edit(project, "var EVENT_NS = '.' + PROJECT_CODE;",
          "var EVENT_NS = '.' + PROJECT_CODE;\n    /** @type {number} */\n"
          "    var width = $('body').text();")
    status, errors = type_check(project, npm_tools)
    assert status != 0 and len(errors) == 1 and "TS2322: Type 'string' is not assignable " \
        "to type 'number'" in errors[0], errors


def test_the_recipes_type_check_in_a_generated_script(make_widget, npm_tools):  # noqa: F811
    """docs/recipes.md's browser code, pasted into render() of a generated script.js (one
    with the back end, whose recipe needs it), is clean under its // @ts-check (the preview
    tests run the same blocks)."""
    text = (Path(__file__).parent.parent / "docs" / "recipes.md").read_text("utf-8")
    blocks = re.findall(r"```js\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    # With the back end: its recipe calls BACKEND_URL, which such a script.js defines.
    project = make_widget(locations=["lcard"], backend=True,
                          backend_url="https://api.acme-crm.com/w")
    _edit(project, "render: function () {", "render: function () {\n" + "\n".join(
        f"(function () {{\n{block}\n}})();" for block in blocks))
    assert type_check(project, npm_tools) == (0, [])
