"""The preview page in a real browser: Playwright drives Debian's Chromium (no download).

CI installs chromium and npm (.ci/run), so there these tests must run; on a developer
machine without them they are skipped with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, rendered
from dev_helpers import dev_session
from http_helpers import QuietHandler, local_server
from npm_tools import linked, npm_tools, tsc  # noqa: F401  (npm_tools is a fixture)

from kommo_scaffold.catalog import areas
from kommo_scaffold.dev import workspace as project
from kommo_scaffold.dev.libs import PreviewLibs

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
# What Kommo calls when an area opens, after render, init and bind_actions.
ENTRY_CALLBACKS = {
    "settings": ["settings"], "advanced_settings": ["advancedSettings"],
    "widget_page": ["initMenuPage"], "digital_pipeline": ["dpSettings"],
    "card_sdk": ["loadPreloadedData", "loadElements"], "catalogs": ["loadCatalogElement"],
    "lead_sources": ["onAddAsSource"], "salesbot_designer": ["salesbotDesignerSettings"],
}
LIFECYCLE = ["render", "init", "bind_actions"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must install it: see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for this module's tests, each in a context of its own. Playwright's sync API
    keeps an asyncio loop running while it is started, which would break an in-process
    prompt (prompt_toolkit calls asyncio.run): so it never outlives the module, whose tests
    prompt for nothing, and pytest ends a module's fixtures before another module's test."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable("chromium is not installed")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def preview_libs() -> PreviewLibs:
    libs = PreviewLibs()
    libs.ensure()
    if libs.error:
        _unavailable(f"preview libraries: {libs.error}")
    return libs


class Preview:
    """One page on the preview, recording console errors."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, query: str = "") -> Preview:
        self.page.goto(f"{self.base_url}/preview/{query}")
        self.page.wait_for_function("window.kommoPreview !== undefined")
        self.page.evaluate("kommoPreview.ready")
        return self

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def log(self) -> list[dict[str, Any]]:
        return self.js("kommoPreview.log.map(e => Object.assign({}, e))")

    def calls(self, start: int = 0) -> list[tuple[str, str]]:
        return [(e["area"], e["callback"]) for e in self.log()[start:]]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def preview(browser, preview_libs) -> Iterator[Any]:
    """preview(project) -> (Preview, DevSession); everything stops after the test."""
    stack: list[Any] = []

    def start(path: Path, dev_zip: bool = True) -> tuple[Preview, Any]:
        manager = dev_session(path, preview_libs=True, dev_zip=dev_zip)
        session, _ = manager.__enter__()
        stack.append(manager)
        page = Preview(browser, session.server.base_url)
        stack.append(page)
        return page, session

    try:
        yield start
    finally:
        for item in reversed(stack):
            if isinstance(item, Preview):
                item.close()
            else:
                item.__exit__(None, None, None)


@pytest.fixture(scope="module")
def all_areas(tmp_path_factory) -> Path:
    return rendered(tmp_path_factory.mktemp("all-areas") / "widget",
                    {"locations": list(areas.AREA_CODES)})


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git", ".kommo", "dist"))
    return target


def test_every_area_opens_without_console_errors_in_kommos_order(preview, all_areas):
    """Every area of the catalog has a page; where Kommo runs no script.js (sms, the mobile
    app's frame, the AI agent) the page shows the area and calls nothing."""
    page, _ = preview(all_areas)
    frames: list[str] = []

    def mobile_page(route: Any) -> None:
        frames.append(route.request.url)
        route.fulfill(body="<p id=m>mobile page</p>", content_type="text/html")

    page.context.route("https://example.com/**", mobile_page)
    page.open()
    opened = page.js("kommoPreview.areas()")
    assert opened == list(areas.AREA_CODES)
    for area in opened:
        page.open(f"?area={area}")
        assert page.js("document.getElementById('page_holder').dataset.area") == area
        scriptless = not areas.AREA_BY_CODE[area].runs_script
        wanted = [] if scriptless else \
            [(area, name) for name in LIFECYCLE + ENTRY_CALLBACKS.get(area, [])]
        assert page.calls() == wanted, area
        if scriptless:
            assert page.page.locator("#page_holder .kp-scriptless").count() == 1, area
            continue
        assert all(e["error"] is None for e in page.log()), page.log()
        returned = {e["callback"]: e["returned"] for e in page.log()}
        assert returned["render"] is True and returned["init"] is True
        if area == "salesbot_designer":  # ($body, renderRow, the step's values by field)
            args = page.log()[-1]["args"]
            assert args[1] == "[function]" and args[2] == {"message": ""}, args
    # The mobile card: mobile.frame_url in a phone-sized frame under mobile.color.
    page.open("?area=mobile_card")
    manifest = json.loads((all_areas / "widget" / "manifest.json").read_text("utf-8"))
    frame = page.page.locator(".kp-phone__frame")
    assert frame.get_attribute("src") == manifest["mobile"]["frame_url"] == frames[-1]
    assert page.page.frame_locator(".kp-phone__frame").locator("#m").inner_text() == \
        "mobile page"
    assert frame.evaluate("f => f.offsetWidth") == 375  # a phone's screen
    # The AI agent's block: the description of each locale.
    page.open("?area=ai_agent")
    en = json.loads((all_areas / "widget" / "i18n" / "en.json").read_text("utf-8"))
    assert page.page.inner_text(".kp-ai-agent__descriptions dd[data-lang=en]") == \
        en["widget"]["ai_agent_description"]
    assert page.errors == []


def test_moving_between_areas_destroys_then_renders_and_lists_call_selected(preview, all_areas):
    page, _ = preview(all_areas)
    page.open("?area=lcard")
    start = len(page.log())
    page.js("kommoPreview.go('llist')")
    assert page.calls(start) == [("lcard", "destroy"), ("llist", "render"), ("llist", "init"),
                                 ("llist", "bind_actions")]
    start = len(page.log())
    assert page.js("kommoPreview.selectRows(3)") is True
    assert page.calls(start) == [("llist", "leads.selected")]
    selected = page.js("kommoPreview.widget().list_selected()")
    assert [row["id"] for row in selected["selected"]] == [101, 102, 103]
    assert selected["count_selected"] == 3 and selected["summary"]["items"] == 3
    assert page.js("kommoPreview.widget().get_settings().widget_code") != "widget"
    page.js("kommoPreview.go('culist')")
    start = len(page.log())
    page.js("kommoPreview.selectRows(1)")
    assert page.calls(start) == []  # no customers.selected: the catalog documents none
    assert page.errors == []


def test_settings_modal_save_calls_on_save_and_persists(preview, make_widget):
    path = make_widget(locations=["lcard", "settings"],
                       settings_fields=[{"code": "api_key", "type": "text", "required": True},
                                        {"code": "extra", "type": "custom"}])
    page, _session = preview(path)
    page.open()
    start = len(page.log())
    page.js("kommoPreview.openSettings()")
    code = page.js("kommoPreview.widget().get_settings().widget_code")
    assert page.page.locator(f".modal.{code} .widget_settings_block "
                             "input[name=api_key]").count() == 1
    # The field class wraps the input, as widgets' selectors expect.
    assert page.page.locator(f".modal.{code} .widget_settings_block__input_field "
                             "> input[name=api_key]").count() == 1
    assert page.page.locator("input.widget_settings_block__input_field").count() == 0
    assert page.page.locator(f"#{code}_custom_content").count() == 1
    result = page.js("kommoPreview.save({api_key: 'k-1'})")
    assert result == {"saved": True, "result": True}
    on_save = next(e for e in page.log()[start:] if e["callback"] == "onSave")
    assert on_save["args"][0]["fields"]["api_key"] == "k-1"
    assert on_save["args"][0]["active"] == "Y"
    stored = json.loads((path / ".kommo" / "dev-settings.json").read_text("utf-8"))
    assert stored["fields"]["api_key"] == "k-1"
    assert page.js("kommoPreview.widget().get_settings().api_key") == "k-1"
    assert page.errors == []


def _edit_render(path: Path, code: str) -> None:
    script = path / "widget" / "script.js"
    text = script.read_text("utf-8")
    script.write_text(text.replace("render: function () {", "render: function () {\n" + code,
                                   1), "utf-8")


@pytest.mark.parametrize(("code", "shown"), [
    ("return false;", None), ("throw new Error('render broke');", "Error: render broke"),
])
def test_render_false_or_throwing_shows_the_failure(preview, make_widget, code, shown):
    path = make_widget(locations=["lcard"])
    _edit_render(path, code)
    page, _ = preview(path)
    page.open()
    log = page.log()
    assert [e["callback"] for e in log] == ["render"], log
    if shown:
        assert log[0]["error"] == shown
    else:
        assert log[0]["returned"] is False
        assert any("render did not return true" in w for w in page.js("kommoPreview.warnings"))
    assert page.page.locator("#kp-log .kp-error, #kp-log .kp-warning").count() >= 1
    assert page.errors == []


def test_custom_template_system_control_and_init_once(preview, make_widget):
    path = make_widget(locations=["lcard", "llist"], init_once=True)
    (path / "widget" / "templates").mkdir()
    (path / "widget" / "templates" / "hello.twig").write_text(
        '<p class="hello">Hello {{ name }}</p>', "utf-8")
    _edit_render(path, """
        self.render({href: '/templates/hello.twig', base_path: self.params.path,
                     v: self.get_version(), load: function (template) {
          $('#page_holder').append(template.render({name: 'Ada'}));
        }});
        $('#page_holder').append(self.render({ref: '/tmpl/controls/input.twig'},
                                             {name: 'q', class_name: 'ctl'}));
    """)
    page, _ = preview(path)
    page.open()
    page.page.wait_for_selector(".hello")
    assert page.page.inner_text(".hello") == "Hello Ada"
    assert page.page.locator("input.ctl[name=q]").count() == 1
    start = len(page.log())
    page.js("kommoPreview.go('llist')")
    assert page.calls(start) == [("lcard", "destroy"), ("llist", "render")]  # init_once
    assert page.errors == []


def test_crm_post_round_trip_through_the_dev_server(preview, make_widget):
    seen: list[str] = []

    class Echo(QuietHandler):
        def do_POST(self):
            seen.append(self.body().decode())
            self.reply(200, json.dumps({"ok": True, "got": seen[-1]}).encode())

    with local_server(Echo) as backend:
        page, _ = preview(make_widget(locations=["lcard"]))
        page.open()
        url = f"{backend}/api"
        answer = page.js(f"""new Promise(function (resolve, reject) {{
            kommoPreview.widget().crm_post({json.dumps(url)}, {{lead_id: 5, note: 'a b'}},
              function (data) {{ resolve(data); }}, 'json', function (e) {{ reject(e); }});
        }})""")
        assert answer == {"ok": True, "got": "lead_id=5&note=a+b"}
        assert seen == ["lead_id=5&note=a+b"]
        assert page.errors == []


def test_a_save_reloads_the_page_and_shows_the_checkers_findings(preview, make_widget):
    path = make_widget(locations=["lcard"])
    page, _ = preview(path)
    page.open()
    page.js("window.beforeReload = true")
    script = path / "widget" / "script.js"
    script.write_text(script.read_text("utf-8").replace("bind_actions: function",
                                                        "bind_action: function"), "utf-8")
    page.page.wait_for_function("window.beforeReload === undefined && window.kommoPreview")
    # The finding of the saved file (a save in place may show an earlier state first).
    page.page.wait_for_function(
        "[...document.querySelectorAll('#kp-findings .kp-error')]"
        ".some(e => e.textContent.includes('KS305'))", timeout=10000)
    page.js("kommoPreview.ready")
    assert ("lcard", "bind_actions") in page.calls()
    assert any(e["callback"] == "bind_actions" and e["error"] for e in page.log())


def test_dev_zip_loader_runs_the_bundled_script_or_the_dev_server(preview, make_widget,
                                                                  tmp_path):
    real = make_widget(locations=["lcard"])
    real_page, real_session = preview(real)
    # A second project whose widget/ is the unzipped dev zip of the first, as Kommo holds it.
    uploaded = _copy(real, tmp_path / "uploaded")
    shutil.rmtree(uploaded / "widget")
    with zipfile.ZipFile(real_session.dev.dev_zip) as archive:
        archive.extractall(uploaded / "widget")
    page, _ = preview(uploaded, dev_zip=False)
    page.open()
    assert page.calls() == [("lcard", n) for n in LIFECYCLE]  # the bundled real script ran
    key, port = real_session.dev.dev_key, real_session.server.port
    page.js(f"localStorage.setItem({json.dumps(key)}, '{port}')")
    lines: list[str] = []
    real_session.server.on_log = lines.append
    page.open()
    assert page.calls() == [("lcard", n) for n in LIFECYCLE]
    assert any(line.startswith("GET /script.js 200") for line in lines), lines
    page.js(f"localStorage.setItem({json.dumps(key)}, 'http://evil.example/x.js')")
    lines.clear()
    page.open()
    assert page.calls() == [("lcard", n) for n in LIFECYCLE]
    assert lines == []
    assert project.REAL_SCRIPT in {p.name for p in (uploaded / "widget").iterdir()}
    assert page.errors == [] and real_page.errors == []


WIDGET_MEMBERS = ["system", "get_settings", "set_settings", "i18n", "set_lang", "get_version",
                  "get_install_status", "set_status", "render", "render_template", "crm_post",
                  "$authorizedAjax", "list_selected", "widgetsOverlay", "add_action",
                  "add_source", "get_pipeline_id", "setSdkCatalogId"]


def test_widget_members_globals_authorized_ajax_and_warnings(preview, make_widget):
    path = make_widget(locations=["lcard", "digital_pipeline"])
    _edit_render(path, "self.i18n('no.such.key');")
    script = path / "widget" / "script.js"
    _replace_once(script, "this.callbacks.dpSettings = function",
                  "this.callbacks.dpSettingz = function")
    headers: list[str] = []

    class Echo(QuietHandler):
        def do_GET(self):
            headers.append(self.headers.get("X-Auth-Token", ""))
            self.reply(200, b"{}", CORS)

        def do_OPTIONS(self):
            self.reply(204, headers=CORS)

    with local_server(Echo) as backend:
        page, _ = preview(path)
        page.open()
        members = page.js(f"{json.dumps(WIDGET_MEMBERS)}.filter("
                          "k => typeof kommoPreview.widget()[k] !== 'function')")
        assert members == []
        assert page.js("typeof kommoPreview.widget().params === 'object' && "
                       "typeof kommoPreview.widget().langs === 'object'")
        assert page.js("window.APP === window.AMOCRM && APP.constant('account').subdomain")
        assert page.js("kommoPreview.widget().system().area") == "lcard"
        assert page.js("[AMOCRM.widgets.system.area, AMOCRM.widgets.system.amouser, "
                       "AMOCRM.widgets.system.subdomain, AMOCRM.widgets.system.amouser_id]") == \
            ["lcard", "dev@example.com", "preview", 2000001]
        assert page.js("AMOCRM.constant('card_id')") == page.js("APP.data.current_card.id") == 1
        assert page.js("typeof AMOCRM.constant('user').personal_mobile") == "string"
        url = f"{backend}/me"
        page.js("url => Promise.resolve(kommoPreview.widget().$authorizedAjax({url: url}))",
                url)
        assert len(headers) == 1 and headers[0].count(".") == 2
        secret = json.loads((path / ".kommo" / "dev-settings.json").read_text("utf-8"))[
            "jwt_secret"]
        signed, signature = headers[0].rsplit(".", 1)
        assert base64.urlsafe_b64decode(signature + "==") == hmac.new(
            secret.encode(), signed.encode(), hashlib.sha256).digest()
        page.js("kommoPreview.go('digital_pipeline')")
        assert page.js("[AMOCRM.constant('card_id'), AMOCRM.widgets.system.area]") == \
            [0, "digital_pipeline"]
        warnings = page.js("kommoPreview.warnings")
        assert any("no.such.key" in w for w in warnings), warnings
        assert any("callbacks.dpSettings is missing" in w for w in warnings), warnings
        # The template keeps its project code for CSS and events and reads Kommo's at run time.
        assert not any("hard-codes the widget code" in w for w in warnings), warnings
        assert page.errors == []


CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "X-Auth-Token"}


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def test_a_script_using_its_project_code_as_kommos_code_is_warned(preview, make_widget):
    path = make_widget(locations=["lcard", "digital_pipeline"])
    script = path / "widget" / "script.js"
    found = re.search(r"var PROJECT_CODE = \"(\w+)\";", script.read_text("utf-8"))
    assert found
    code = found.group(1)
    _replace_once(script, "'.digital-pipeline__short-task_widget-style_' + kommoCode()",
                  f"'.digital-pipeline__short-task_widget-style_{code}'")
    page, _ = preview(path)
    page.open()
    warnings = page.js("kommoPreview.warnings")
    assert any(f'hard-codes the widget code "{code}"' in w for w in warnings), warnings


def test_after_the_first_install_the_libraries_need_no_npm(preview_libs, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm, no node: offline
    libs = PreviewLibs()
    libs.ensure()
    assert libs.error is None and libs.folder == preview_libs.folder
    jquery = libs.file("jquery")
    assert jquery is not None and "jQuery JavaScript Library v3." in jquery.read_text("utf-8")[:200]


def test_a_script_that_does_not_load_shows_the_failure(preview, make_widget):
    path = make_widget(locations=["lcard"])
    script = path / "widget" / "script.js"
    script.write_text("define(['./missing.js'], function (m) { return m; });\n", "utf-8")
    page, _ = preview(path)
    page.open()
    log = page.log()
    assert [e["callback"] for e in log] == ["load"], log
    assert "missing.js" in log[0]["error"]
    assert page.page.locator("#kp-log .kp-error").count() == 1


def test_lang_parameter_picks_the_locale(preview, make_widget):
    path = make_widget(locations=["lcard"], locales=["en", "ru"])
    ru = json.loads((path / "widget" / "i18n" / "ru.json").read_text("utf-8"))
    page, _ = preview(path)
    page.open("?lang=ru")
    assert page.js("APP.lang_id") == "ru"
    assert page.js("kommoPreview.widget().i18n('widget.name')") == ru["widget"]["name"]
    assert page.calls() == [("lcard", n) for n in LIFECYCLE]
    assert page.errors == []


def test_a_card_widget_reads_the_open_lead_from_the_preview_api(preview, make_widget):
    """The commonest feature, offline: read the open card's lead through /api/v4 and show
    it; the project's fixture for that lead is what the widget gets, and the call appears in
    the preview's log."""
    path = make_widget(locations=["lcard"])
    fixtures = path / ".kommo" / "fixtures" / "api" / "v4" / "leads"
    fixtures.mkdir(parents=True)
    (fixtures / "1.json").write_text(json.dumps(
        {"id": 1, "name": "Fixture deal", "price": 4200,
         "_embedded": {"contacts": [{"id": 1, "is_main": True}]}}), "utf-8")
    _edit_render(path, """
        var card = APP.data.current_card;
        $.getJSON('/api/v4/leads/' + card.id + '?with=contacts').then(function (lead) {
          $('#page_holder').append($('<p class="lead-name"/>').text(lead.name + ': ' +
                                                                    lead.price));
        });
    """)
    page, _ = preview(path)
    page.open()
    page.page.wait_for_selector(".lead-name")
    assert page.page.inner_text(".lead-name") == "Fixture deal: 4200"
    page.page.wait_for_selector("#kp-log .kp-api")
    assert page.page.inner_text("#kp-log .kp-api") == \
        "API GET /api/v4/leads/1 → 200 (fixture 1.json)"
    assert page.errors == []


def test_twigjs_is_callable_with_kommos_registry_and_underscore_is_global(preview, make_widget):
    """Kommo's twigjs is the twig() function (widgets call Twig({ref}) and twigjs({data}))
    with twig.js's registry on it; underscore is a global too. Widgets use all of it."""
    path = make_widget(locations=["lcard"])
    _edit_render(path, """
        var twigjs = require('twigjs');
        $('#page_holder').append(
          Twig({ref: '/tmpl/controls/button.twig'}).render({text: 'Go', class_name: 'b1'}),
          twigjs({id: 'my_tpl', data: '<i class="t1">{{ n }}</i>'}).render({n: 7}),
          $('<b class="u1"/>').text(_.escape('<x>') + _.keys({a: 1, b: 2}).join('')));
    """)
    page, _ = preview(path)
    page.open()
    assert page.calls() == [("lcard", n) for n in LIFECYCLE], page.log()
    assert page.page.inner_text("button.b1") == "Go"
    assert page.page.inner_text("i.t1") == "7"
    assert page.page.inner_text("b.u1") == "&lt;x&gt;ab"
    assert page.js("typeof Twig === 'function' && Twig === require('twigjs') && "
                   "typeof Twig.twig === 'function' && typeof Twig.extend === 'function'")
    # The registry is twig.js's own: what twigjs({id}) compiled is there by its id.
    assert page.js("Twig.Templates.registry['my_tpl'].render({n: 8})") == '<i class="t1">8</i>'
    assert page.js("'/tmpl/controls/input.twig' in Twig.Templates.registry")
    assert page.js("window._ === require('underscore')")
    assert page.errors == []


def test_kommo_preview_ready_exists_before_the_preview_has_loaded(preview, make_widget):
    """A test may ask for kommoPreview.ready as soon as the page is there, before the
    preview's own code (loaded asynchronously by RequireJS) has run."""
    page, _ = preview(make_widget(locations=["lcard"]))
    held: list[Any] = []
    page.page.route("**/preview/app.js", lambda route: held.append(route))  # until released
    page.page.goto(f"{page.base_url}/preview/", wait_until="domcontentloaded")
    page.page.wait_for_function("document.querySelector('script[data-requiremodule=app]')")
    assert page.js("typeof window.kommoPreview.ready.then") == "function"
    assert page.js("window.kommoPreview.areas") is None  # the rest comes with app.js
    assert len(held) == 1
    held[0].continue_()
    assert page.js("kommoPreview.ready") is True
    assert page.calls() == [("lcard", n) for n in LIFECYCLE]


def test_the_panel_shows_the_translated_name_once_in_its_caption(preview, make_widget):
    """Kommo writes the widget's name (its i18n text, not the key) in the block's caption;
    the generated render() leaves it out of the body."""
    path = make_widget(locations=["lcard"], locales=["en", "ru"], widget_name="Deal Helper")
    page, _ = preview(path)
    page.open("?area=lcard&lang=ru")
    caption = page.page.locator(".card-widgets__widget__caption")
    assert caption.count() == 1 and caption.inner_text() == "Deal Helper"
    body = page.page.locator(".card-widgets__widget__body")
    assert "Deal Helper" not in body.inner_text() and "widget.name" not in body.inner_text()
    assert page.errors == []


def _documented_python(name: str) -> list[str]:
    text = (REPO / "docs" / name).read_text("utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_documented_playwright_example_runs_as_printed(preview_libs, browser, tmp_path,
                                                           cli_bin):
    """docs/dev-loop.md's example, unchanged (its port 9000 too: in a network namespace of
    its own), against `kommo dev` on the walk-through's project."""
    (example,) = _documented_python("dev-loop.md")
    if shutil.which("unshare") is None or shutil.which("curl") is None:
        _unavailable("needs unshare and curl to give the example its own port 9000")
    if subprocess.run(["unshare", "-rn", "true"], check=False).returncode != 0:
        _unavailable("network namespaces are not available here")
    project = rendered(tmp_path / "my-widget",
                       {"locations": ["lcard", "llist", "settings", "digital_pipeline"]})
    (tmp_path / "example.py").write_text(example, "utf-8")
    kommo = cli_bin / "real" / "kommo"
    script = f"""set -eu
ip link set lo up
(cd {shlex.quote(str(project))} && exec {shlex.quote(str(kommo))} dev --port 9000) \\
    >dev.log 2>&1 &
trap 'kill -INT $! 2>/dev/null; wait' EXIT
for _ in $(seq 300); do
  curl -s -o /dev/null http://127.0.0.1:9000/preview/ && break; sleep 0.1
done
{shlex.quote(sys.executable)} example.py
"""
    done = subprocess.run(["unshare", "-rn", "bash", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr + (tmp_path / "dev.log").read_text()
    assert "'callback': 'leads.selected'" in done.stdout, done.stdout


def test_the_back_end_button_calls_the_local_back_end(preview, tmp_path):
    """The generated script.js's button, clicked in the preview: $authorizedAjax signs with
    the project's jwt_secret, the generated back end (php -S) accepts it when started with that
    secret and the preview's origin in KOMMO_DEV_ORIGINS, and the page shows the answer, or
    why the call failed."""
    if shutil.which("php") is None:
        pytest.skip("php is not installed")
    from dev_helpers import free_port
    from test_backend import PhpServer

    port = free_port()
    path = rendered(tmp_path / "calls", {"widget_code": "calls", "locations": ["lcard"],
                                         "backend": True,
                                         "backend_url": f"http://127.0.0.1:{port}"})
    php = PhpServer(path, {}, port=port).start()
    try:
        page, session = preview(path)
        page.open()
        env = path / "backend" / ".env"
        origin = session.server.base_url.rstrip("/")
        answer = ".calls-answer"

        def click() -> str:
            page.js(f"document.querySelector({json.dumps(answer)}).textContent = ''")
            page.page.click(".calls-ping")
            page.page.wait_for_function(
                f"!['', '...'].includes(document.querySelector({json.dumps(answer)}).textContent)")
            return page.js(f"document.querySelector({json.dumps(answer)}).textContent")

        env.write_text(f"KOMMO_CLIENT_SECRET=not-the-preview-secret\nKOMMO_DEV_ORIGINS={origin}\n",
                       "utf-8")
        assert click() == "Back end call failed: Invalid token"
        secret = json.loads((path / ".kommo" / "dev-settings.json").read_text("utf-8"))[
            "jwt_secret"]
        env.write_text(f"KOMMO_CLIENT_SECRET={secret}\nKOMMO_DEV_ORIGINS={origin}\n", "utf-8")
        shown = click()
        assert shown.startswith("Back end answered: "), shown
        assert json.loads(shown.split(": ", 1)[1]) == {
            "ok": True, "account_id": 1000001, "user_id": 2000001, "subdomain": "preview"}
        env.write_text(f"KOMMO_CLIENT_SECRET={secret}\n", "utf-8")  # the origin not allowed
        assert click() == "Back end call failed: no answer"
        assert " GET /widget/ping 200 " in php.log()
    finally:
        php.stop()


def test_the_card_dom_current_card_and_the_api_tell_of_one_lead(preview, make_widget):
    """The lead card's form is built from what GET /api/v4/leads/1 answers (here the
    project's fixture over the default field definitions): the name, the budget, the
    custom fields as Kommo renders them, and APP.data.current_card's Backbone model."""
    path = make_widget(locations=["lcard", "ccard"])
    fixtures = path / ".kommo" / "fixtures" / "api" / "v4" / "leads"
    fixtures.mkdir(parents=True)
    (fixtures / "1.json").write_text(json.dumps({
        "id": 1, "name": "Fixture <deal>", "price": 4200, "custom_fields_values": [
            {"field_id": 2002, "field_name": "Priority", "field_type": "select",
             "values": [{"value": "Normal", "enum_id": 3002}]},
            {"field_id": 777, "field_name": "Extra", "field_type": "text",
             "values": [{"value": "x"}]}]}), "utf-8")
    page, _ = preview(path)
    page.open("?area=lcard")
    dom = page.js("""() => {
      const value = s => document.querySelector(s).value;
      return {name: value('#person_n'), nameField: document.querySelector('#person_n').name,
              price: value('input[name="lead[PRICE]"]'),
              labels: [...document.querySelectorAll('.linked-form__field__label')]
                .map(l => l.title),
              source: value('.linked-form__field input[name="CFV[2001]"]'),
              priority: value('.control--select input[name="CFV[2002]"]'),
              shown: document.querySelector('.linked-form__field[data-id="2002"] ' +
                                            '.control--select--button').textContent,
              options: [...document.querySelectorAll('[data-id="2002"] li')]
                .map(li => li.dataset.value + ' ' + li.textContent),
              extra: value('input[name="CFV[777]"]')};
    }""")
    assert dom == {"name": "Fixture <deal>", "nameField": "lead[NAME]", "price": "4200",
                   "labels": ["Budget", "Source", "Priority", "Extra"], "source": "",
                   "priority": "3002", "shown": "Normal",
                   "options": ["3001 High", "3002 Normal"], "extra": "x"}
    card = page.js("""async () => {
      const card = APP.data.current_card;
      const lead = await (await fetch('/api/v4/leads/' + card.id)).json();
      return {id: card.id, type: card.element_type, ids: [AMOCRM.constant('card_id'),
              APP.constant('card_id')], backbone: card.model instanceof require('backbone').Model,
              name: card.model.get('name'), priority: card.model.get('CFV[2002]'),
              price: card.model.get('lead[PRICE]'), api: [lead.id, lead.name, lead.price]};
    }""")
    assert card == {"id": 1, "type": 2, "ids": [1, 1], "backbone": True,
                    "name": "Fixture <deal>", "priority": 3002, "price": 4200,
                    "api": [1, "Fixture <deal>", 4200]}
    # A contact card: the default contact's fields, with its name under contact[NAME].
    page.js("kommoPreview.go('ccard')")
    assert page.js("[document.querySelector('#person_n').name, "
                   "document.querySelector('#person_n').value, APP.data.current_card.id, "
                   "APP.data.current_card.element_type]") == ["contact[NAME]", "Jane Doe", 1, 1]
    assert page.errors == []


def test_kommos_other_modules_globals_chrome_and_file_paths(preview, make_widget):
    """The rest of what Kommo's page gives widgets: its other AMD modules (json!, backbone,
    es6promise, pubsub, FileAPI, intl-tel-input and its utils), APP.system.format,
    get_accounts_current, APP.widgets.system, the left menu, and the widget's files under
    Kommo's own paths (same origin here, with the code Kommo assigned)."""
    path = make_widget(locations=["lcard", "widget_page"])
    _edit_render(path, """
        require(['backbone', 'es6promise', 'pubsub', 'FileAPI', 'intl-tel-input',
                 'intl-tel-input-utils', 'moment'],
                function (Backbone, es6promise, PubSub, FileAPI, itiPlugin, utils, moment) {
          var manifest = window.kpManifest;
          var got = [];
          PubSub.subscribe('kp', function (msg, data) { got.push(data); });
          PubSub.publishSync('kp', 'ok');
          var $phone = $('<input type="tel" class="phone"/>').appendTo('#page_holder');
          $phone.intlTelInput({initialCountry: 'us'});
          window.kpModules = {
            version: manifest.widget.version,
            model: new Backbone.Model({a: 1}).get('a'),
            promise: typeof es6promise.Promise, pubsub: got,
            fileapi: typeof FileAPI.upload,
            iti: $phone.closest('.iti').length,
            utils: utils.formatNumber('2015550123', 'us', utils.numberFormat.E164),
            format: moment('2026-01-02').format(APP.system.format.date.date),
            account: self.get_accounts_current().subdomain,
            system: [AMOCRM.widgets.system.amouser, AMOCRM.widgets.system.subdomain],
            mobile: AMOCRM.constant('user').personal_mobile
          };
        });
    """)
    # json!./x.json in the define line, relative to script.js as in Kommo.
    _replace_once(path / "widget" / "script.js", "define(['jquery'], ",
                  "define(['jquery', 'json!./manifest.json'], ")
    _replace_once(path / "widget" / "script.js", "function ($) {",
                  "function ($, manifest) {\n  window.kpManifest = manifest;")
    page, _ = preview(path)
    page.open("?area=lcard")
    page.page.wait_for_function("window.kpModules")
    manifest = json.loads((path / "widget" / "manifest.json").read_text("utf-8"))
    assert page.js("kpModules") == {
        "version": manifest["widget"]["version"], "model": 1, "promise": "function",
        "pubsub": ["ok"], "fileapi": "function", "iti": 1, "utils": "+12015550123",
        "format": "02.01.2026", "account": "preview",
        "system": ["dev@example.com", "preview"], "mobile": "+10000000000"}
    code = page.js("kommoPreview.widget().get_settings().widget_code")
    for url in (f"/upl/{code}/widget/manifest.json", f"/widgets/{code}/manifest.json"):
        assert page.js("u => fetch(u).then(r => r.json())", url) == manifest
    # The left menu Kommo draws, with the widget's own section that opens its page.
    assert page.js("[...document.querySelectorAll('#nav_menu .nav__menu__item')]"
                   ".map(i => i.dataset.entity)") == [
        "dashboard", "leads", "contacts", "todo", "settings", "widget_page"]
    start = len(page.log())
    page.page.click("#nav_menu [data-entity=widget_page] a")
    page.page.wait_for_function("kommoPreview.log.some(e => e.callback === 'initMenuPage')")
    assert ("widget_page", "render") in page.calls(start)
    assert page.errors == []
    assert page.js("u => fetch(u).then(r => r.status)", "/upl/kpwrong/widget/manifest.json") \
        == 404


def test_a_manifest_with_locations_as_an_object_shows_the_finding(preview, make_widget):
    """A manifest whose locations is an object is a mistake the checker reports; the
    preview still opens (with no areas) and shows that finding on the page."""
    path = make_widget(locations=["lcard"])
    manifest = path / "widget" / "manifest.json"
    data = json.loads(manifest.read_text("utf-8"))
    data["locations"] = {"lcard": True}
    manifest.write_text(json.dumps(data), "utf-8")
    page, _ = preview(path)
    page.open()
    assert page.js("kommoPreview.areas()") == []
    page.page.wait_for_function(
        "[...document.querySelectorAll('#kp-findings .kp-error')].some(e => "
        "e.textContent.includes('locations'))", timeout=20000)
    assert page.errors == []


# A widget that runs one recipe of docs/recipes.md in render: ?recipe=<n> picks it, so
# every recipe runs from one script.js (no file change, no reload during the test).
RECIPE_WIDGET = """define(['jquery'], function ($) {
  return function () {
    var self = this;
    var recipes = [%s];
    this.callbacks = {
      render: function () {
        recipes[Number(new URLSearchParams(location.search).get('recipe'))]();
        return true;
      },
      init: function () { return true; },
      bind_actions: function () { return true; },
      settings: function () {},
      onSave: function () { return true; },
      destroy: function () {}
    };
    return this;
  };
});
"""


def _recipes() -> dict[str, dict[str, list[str]]]:
    """docs/recipes.md's code blocks by section title and language."""
    text = (REPO / "docs" / "recipes.md").read_text("utf-8")
    sections: dict[str, dict[str, list[str]]] = {}
    for section in text.split("\n## ")[1:]:
        title, _, body = section.partition("\n")
        blocks: dict[str, list[str]] = {}
        for language, code in re.findall(r"```(\w+)\n(.*?)```", body, re.S):
            blocks.setdefault(language, []).append(code)
        sections[title.strip()] = blocks
    return sections


FRONT_END_RECIPES = ["The current entity and its id in each card",
                     "Read and update a lead through /api/v4", "Open a modal",
                     "Render a Twig template shipped in the widget"]


def test_the_front_end_recipes_run_in_the_preview_as_printed(preview, make_widget):
    recipes = _recipes()
    code = [recipes[title]["js"] for title in FRONT_END_RECIPES]
    assert all(len(blocks) == 1 for blocks in code), code
    path = make_widget(locations=["lcard", "ccard", "comcard"])
    widget = path / "widget"
    (widget / "script.js").write_text(RECIPE_WIDGET % ",\n".join(
        f"function () {{\n{blocks[0]}\n}}" for blocks in code), "utf-8")
    (twig,) = recipes[FRONT_END_RECIPES[3]]["twig"]
    (widget / "templates").mkdir()
    (widget / "templates" / "lead.twig").write_text(twig, "utf-8")
    page, _ = preview(path, dev_zip=False)

    page.open("?area=lcard&recipe=0")
    shown = []
    for area in ("lcard", "ccard", "comcard"):
        page.js("a => kommoPreview.go(a)", area)
        shown.append(page.page.inner_text(".my-widget__entity"))
    assert shown == ["leads #1: Deal #1", "contacts #1: Jane Doe", "companies #1: Example Ltd"]

    page.open("?area=lcard&recipe=1")
    page.page.wait_for_selector("#kp-toasts .kp-toast")
    assert page.page.inner_text("#kp-toasts .kp-toast") == "Deal #1: Budget is now 1600"
    page.page.wait_for_function("document.querySelectorAll('#kp-log .kp-api').length === 2")
    assert page.js("[...document.querySelectorAll('#kp-log .kp-api')].map(e => e.textContent)") \
        == ["API GET /api/v4/leads/1 → 200 (default)", "API PATCH /api/v4/leads/1 → 200 (echo)"]

    page.open("?area=lcard&recipe=2")
    page.page.wait_for_selector(".my-widget-modal .my-widget-modal__title")
    assert page.page.inner_text(".my-widget-modal__title") == "Hello from the widget"
    page.page.click(".my-widget-modal__close")
    assert page.page.locator(".my-widget-modal").count() == 0

    page.open("?area=lcard&recipe=3")
    page.page.wait_for_selector(".card-widgets__widget__body .my-widget__lead")
    assert page.page.inner_text(".my-widget__lead") == "Deal #1 (1500)"
    assert all(e["error"] is None for e in page.log()), page.log()
    assert page.errors == []


def test_a_typescript_widget_runs_in_the_preview_and_a_save_of_src_rebuilds_it(
        preview, tmp_path, npm_tools):  # noqa: F811
    """The built AMD script.js under RequireJS in Chromium: the areas with code of their own
    run their callbacks; a save under src/ rebuilds and reloads, a type error is shown."""
    path = rendered(tmp_path / "widget", {"language": "typescript",
                                          "locations": list(areas.AREA_CODES),
                                          "panel_locations": ["lcard"]})
    linked(path, npm_tools)
    page, _ = preview(path)
    for area in ("lcard", "llist", "settings", "advanced_settings", "card_sdk", "catalogs",
                 "salesbot_designer", "widget_page", "lead_sources", "digital_pipeline"):
        page.open(f"?area={area}")
        assert page.calls() == [(area, name)
                                for name in LIFECYCLE + ENTRY_CALLBACKS.get(area, [])], area
        assert all(e["error"] is None for e in page.log()), page.log()
    page.open("?area=lcard")
    assert page.page.locator('.widget-panel').count() == 1  # the panel part drew its block
    page.js("window.beforeReload = true")
    kit = path / "src" / "kit.ts"
    kit.write_text(kit.read_text("utf-8") + "\nexport const SAVED: number = 'text';\n", "utf-8")
    page.page.wait_for_function("window.beforeReload === undefined && window.kommoPreview")
    page.page.wait_for_function(
        "[...document.querySelectorAll('#kp-findings .kp-error')]"
        ".some(e => e.textContent.includes('TS2322'))", timeout=20000)
    assert page.errors == []


def test_the_react_recipe_type_checks_renders_and_ships_reacts_production_code(
        preview, tmp_path, npm_tools):  # noqa: F811
    recipe = _recipes()["React in a TypeScript widget"]
    (component,), (part,) = recipe["tsx"], recipe["ts"]
    path = rendered(tmp_path / "widget", {"language": "typescript",
                                          "locations": ["advanced_settings", "settings"]})
    linked(path, npm_tools)
    (path / "src" / "areas" / "AdvancedPage.tsx").write_text(component, "utf-8")
    (path / "src" / "areas" / "advanced_settings.ts").write_text(part, "utf-8")
    typed = subprocess.run([str(tsc(npm_tools)), "--noEmit", "-p", "tsconfig.json", "--pretty",
                            "false"], cwd=path, capture_output=True, text=True, timeout=120,
                           check=False)
    assert typed.returncode == 0, typed.stdout
    page, _ = preview(path, dev_zip=False)
    page.open("?area=advanced_settings")
    page.page.fill(".my-widget-react input", "call back on Monday")
    page.page.click(".my-widget-react button")
    assert page.page.inner_text(".my-widget-react__saved") == "Saved"
    page.page.wait_for_timeout(400)  # past the preview's grace for drawing the work area
    assert page.js("kommoPreview.warnings") == []  # drawn, though after the callback returned
    page.js("kommoPreview.go('settings')")  # destroy() unmounts the page
    assert page.page.locator(".my-widget-react").count() == 0
    assert page.errors == []
    tests = subprocess.run(["node", "--test", "tests/"], cwd=path, capture_output=True,
                           text=True, timeout=120, check=False)
    assert tests.returncode == 0, tests.stdout[-2000:]
    done = subprocess.run([sys.executable, "-c", "from kommo_scaffold.cli.app import main; "
                           "main()", "pack"], cwd=path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    archive = path / "dist" / "widget.zip"
    script = zipfile.ZipFile(archive).read("script.js").decode("utf-8")
    assert "react-dom-client.production.js" in script and ".development.js" not in script
    assert "@license React" in script  # bundled packages keep their license notices
    assert 100_000 < archive.stat().st_size < 150_000  # "about 120 KB" in the recipe


def test_an_empty_work_area_is_warned_but_not_one_drawn_a_moment_later(preview, make_widget):
    """React's root.render draws in a later task: the preview looks after a grace period."""
    path = make_widget(locations=["advanced_settings", "widget_page", "settings"])
    script = path / "widget" / "script.js"
    _replace_once(script, "this.callbacks.advancedSettings = function () {",
                  "this.callbacks.advancedSettings = function () { setTimeout(late, 100); "
                  "return true; };\n    var late = function () {")
    _replace_once(script, "this.callbacks.initMenuPage = function (params) {",
                  "this.callbacks.initMenuPage = function (params) { return true; };\n"
                  "    var never = function (params) {")
    page, _ = preview(path, dev_zip=False)
    page.open("?area=advanced_settings")
    page.page.wait_for_selector("[id^='work-area-'] [class$='-advanced']")
    page.page.wait_for_timeout(600)
    assert not any("nothing was drawn" in w for w in page.js("kommoPreview.warnings"))
    page.js("kommoPreview.go('widget_page')")
    page.page.wait_for_function("kommoPreview.warnings.some(w => "
                                "w.startsWith('widget_page: nothing was drawn'))", timeout=5000)
