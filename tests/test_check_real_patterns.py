"""Patterns seen in real public Kommo/amoCRM widgets, reproduced in our own minimal fixtures.

Each test names what the checker must report and, as important, what it must not: real
widgets are mostly amoCRM widgets (ru, widget.code, tasks.selected) and those are notes.
"""

from __future__ import annotations

import json

import pytest
from check_helpers import W, png

from kommo_scaffold import check

AMO_SCRIPT = """define(['json!./manifest.json', 'underscore', './js/settings.js'],
  function (manifest, _, Settings) {
    return function () {
      this.state = null;
      this.callbacks = {
        settings: _.bind(function ($body) { this.state = new Settings($body); }, this),
        onSave: _.bind(function (p) { return this.state ? this.state.ok(p.fields) : false; },
                       this),
        init: _.bind(function () { console.log('init', arguments); return true; }, this),
        bind_actions: function () { return true; },
        render: function () { return true; },
        destroy: function () {},
        contacts: {selected: function () {}},
        leads: {selected: function () {}}
      };
      return this;
    };
  });
"""


def amo_widget(tmp_path) -> W:
    """An old amoCRM widget: ru only, code/secret_key, cucard/culist, half-size logos."""
    w = W(tmp_path / "amo")
    w.manifest["widget"].update(code="amo_sample", secret_key="0" * 64, locale=["ru"])
    del w.manifest["widget"]["init_once"]
    w.manifest["locations"] = ["everywhere", "lcard-1", "ccard-0", "cucard-0", "llist-0",
                               "clist-1", "culist-0", "tlist-1"]
    w.i18n = {"ru": {"widget": {"name": "Заметки", "short_description": "Заметки в сделке",
                                "description": "Показывает заметки.",
                                "tour_description": "Заметки."},
                     "settings": {"login": "Логин", "tips": {"equal": "Не совпадают"}}}}
    w.script = AMO_SCRIPT
    w.raw["js/settings.js"] = ("define([], function () { return function ($body) {\n"
                               "  this.ok = function () { return true; }; }; });\n")
    w.logos.pop("logo_main.png")
    w.logos["logo_medium.png"] = (120, 42)
    w.logos["logo_min.png"] = (42, 42)
    return w


def findings(report: check.Report) -> set[tuple[str, str]]:
    return {(f.rule, f.file or "") for f in report.findings}


def test_amocrm_widget_real_defects_only(tmp_path):
    report = check.check_path(amo_widget(tmp_path).build())
    text = check.format_report(report, "text")
    assert findings(report) == {
        ("KS501", "images/logo_main.png"),     # missing logo
        ("KS505", "images/logo_medium.png"),   # 120x42: pre-2018 size
        ("KS505", "images/logo_min.png"),      # 42x42
        ("KS214", "script.js"),                # tlist-1 but no todo/tasks.selected
        ("KS704", "script.js"),                # console.log
        ("KS111", "manifest.json"),            # widget.code / secret_key: a note
        ("KS207", "manifest.json"),            # cucard, culist: notes
        ("KS407", "manifest.json"),            # ru: a note
    }, text
    assert "(or tasks.selected)" in text
    # callbacks wrapped in _.bind(...) count as defined
    assert "KS305" not in report.rules() and "KS306" not in report.rules()


def test_tasks_selected_alone_is_a_note(tmp_path):
    w = amo_widget(tmp_path)
    w.script = AMO_SCRIPT.replace("leads: {selected", "tasks: {selected: onTasks},\n"
                                  "        leads: {selected").replace(
        "this.state = null;", "this.state = null;\n      function onTasks() { return true; }")
    report = check.check_path(w.build())
    assert "KS214" not in report.rules()
    assert "KS215" in report.rules() and check.RULES["KS215"].severity == "note"


BUNDLE = """(function (root, factory) {
  if (typeof define === 'function' && define.amd) { define(['jquery'], factory); }
})(this, ($) => {
  'use strict';
  const PORT = 9000;
  const isDev = () => localStorage.getItem('notes_is_dev') === String(PORT);
  return function () {
    const self = this;
    const tpl = (n) => `<div class="notes-${n.kind}">${n.items.map((i) => `<b>${i}</b>`)
      .join('')}</div>`;
    const re = /["'`]\\/{2}/g;
    if (isDev()) {
      require([`http://localhost:${PORT}/script.js`], () => {});
    }
    this.callbacks = {
      async render() { return true; },
      init() { return true; },
      bind_actions: () => true,
      settings($body) { $body.append(tpl({kind: 'a', items: []})); },
      onSave: async function () { return re.test(''); },
      destroy() {},
      leads: {selected() { return true; }},
      todo: {selected: () => true}
    };
    return this;
  };
});
"""


def test_bundled_es2017_script(tmp_path):
    """A webpack/UMD-style bundle: arrows, method shorthand, async, nested templates."""
    w = W(tmp_path / "bundle")
    w.manifest["locations"] = ["lcard-1", "llist-1", "tlist-0", "settings"]
    w.script = BUNDLE
    report = check.check_path(w.build())
    text = check.format_report(report, "text")
    # the only finding: the localStorage-gated dev switch, a note (Kommo's CLI builds do it)
    assert findings(report) == {("KS310", "script.js")}, text


def test_dev_loader_is_one_clear_error(tmp_path):
    w = W(tmp_path / "loader")
    w.script = "define(['https://4f2a-10-0-0-1.ngrok-free.app/script.js'], (w) => w);\n"
    report = check.check_path(w.build())
    assert findings(report) == {("KS308", "script.js")}, check.format_report(report, "text")
    w.script = ("define([], function () {\n  var s = document.createElement('script');\n"
                "  s.src = 'http://127.0.0.1:8080/widget.js';\n"
                "  document.head.appendChild(s);\n  return function () { return this; };\n});\n")
    report = check.check_path(w.build())
    assert {"KS308", "KS703"} <= report.rules()
    assert "KS304" not in report.rules()


def test_old_manifest_shapes_get_specific_findings(tmp_path):
    w = W(tmp_path / "old")
    w.manifest["widget"]["init_once"] = "Y"
    w.manifest["locations"] = {"lcard": 1, "settings": 1}
    report = check.check_path(w.build())
    messages = {f.rule: f.message for f in report.findings}
    assert set(messages) == {"KS107", "KS201"}, check.format_report(report, "text")
    assert "write true" in messages["KS107"]
    assert '["lcard-1", "settings"]' in messages["KS201"]


def test_html_strings_regexes_and_app_reads_are_fine(tmp_path):
    w = W(tmp_path / "html")
    w.extra_js = """
    var page = '<!doctype html><html><head><style>b{}</style></head><body></body></html>';
    var unquote = function (s) { return s.replace(/"/g, "'").replace(/&#0?39;/g, "'"); };
    var ratio = 10 / 2 / 5;
    var card = APP.data.current_card && APP.data.current_card.id;
    if (APP.isCard() === true && APP.data.current_entity == 'leads') { card = 1; }
    /* not code: eval("x"); document.createElement('script'); async: false */
    // APP.data = {};
"""
    report = check.check_path(w.build())
    assert report.findings == [], check.format_report(report, "text")


def test_kommo_widget_with_tour_and_two_locales(tmp_path):
    """A Kommo widget with es/en, tour images, dp and a left-menu page: all clean."""
    w = W(tmp_path / "kommo")
    w.add_locale("es")
    w.add_area("digital_pipeline")
    w.add_area("widget_page")
    w.manifest["tour"]["tour_images"] = {"en": ["/images/tour_1_en.jpg"]}
    w.raw["images/tour_1_en.jpg"] = png(1188, 616, "JPEG")
    report = check.check_path(w.build())
    assert report.findings == [], check.format_report(report, "text")
    w.manifest["tour"]["tour_images"]["es"] = ["/images/tour_1_es.jpg"]
    report = check.check_path(w.build())
    assert findings(report) == {("KS216", "manifest.json")}
    assert json.loads(json.dumps(check.format_report(report, "json")))


KOMMO_CLI_BUILD = """(()=>{"use strict";const e=localStorage.getItem("notes_is_dev")==="9000";
e?window.define([`http://localhost:${9000}/script.js`],(e=>e)):window.define(["jquery",
"underscore"],(()=>{class t{constructor(){this.callbacks={}}addCallback(e,t){return this.
callbacks[t]=e,this}build(){const e=this;return function(){const t={};for(const n in e.
callbacks)t[n]=(...r)=>e.callbacks[n](this,...r);return this.callbacks=t,this}}}return(new t)
.addCallback((()=>!0),"render").addCallback((()=>!0),"init").addCallback((()=>!0),
"bind_actions").build()}))})();
"""


def test_kommo_cli_build_is_not_a_dev_loader(tmp_path):
    """Kommo's own CLI bundles a localStorage-gated window.define of localhost and builds
    callbacks at run time: a note, not an error. The widget as constructed has exactly the
    three callbacks the build registers, so the settings modal's two are reported."""
    w = W(tmp_path / "cli")
    w.script = KOMMO_CLI_BUILD
    report = check.check_path(w.build())
    assert findings(report) == {("KS310", "script.js"), ("KS218", "script.js"),
                                ("KS306", "script.js")}, check.format_report(report, "text")
    w.script = KOMMO_CLI_BUILD.replace('"bind_actions")', '"bind_actions").addCallback((()=>'
                                       '!0),"onSave").addCallback((()=>{}),"settings")')
    report = check.check_path(w.build())
    assert findings(report) == {("KS310", "script.js")}, check.format_report(report, "text")


def test_window_define_dev_loader_without_switch_is_an_error(tmp_path):
    w = W(tmp_path / "loader")
    w.script = "window.define(['http://localhost:9000/script.js'], function (w) { return w; });"
    report = check.check_path(w.build())
    assert findings(report) == {("KS308", "script.js")}, check.format_report(report, "text")


def test_texts_of_blocks_kommo_ignores_are_not_errors(tmp_path):
    """An `advanced` block left behind without its area: Kommo ignores the block, so its
    missing i18n key is not an error; the unused block is the one finding."""
    w = W(tmp_path / "leftover")
    w.manifest["advanced"] = {"title": "advanced.title"}
    report = check.check_path(w.build())
    assert findings(report) == {("KS213", "manifest.json")}, check.format_report(report, "text")


def test_salesbot_settings_callback_is_optional(tmp_path):
    w = W(tmp_path / "bot")
    w.add_area("salesbot_designer")
    w.callbacks.remove("salesbotDesignerSettings")
    report = check.check_path(w.build())
    assert findings(report) == {("KS218", "script.js")}
    assert not report.errors


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L", "1", "I;16"])
def test_png_reader_agrees_with_pillow(mode):
    import io

    from PIL import Image

    from kommo_scaffold.check.images import _image_size

    buffer = io.BytesIO()
    Image.new(mode, (240, 84)).save(buffer, "PNG", optimize=mode == "P")
    data = buffer.getvalue()
    assert _image_size(data) == (240, 84)
    broken = bytearray(data)
    broken[40] ^= 0xFF  # inside a chunk: its CRC no longer matches
    assert _image_size(bytes(broken)) is None
    assert _image_size(data[:-12]) is None  # no IEND
