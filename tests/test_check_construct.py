"""The widget loaded and constructed as Kommo does (in V8), and the classes of false errors and
misses found on real widgets: one fixture per class, each with what must and must not fire."""

from __future__ import annotations

import pytest
from check_helpers import SCRIPT, W, callbacks_js, png

from kommo_scaffold import check
from kommo_scaffold.catalog import areas
from kommo_scaffold.check import pack


def widget_with(tmp_path, extra: str = "", callbacks: list[str] | None = None,
                files: dict[str, str | bytes] | None = None, script: str | None = None) -> W:
    w = W(tmp_path / "w")
    if callbacks is not None:
        w.callbacks = callbacks
    w.extra_js = extra
    if script is not None:
        w.script = script
    w.raw.update(files or {})
    return w


def report_of(w: W) -> check.Report:
    return check.check_path(w.build())


def rules(report: check.Report) -> set[tuple[str, int | None]]:
    return {(f.rule, f.line) for f in report.findings}


def text(report: check.Report) -> str:
    return check.format_report(report, "text")


# --- construction ---------------------------------------------------------------------


def test_method_called_before_it_is_assigned(tmp_path):
    report = report_of(widget_with(tmp_path, "    this.load();\n"
                                   "    this.load = function () {};"))
    assert rules(report) == {("KS317", 4)}, text(report)
    assert "this.load is not a function" in report.findings[0].message
    assert "before the code that assigns it" in report.findings[0].message


def test_mistyped_global_names_the_real_one(tmp_path):
    report = report_of(widget_with(tmp_path, "    var title = documnet.title;"))
    assert rules(report) == {("KS317", 4)}, text(report)
    assert "did you mean document?" in report.findings[0].message


def test_browser_and_kommo_globals_construct_cleanly(tmp_path):
    extra = """    var ua = navigator.userAgent, here = location.hostname;
    var card = APP.data.current_card && AMOCRM.constant('account').id;
    var tpl = Twig({ref: '/tmpl/controls/button.twig'});
    document.querySelector('#x'); new MutationObserver(function () {});
    window.addEventListener('message', function () {}); fetch('/api/v4/leads');
    var list = _.map([1, 2], function (x) { return x * 2; });
    var code = self.get_settings().widget_code + self.system().area;
    var login = self.i18n('settings.login');
    if (localStorage.getItem('w_is_dev')) { throw new Error('dev only'); }"""
    report = report_of(widget_with(tmp_path, extra))
    assert report.findings == [], text(report)


def test_class_constructor_widget(tmp_path):
    script = ("define(['jquery'], function ($) {\n  class Widget {\n    constructor() {\n"
              "      this.callbacks = " + callbacks_js(list(areas.BASE_CALLBACKS)) + ";\n"
              "    }\n  }\n  return Widget;\n});\n")
    report = report_of(widget_with(tmp_path, script=script))
    assert report.findings == [], text(report)


def test_throw_that_may_be_the_stand_in_is_a_note_and_callbacks_are_still_read(tmp_path):
    w = widget_with(tmp_path, "    var saved = JSON.parse(self.get_settings().custom);",
                    callbacks=["render", "init", "settings", "onSave"])
    report = report_of(w)
    assert {f.rule for f in report.findings} == {"KS319", "KS305"}, text(report)
    assert not [f for f in report.errors if f.rule != "KS305"]


def test_factory_that_returns_nothing(tmp_path):
    report = report_of(widget_with(tmp_path, script="define(['jquery'], function ($) {});\n"))
    assert rules(report) == {("KS317", 1)}, text(report)


def test_callbacks_as_constructed_not_as_written(tmp_path):
    """Callbacks added in a loop (no literal to read): the constructed widget shows them."""
    script = ("define([], function () {\n  return function () {\n    var self = this;\n"
              "    self.callbacks = {};\n"
              "    ['render', 'init', 'bind_actions', 'onSave'].forEach(function (n) {\n"
              "      self.callbacks[n] = function () { return true; };\n    });\n"
              "    return this;\n  };\n});\n")
    report = report_of(widget_with(tmp_path, script=script))
    assert {f.rule for f in report.findings} == {"KS218"}, text(report)  # settings only


# --- AMD dependencies ---------------------------------------------------------------------


@pytest.mark.parametrize("dep", ["./app.js", "./main.bundle.js", "./lib/app", "./app.js?v=3",
                                 "text!./templates/x.twig", "css!./style2.css"])
def test_missing_relative_dependency_is_an_error(tmp_path, dep):
    script = f"define(['jquery', '{dep}'], function ($, app) {{ return app; }});\n"
    report = report_of(widget_with(tmp_path, script=script))
    assert [(f.rule, f.line) for f in report.errors] == [("KS318", 1)], text(report)


def test_present_dependencies_with_plugins_and_queries(tmp_path):
    script = ("define(['./lib/app.js?v=3', 'text!./templates/x.twig', 'json!./manifest.json'],"
              "\n  function (Widget, tpl) { return Widget; });\n")
    w = widget_with(tmp_path, script=script, files={
        "lib/app.js": SCRIPT.replace("__EXTRA__", "").replace(
            "__CALLBACKS__", callbacks_js(list(areas.BASE_CALLBACKS))),
        "templates/x.twig": "<b>{{ name }}</b>\n"})
    report = report_of(w)
    assert report.findings == [], text(report)


def test_dependency_from_an_expression_with_a_literal_fallback(tmp_path):
    script = ("var entry = localStorage['w_entry'] || './build/app.js';\n"
              "define([entry], function (app) { return app; });\n")
    report = report_of(widget_with(tmp_path, script=script))
    assert [f.rule for f in report.errors] == ["KS318"], text(report)
    assert "build/app.js" in report.errors[0].message


# --- callbacks -----------------------------------------------------------------------------


@pytest.mark.parametrize("wrapped", [
    "_.bind(function () { self.render_template({}); }, this)",
    "function () { self.render_template({}); }.bind(this)",
    "$.proxy(function () { self.render_template({}); }, this)",
])
def test_bound_render_that_never_returns_true(tmp_path, wrapped):
    script = SCRIPT.replace("__EXTRA__", "").replace(
        "__CALLBACKS__", callbacks_js(list(areas.BASE_CALLBACKS))).replace(
        "render: function () { return true; }", f"render: {wrapped}")
    report = report_of(widget_with(tmp_path, script=script))
    assert [f.rule for f in report.findings] == ["KS314"], text(report)
    assert report.findings[0].line == script.split("\n").index(
        next(line for line in script.split("\n") if "render:" in line)) + 1


def test_bound_render_returning_true_passes(tmp_path):
    script = SCRIPT.replace("__EXTRA__", "").replace(
        "__CALLBACKS__", callbacks_js(list(areas.BASE_CALLBACKS))).replace(
        "render: function () { return true; }",
        "render: _.bind(function () { return true; }, this)")
    assert report_of(widget_with(tmp_path, script=script)).findings == []


@pytest.mark.parametrize("location", ["llist-0", "clist-0", "tlist-0", "culist-0"])
def test_list_area_without_menu_entry_needs_no_selected(tmp_path, location):
    w = widget_with(tmp_path)
    w.manifest["locations"].append(location)
    report = report_of(w)
    assert "KS214" not in report.rules(), text(report)
    assert not report.errors, text(report)


@pytest.mark.parametrize("location", ["llist-1", "clist-1", "tlist-1"])
def test_list_area_with_menu_entry_needs_selected(tmp_path, location):
    w = widget_with(tmp_path)
    w.manifest["locations"].append(location)
    assert "KS214" in report_of(w).rules()


@pytest.mark.parametrize(("area", "callback", "reason"), [
    ("settings", "settings", "from the manifest's settings fields"),
    ("digital_pipeline", "dpSettings", "from dp.settings"),
    ("card_sdk", "searchDataInCard", "Kommo's own CLI leaves it out"),
])
def test_callbacks_kommo_works_without_are_warnings(tmp_path, area, callback, reason):
    w = widget_with(tmp_path)
    if area != "settings":
        w.add_area(area)
    w.callbacks.remove(callback)
    report = report_of(w)
    assert [(f.rule, f.severity) for f in report.findings] == [("KS218", "warning")], \
        text(report)
    assert reason in report.findings[0].message


def test_advanced_settings_optional_only_when_the_page_is_drawn_otherwise(tmp_path):
    w = widget_with(tmp_path)
    w.add_area("advanced_settings")
    w.callbacks.remove("advancedSettings")
    assert [f.rule for f in report_of(w).findings] == ["KS214"]
    w.extra_js = "    var page = '#work-area-' + self.get_settings().widget_code;"
    report = report_of(w)
    assert [(f.rule, f.severity) for f in report.findings] == [("KS218", "warning")]


def test_salesbot_save_stays_an_error(tmp_path):
    w = widget_with(tmp_path)
    w.add_area("salesbot_designer")
    w.callbacks.remove("onSalesbotDesignerSave")
    assert [f.rule for f in report_of(w).errors] == ["KS214"]


# --- hosts, placeholders, images, manifest, i18n --------------------------------------------


def test_percent_encoded_url_text_is_no_placeholder(tmp_path):
    extra = "    var share = 'https://t.me/share/url?text=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82';"
    assert report_of(widget_with(tmp_path, extra)).findings == []
    report = report_of(widget_with(tmp_path, "    var base = '%PUBLIC_URL%/app.js';"))
    assert [f.rule for f in report.findings] == ["KS312"]


@pytest.mark.parametrize("host", ["my-widget.vercel.app", "w.netlify.app", "x.pages.dev",
                                  "sandbox.csb.app", "app.now.sh"])
def test_production_hosting_is_not_a_dev_host(tmp_path, host):
    script = f"define(['https://{host}/app.js'], function (w) {{ return w; }});\n"
    report = report_of(widget_with(tmp_path, script=script))
    assert not {"KS308", "KS309"} & report.rules(), text(report)


def test_tunnel_is_still_a_dev_host(tmp_path):
    script = "define(['https://4f2a.ngrok-free.app/script.js'], function (w) { return w; });\n"
    assert "KS308" in report_of(widget_with(tmp_path, script=script)).rules()


@pytest.mark.parametrize("fmt", ["JPEG", "GIF"])
def test_logo_of_another_format_is_the_logo_rule(tmp_path, fmt):
    w = widget_with(tmp_path, files={"images/logo.png": png(130, 100, fmt)})
    report = report_of(w)
    assert [f.rule for f in report.findings] == ["KS502"], text(report)
    assert "Kommo wants PNG logos" in report.findings[0].message
    assert "browsers cannot use it" not in check.explain("KS502")


def test_other_image_of_another_format_is_a_warning(tmp_path):
    report = report_of(widget_with(tmp_path, files={"images/photo.png": png(30, 30, "JPEG")}))
    assert [(f.rule, f.severity) for f in report.findings] == [("KS612", "warning")]
    report = report_of(widget_with(tmp_path / "b", files={"images/menu.svg": png(30, 30)}))
    assert [(f.rule, f.severity) for f in report.findings] == [("KS610", "error")]


def test_wrong_logo_size_is_a_warning_and_pack_ships_it(tmp_path):
    w = widget_with(tmp_path, files={"images/logo_main.png": png(300, 200)})
    folder = w.build()
    report = check.check_path(folder)
    assert [(f.rule, f.severity) for f in report.findings] == [("KS504", "warning")]
    assert "private upload" in check.explain("KS504")
    result = pack.pack(folder, output=tmp_path / "out.zip")
    assert result.archive.exists() and not result.forced
    w.deleted.add("images/logo_small.png")
    (folder / "images/logo_small.png").unlink()
    with pytest.raises(pack.PackError):
        pack.pack(folder, output=tmp_path / "out.zip")


@pytest.mark.parametrize(("kind", "fires"), [("select", True), ("number", False),
                                             ("text", False), ("custom", False)])
def test_dp_settings_field_types(tmp_path, kind, fires):
    w = widget_with(tmp_path)
    w.add_area("digital_pipeline")
    w.manifest["dp"]["settings"] = {"stage": {"name": "settings.login", "type": kind}}
    assert ("KS110" in report_of(w).rules()) is fires


@pytest.mark.parametrize(("support", "fires"), [
    ({"email": "your-email@example.com"}, True), ({"email": "support@example.com"}, True),
    ({"email": "your_email@my-company.io"}, True), ({"link": "https://example.com/help"}, True),
    ({"email": "help@my-company.io"}, False), ({"link": "https://my-company.io/help"}, False),
])
def test_placeholder_support_contacts(tmp_path, support, fires):
    w = widget_with(tmp_path)
    w.manifest["widget"]["support"] = support
    report = report_of(w)
    assert ("KS710" in report.rules()) is fires, text(report)
    assert "KS709" not in report.rules()


@pytest.mark.parametrize("use", ["self.i18n('ui.title')", "self.langs.ui.title",
                                 "self.langs.ui.title.toUpperCase()", "t('ui.title')"])
def test_i18n_path_in_no_locale_file(tmp_path, use):
    extra = ("    function t(path) { return path.split('.').reduce(function (n, k) {\n"
             "      return n && n[k]; }, self.langs) || path; }\n"
             f"    this.title = function () {{ return String({use}); }};")
    w = widget_with(tmp_path, extra)
    report = report_of(w)
    assert [(f.rule, f.line) for f in report.findings] == [("KS409", 6)], text(report)
    assert "ui.title" in report.findings[0].message
    w.i18n["en"]["ui"] = {"title": "Notes"}
    assert report_of(w).findings == []


def test_t_of_another_function_is_not_an_i18n_path(tmp_path):
    """Minified code names many functions t: only a t() that reads langs counts."""
    extra = "    function t(a) { return a; }\n    var x = t('ui.title');"
    assert report_of(widget_with(tmp_path, extra)).findings == []
