"""The node --test tests generated into every widget project: they pass on the generated
widget, for each area alone and all together, and fail when a callback is broken."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import rendered, tool, user_git

from kommo_scaffold.catalog import areas
from kommo_scaffold.scaffold import update

pytestmark = pytest.mark.skipif(tool("node") is None, reason="node is not installed")

COMPANIONS = {code: [a.requires_any[0]] for code, a in areas.AREA_BY_CODE.items()
              if a.requires_any}


def node_test(project: Path) -> tuple[int, list[str], list[str], str]:
    """(exit code, passed test names, failed test names, output) of `node --test tests/`."""
    done = subprocess.run(["node", "--test", "--test-reporter=tap", "tests/"], cwd=project,
                          capture_output=True, text=True, timeout=120, check=False)
    out = done.stdout + done.stderr
    passed = re.findall(r"(?m)^ok \d+ - (.+)$", out)
    failed = re.findall(r"(?m)^not ok \d+ - (.+)$", out)
    return done.returncode, passed, failed, out


@pytest.fixture(scope="module")
def all_areas(tmp_path_factory) -> Path:
    return rendered(tmp_path_factory.mktemp("all") / "widget",
                    {"locations": list(areas.AREA_CODES), "locales": list(areas.LOCALES)})


@pytest.mark.parametrize("code", areas.AREA_CODES)
def test_generated_tests_pass_for_each_area_alone(make_widget, code):
    project = make_widget(locations=[code, *COMPANIONS.get(code, [])])
    status, passed, failed, out = node_test(project)
    assert status == 0 and not failed, out
    assert f"{code}: render, init and bind_actions return true" in passed
    assert "script.js defines exactly one AMD module that builds the widget" in passed
    area = areas.AREA_BY_CODE[code]
    for name in area.callbacks:
        if name.endswith(".selected"):
            assert any(name in test for test in passed), (name, passed)


def test_generated_tests_pass_for_all_areas_together_and_npm_test(all_areas):
    status, passed, failed, out = node_test(all_areas)
    assert status == 0 and not failed, out
    for code in areas.AREA_CODES:
        assert f"{code}: render, init and bind_actions return true" in passed
    for fragment in ("leads.selected", "contacts.selected", "todo.selected", "tasks.selected",
                     "dpSettings", "Salesbot JSON", "card SDK", "loadCatalogElement",
                     "onAddAsSource", "initMenuPage", "advancedSettings", "onSave",
                     "every i18n key"):
        assert any(fragment in name for name in passed), fragment
    if tool("npm"):
        done = subprocess.run(["npm", "test"], cwd=all_areas, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert not (all_areas / "node_modules").exists()
    readme = (all_areas / "README.md").read_text("utf-8")
    assert "node --test tests/" in readme and "npm test" in readme


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), "utf-8")


def _inject(path: Path, callback: str, code: str) -> None:
    """Put CODE first in the body of `callback`, written as a member of the callbacks object
    (`callback: function (...) {`) or assigned on its own (`this.callbacks.callback =
    function (...) {`), in script.js."""
    text = path.read_text("utf-8")
    pattern = re.compile(r"(\b" + re.escape(callback)
                         + r"\s*(?::|=)\s*function\s*\([^)]*\)\s*\{)")
    assert pattern.search(text), callback
    path.write_text(pattern.sub(lambda m: m.group(1) + "\n" + code, text, count=1), "utf-8")


# name: (callback to break, code put first in it, a failing test's title fragment)
BREAKAGES = {
    "render returns false": ("render", "return false;", "lcard: render, init and bind_actions"),
    "render throws": ("render", "null.boom();", "llist: render, init and bind_actions"),
    "init returns nothing": ("init", "return;", "settings: render, init and bind_actions"),
    "leads.selected returns false": ("selected", "return false;", "leads.selected handles"),
    "onSave returns nothing": ("onSave", "return undefined;",
                               "onSave({fields, active}) returns true"),
    "dpSettings returns false": ("dpSettings", "return false;", "dpSettings() returns true"),
    "salesbot save returns an object": ("onSalesbotDesignerSave", "return {};", "Salesbot JSON"),
    "salesbot exit not declared": ("salesbotDesignerSettings",
                                   "return {exits: [{code: 'other', title: 'Other'}]};",
                                   "Salesbot JSON"),
    "card SDK without a Promise": ("loadElements", "return [];", "card SDK callbacks"),
    "initMenuPage throws": ("initMenuPage", "throw new Error('broken');", "initMenuPage"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_generated_tests_fail_on_a_broken_callback(all_areas, tmp_path, breakage):
    project = tmp_path / "widget"
    shutil.copytree(all_areas, project, ignore=shutil.ignore_patterns(".git"))
    callback, code, failing = BREAKAGES[breakage]
    _inject(project / "widget" / "script.js", callback, code)
    status, _, failed, out = node_test(project)
    assert status != 0, out
    assert any(failing in name for name in failed), (failing, failed)


def test_generated_tests_fail_on_two_define_calls_and_a_missing_callback(all_areas, tmp_path):
    project = tmp_path / "widget"
    shutil.copytree(all_areas, project, ignore=shutil.ignore_patterns(".git"))
    script = project / "widget" / "script.js"
    script.write_text("define([], function () { return function () {}; });\n"
                      + script.read_text("utf-8"), "utf-8")
    status, _, failed, _ = node_test(project)
    assert status != 0 and "script.js defines exactly one AMD module that builds the widget" \
        in failed
    shutil.copyfile(all_areas / "widget" / "script.js", script)
    _replace(script, "this.callbacks.contacts = {", "this.callbacks.contacts_list = {")
    status, _, failed, _ = node_test(project)
    assert status != 0
    assert failed == ["clist: contacts.selected handles both list_selected() shapes"]


def test_generated_tests_fail_on_a_missing_i18n_key(all_areas, tmp_path):
    project = tmp_path / "widget"
    shutil.copytree(all_areas, project, ignore=shutil.ignore_patterns(".git"))
    _replace(project / "widget" / "i18n" / "es.json", '"selected"', '"chosen"')
    status, _, failed, out = node_test(project)
    assert status != 0
    assert failed == ["every i18n key script.js uses is in every locale"], out
    assert "i18n/es.json has no ui.selected" in out


def test_add_area_adds_its_tests_and_keeps_the_developers(make_widget):
    project = make_widget(locations=["lcard"])
    tests = project / "tests" / "widget.test.js"
    mine = "\ntest('my own check', () => {\n  assert.equal(1 + 1, 2);\n});\n"
    tests.write_text(tests.read_text("utf-8") + mine, "utf-8")
    (project / "tests" / "mine.test.js").write_text(
        "'use strict';\nrequire('node:test')('another of mine', () => {});\n", "utf-8")
    user_git(project, "add", "-A")
    user_git(project, "commit", "-qm", "my tests")
    update.add_area(project, ["digital_pipeline", "llist"], panel=True, data={},
                    interactive=False)
    text = tests.read_text("utf-8")
    assert "my own check" in text and "dpSettings() returns true" in text
    status, passed, failed, out = node_test(project)
    assert status == 0 and not failed, out
    assert {"my own check", "another of mine", "digital_pipeline: dpSettings() returns true",
            "llist: leads.selected handles both list_selected() shapes"} <= set(passed)


def _split(project: Path, deps: str, use: str) -> None:
    """script.js asks for DEPS (after jquery) and runs USE in render()."""
    script = project / "widget" / "script.js"
    _replace(script, "define(['jquery'], /** @param {JQueryStatic} $ */ function ($) {",
             f"define(['jquery', {deps}], function ($, format, card) {{")
    _inject(script, "render", use)


def test_generated_tests_load_relative_modules_and_text_templates(all_areas, tmp_path):
    """A widget split into files (a helper module that needs its own relative module, a Twig
    template through text!, a query string) passes its generated tests, and the helper
    really runs: a broken helper fails render()."""
    project = tmp_path / "widget"
    shutil.copytree(all_areas, project, ignore=shutil.ignore_patterns(".git"))
    lib = project / "widget" / "lib"
    lib.mkdir()
    (lib / "units.js").write_text("define({suffix: '!'});\n", "utf-8")
    (lib / "format.js").write_text(
        "define(['./units'], function (units) {\n"
        "  return function (name) { return name.toUpperCase() + units.suffix; };\n"
        "});\n", "utf-8")
    (project / "widget" / "templates").mkdir()
    (project / "widget" / "templates" / "card.twig").write_text(
        "<div>{{ name }}</div>\n", "utf-8")
    _split(project, "'./lib/format.js?v=2', 'text!./templates/card.twig'",
           "if (format('ok') !== 'OK!' || card.indexOf('{{ name }}') === -1) {\n"
           "  throw new Error('split modules were not loaded');\n}")
    status, passed, failed, out = node_test(project)
    assert status == 0 and not failed, out
    assert "lcard: render, init and bind_actions return true" in passed

    (lib / "units.js").write_text("define({suffix: '?'});\n", "utf-8")
    status, _, failed, out = node_test(project)
    assert status != 0 and "lcard: render, init and bind_actions return true" in failed, out


@pytest.mark.parametrize(("dep", "message"), [
    ("'./lib/missing.js'", "module ./lib/missing.js is not in widget/"),
    ("'text!./templates/none.twig'", "module ./templates/none.twig is not in widget/"),
    ("'../package.json'", "module ../package.json is outside widget/"),
])
def test_generated_tests_name_a_module_the_widget_lacks(all_areas, tmp_path, dep, message):
    project = tmp_path / "widget"
    shutil.copytree(all_areas, project, ignore=shutil.ignore_patterns(".git"))
    _split(project, dep, "")
    status, _, failed, out = node_test(project)
    assert status != 0 and "script.js defines exactly one AMD module that builds the widget" \
        in failed, out
    assert message in out
