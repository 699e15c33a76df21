"""Every checker rule fires on a widget that breaks it and stays quiet on one that does not.

The cases are keyed by rule ID and the test is parametrized over the registry, so a new rule
without a case fails the suite.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from check_helpers import SCRIPT, W, callbacks_js, png, write_zip

from kommo_scaffold import check
from kommo_scaffold.catalog import areas

Setup = Callable[[W, Path], Path | None]


def mf(**changes: object) -> Setup:
    """Change widget.* keys (None deletes)."""
    def setup(w: W, _: Path) -> None:
        for key, value in changes.items():
            if value is None:
                w.manifest["widget"].pop(key, None)
            else:
                w.manifest["widget"][key] = value
    return setup


def top(key: str, value: object) -> Setup:
    def setup(w: W, _: Path) -> None:
        if value is None:
            w.manifest.pop(key, None)
        else:
            w.manifest[key] = value
    return setup


def raw(name: str, content: bytes | str) -> Setup:
    def setup(w: W, _: Path) -> None:
        w.raw[name] = content
    return setup


def js(extra: str) -> Setup:
    def setup(w: W, _: Path) -> None:
        w.extra_js = "    " + extra
    return setup


def areas_(*codes: str, callbacks_drop: tuple[str, ...] = (), then: Setup | None = None
           ) -> Setup:
    def setup(w: W, tmp: Path) -> Path | None:
        for code in codes:
            location, _, flag = code.partition("=")
            w.add_area(location.split("-")[0], flag or location)
        w.callbacks = [c for c in w.callbacks if c not in callbacks_drop]
        return then(w, tmp) if then else None
    return setup


def i18n_en(path: str, value: object) -> Setup:
    def setup(w: W, _: Path) -> None:
        head, tail = path.split(".")
        if value is None:
            w.i18n["en"][head].pop(tail, None)
        else:
            w.i18n["en"].setdefault(head, {})[tail] = value
    return setup


def zipped(extra: dict[str, bytes] | None = None, wrapper: str = "",
           drop: tuple[str, ...] = ()) -> Setup:
    def setup(w: W, tmp: Path) -> Path:
        entries = {k: v for k, v in w.files().items() if k not in drop}
        entries.update(extra or {})
        return write_zip(tmp / "widget.zip", entries, wrapper)
    return setup


def huge_declared(w: W, tmp: Path) -> Path:
    """A zip whose central directory claims a 4 GB entry (a zip bomb's declared size)."""
    path = zipped({"bomb.bin": b"\0" * 1000})(w, tmp)
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x01\x02")  # last central-directory record = bomb.bin
    data[at + 24:at + 28] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    return path


def corrupt_entry(w: W, tmp: Path) -> Path:
    path = tmp / "widget.zip"
    entries = w.files()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        archive.writestr("style2.css", b"a{color:red}" * 200)
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x03\x04")  # local header of the last entry
    name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30])
    start = at + 30 + name_len + extra_len
    for i in range(start + 2, start + 12):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def dp_project(url: str, dotenv: str) -> Setup:
    """A kommo-new-shaped project: the widget in widget/, the DP back end beside it."""
    def setup(w: W, tmp: Path) -> Path:
        w.add_area("digital_pipeline", "digital_pipeline")
        w.manifest["dp"]["webhook_url"] = url
        w.build()
        (tmp / "backend" / "src").mkdir(parents=True)
        (tmp / "backend" / "src" / "Dp.php").write_text("<?php\n", "utf-8")
        (tmp / "backend" / ".env").write_text(dotenv, "utf-8")
        return tmp
    return setup


def locs(*values: str) -> Setup:
    return top("locations", list(values))


def two_locales(es: dict | None = None) -> Setup:
    def setup(w: W, _: Path) -> None:
        w.add_locale("es", es)
    return setup


def nothing(w: W, tmp: Path) -> None:
    return None


def chain(*steps: Setup) -> Setup:
    def setup(w: W, tmp: Path) -> Path | None:
        result = None
        for step in steps:
            result = step(w, tmp) or result
        return result
    return setup


def delete(name: str) -> Setup:
    def setup(w: W, _: Path) -> None:
        w.deleted.add(name)
    return setup


def logo(name: str, size: tuple[int, int] | None, fmt: str = "PNG") -> Setup:
    def setup(w: W, _: Path) -> None:
        w.raw[f"images/{name}"] = png(*size, fmt) if size else b"\x89PNG\r\n\x1a\nbroken"
    return setup


def script(text: str) -> Setup:
    def setup(w: W, _: Path) -> None:
        w.script = text
    return setup


def es_missing_key(w: W, _: Path) -> None:
    w.add_locale("es")
    del w.i18n["es"]["settings"]


BAD_JSON = '{\n  "widget": {\n    "name": "widget.name",\n  }\n}\n'
DUPLICATE = ('{"widget": {"name": "widget.name", "name": "widget.name", "description": '
             '"widget.description", "short_description": "widget.short_description", '
             '"version": "1.0.0", "interface_version": 2, "locale": ["en"], '
             '"installation": false}, "locations": ["lcard-1"]}')
LOADER = "define(['http://localhost:8080/script.js'], function (widget) { return widget; });\n"

TWO_DEFINES = ("define([], function () { return {}; });\n"
               "define(['jquery'], function ($) {\n  return function () {\n"
               "    this.callbacks = {render: function () { return true; }, "
               "init: function () { return true; }, bind_actions: function () { return true; },"
               " settings: function () {}, onSave: function () { return true; }};\n"
               "    return this;\n  };\n});\n")
def callbacks_script(core: str) -> str:
    return ("define(['jquery'], function ($) {\n  return function () {\n    var self = this;\n"
            f"    this.callbacks = {{{core}, settings: function () {{}}, "
            "onSave: function () { return true; }};\n    return this;\n  };\n});\n")


DELEGATE = ("define(['./build/app.js'], (m) => function () { return m.default(this); });\n")
DELEGATE_TARGET = ("define([], function () { return {default: function (w) {\n"
                   "  w.callbacks = {render: () => true, init: () => true,\n"
                   "    bind_actions: () => true,"
                   "\n    settings: function () {}, onSave: () => true};\n  return w; }}; });\n")

# Its callbacks are set by a computed name, and constructing it stops in the stand-in page.
DELEGATE_HIDDEN = ("define([], function () { return {default: function (w) {\n"
                   "  var saved = JSON.parse(w.get_settings().custom);\n"
                   "  w['call' + 'backs'] = saved;\n  return w; }}; });\n")
WIDGET_MODULE = SCRIPT.replace("__EXTRA__", "").replace(
    "__CALLBACKS__", callbacks_js(list(areas.BASE_CALLBACKS)))


def link_style(w: W, tmp: Path) -> Path:
    """style.css is a link to a file outside the widget."""
    outside = tmp / "outside.css"
    outside.write_text("a { color: red; }\n")
    root = w.build()
    (root / "style.css").unlink()
    (root / "style.css").symlink_to(outside)
    return root


# rule -> (setup that triggers it, setup that passes)
CASES: dict[str, tuple[Setup, Setup]] = {
    "KS001": (nothing, nothing),  # see test_internal_failure_is_a_finding
    "KS101": (zipped(drop=("manifest.json",)), zipped()),
    "KS102": (raw("manifest.json", BAD_JSON), nothing),
    "KS103": (raw("manifest.json", "[1, 2]\n"), nothing),
    "KS104": (mf(short_description=None), nothing),
    "KS105": (mf(installation="yes"), mf(installation=False)),
    "KS106": (mf(interface_version="2"), mf(interface_version=2)),
    "KS107": (mf(init_once="Y"), mf(init_once=True)),
    "KS108": (mf(version=None), nothing),
    "KS109": (top("settings", None), chain(top("settings", None), mf(installation=False))),
    "KS110": (top("settings", {"login": {"name": "settings.login", "type": "select"}}),
              top("settings", {"login": {"name": "settings.login", "type": "users"}})),
    "KS111": (mf(code="deal_notes", secret_key="abc"), nothing),
    "KS112": (raw("manifest.json", DUPLICATE), nothing),
    "KS113": (mf(version="1.2.3.4"), mf(version="1.2")),
    "KS114": (areas_("sms", then=top("sms", {"endpoint": "https://example.com/sms"})),
              areas_("sms")),
    "KS201": (top("locations", {"lcard": 1, "settings": 1}), nothing),
    "KS202": (locs("lcrd-1", "settings"), locs("lcard-1", "settings")),
    "KS203": (locs("lcard-1", "settings-1", "everywhere-0"),
              locs("lcard-1", "settings", "everywhere")),
    "KS204": (locs("lcard-0", "lcard-1", "settings"), locs("lcard-1", "settings")),
    "KS205": (locs("lcard-1", "settings", "settings"), nothing),
    "KS206": (locs("lcard", "settings"), locs("lcard-0", "settings")),
    "KS207": (locs("lcard-1", "cucard-1", "settings"), locs("lcard-1", "ccard-1", "settings")),
    "KS208": (locs(), nothing),
    "KS209": (chain(locs("settings"), areas_("card_sdk")), areas_("card_sdk")),
    "KS210": (areas_("digital_pipeline", then=top("dp", None)), areas_("digital_pipeline")),
    "KS211": (areas_("sms", then=top("sms", {})), areas_("sms")),
    "KS212": (areas_("digital_pipeline", then=top("dp", {"action_multiple": False})),
              areas_("digital_pipeline")),
    "KS213": (top("sms", {"endpoint": "https://hooks.my-company.io/sms"}), nothing),
    "KS214": (areas_("llist-1", callbacks_drop=("leads.selected",)), areas_("llist-1")),
    "KS215": (areas_("tlist-1", then=lambda w, _: setattr(
                  w, "callbacks", [*w.callbacks[:-1], "tasks.selected"])),
              areas_("tlist-1")),
    "KS216": (areas_("widget_page", then=delete("images/menu.svg")), areas_("widget_page")),
    "KS217": (chain(locs("lcard-1"), top("settings", {"map": {"name": "settings.login",
                                                              "type": "custom"}})),
              top("settings", {"map": {"name": "settings.login", "type": "custom"}})),
    "KS218": (areas_("salesbot_designer", callbacks_drop=("salesbotDesignerSettings",)),
              areas_("salesbot_designer")),
    "KS219": (dp_project("https://w.acme-crm.com/dp", "KOMMO_DP_SECRET=\n"),
              dp_project("https://w.acme-crm.com/dp/s3cr3t", "KOMMO_DP_SECRET=s3cr3t\n")),
    "KS301": (delete("script.js"), nothing),
    "KS302": (script("define(['jquery'], function ($) {\n  var a = [1, 2;\n});\n"), nothing),
    "KS303": (script("var callbacks = {render: 1};\n"), nothing),
    "KS304": (script("define(['jquery'], function ($) { return function () { return this; }; });"
                     "\n"), nothing),
    "KS305": (lambda w, _: setattr(w, "callbacks", ["render", "init", "settings", "onSave"]),
              nothing),
    "KS306": (lambda w, _: setattr(w, "callbacks", ["render", "init", "bind_actions"]),
              chain(mf(installation=False), top("settings", None), locs("lcard-1"),
                    lambda w, _: setattr(w, "callbacks", ["render", "init", "bind_actions"]))),
    "KS307": (script(
        "define([], function () { return function () { this.callbacks = {render: true, "
        "init: function () {}, bind_actions: function () {}, onSave: function () {}, "
        "settings: function () {}}; return this; }; });\n"), nothing),
    "KS308": (script(LOADER), nothing),
    "KS309": (js("var API = 'https://abcd-12.ngrok-free.app/api';"),
              js("var API = 'https://api.my-company.io/api';")),
    "KS310": (js("if (localStorage.getItem('w_is_dev')) { require(['ht' + 'tp://x']); } "
                 "var DEV = 'http://localhost:9000/api';"),
              js("var API = 'https://api.my-company.io/api';")),
    "KS311": (script(TWO_DEFINES), nothing),
    "KS312": (script("define(['{{BASE_PATH}}/app.js'], function (app) { return app; });\n"),
              chain(script("define(['./app.js'], function (app) { return app; });\n"
                           "// built from {{BASE_PATH}} by the build step\n"),
                    raw("app.js", WIDGET_MODULE))),
    "KS313": (chain(script(DELEGATE), raw("build/app.js", DELEGATE_HIDDEN)),
              chain(script(DELEGATE), raw("build/app.js", DELEGATE_TARGET))),
    "KS314": (script(callbacks_script(
        "render: function () { self.x = 1; function f() { return true; } }, init: () => false,"
        " bind_actions: function () { if (x) { return; } return undefined; }")),
              script(callbacks_script(
        "render: function () { return self.ready(); }, init: async () => true, "
        "bind_actions() { if (x) { return false; } return !0; }"))),
    "KS315": (js("var CODE = 'deal_notes'; $('#work-area-' + CODE).html('');"),
              js("var CODE = self.get_settings().widget_code; $('#work-area-' + CODE);")),
    "KS317": (js("this.load();\n    this.load = function () {};"),
              js("this.load = function () {};\n    this.load();")),
    "KS318": (script("define(['./lib/app.js?v=2'], function (app) { return app; });\n"),
              chain(script("define(['./lib/app.js?v=2'], function (app) { return app; });\n"),
                    raw("lib/app.js", WIDGET_MODULE))),
    "KS319": (js("var saved = JSON.parse(self.get_settings().custom);"),
              js("var raw = self.get_settings().custom;\n"
                 "    var saved = raw ? JSON.parse(raw) : {};")),
    "KS316": (raw("lib/huge.js", "var a = [" + "1," * 650_000 + "];\n"),
              raw("lib/small.js", "var a = [" + "1," * 1_000 + "];\n")),
    "KS401": (lambda w, _: w.manifest["widget"]["locale"].append("es"), two_locales()),
    "KS402": (raw("i18n/en.json", "[1]\n"), nothing),
    "KS403": (i18n_en("widget.short_description", None), nothing),
    "KS404": (areas_("ai_agent", then=i18n_en("widget.ai_agent_description", " ")),
              areas_("ai_agent")),
    "KS405": (es_missing_key, two_locales()),
    "KS406": (lambda w, _: w.add_locale("de"), lambda w, _: w.add_locale("pt")),
    "KS407": (lambda w, _: w.add_locale("ru"), lambda w, _: w.add_locale("tr")),
    "KS408": (raw("i18n/es.json", '{"widget": {}}\n'), nothing),
    "KS409": (js("var title = self.i18n('settings.logn');"),
              js("var title = self.i18n('settings.login') + self.langs.settings.login;")),
    "KS501": (delete("images/logo_small.png"), nothing),
    # a logo that is a BMP, or a JPEG named .png: Kommo wants PNG logos
    "KS502": (logo("logo.png", (130, 100), "BMP"), logo("logo.png", (130, 100))),
    "KS503": (logo("logo.png", None), nothing),
    "KS504": (logo("logo_main.png", (100, 100)), logo("logo_main.png", (400, 272))),
    "KS505": (logo("logo_medium.png", (120, 42)), logo("logo_medium.png", (240, 84))),
    "KS506": (raw("images/tour_1.png", b"\0" * (300 * 1024 + 1)),
              raw("images/tour_1.png", b"\0" * 1000)),
    "KS612": (raw("images/tour_1.png", png(20, 20, "JPEG")),
              raw("images/tour_1.jpg", png(20, 20, "JPEG"))),
    "KS601": (raw("style.css", "a { content: 'é'; }\n".encode("latin-1")),
              raw("style.css", "a { content: 'é'; }\n")),
    "KS602": (raw("style.css", b"\xef\xbb\xbfa { color: red; }\n"), nothing),
    "KS603": (raw("style.css", b"a {\r\n  color: red;\r\n}\r\n"), nothing),
    "KS604": (zipped({".DS_Store": b"junk", "__MACOSX/._x": b"junk"}), zipped()),
    "KS605": (zipped({"../evil.txt": b"x", "/etc/passwd": b"x"}), zipped()),
    "KS606": (huge_declared, zipped()),
    "KS607": (zipped(wrapper="deal-notes/"), zipped()),
    "KS608": (corrupt_entry, zipped()),
    "KS609": (raw("style.css", "a {\n<<<<<<< ours\n  color: red;\n=======\n  color: blue;\n"
                               ">>>>>>> theirs\n}\n"),
              raw("README.md", "Title\n=======\n\nText.\n")),
    "KS610": (raw("images/menu.svg", png(10, 10)),
              raw("images/menu.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>\n')),
    "KS611": (lambda w, tmp: link_style(w, tmp), nothing),
    "KS701": (js("var text = '{}'; var data = eval('(' + text + ')');"),
              js("var text = '{}'; var data = JSON.parse(text);")),
    "KS702": (js("$.ajax({url: '/api/v4/leads', async: false});"),
              js("$.ajax({url: '/api/v4/leads', async: true});")),
    "KS703": (js("var s = document.createElement('script');"),
              js("var s = document.createElement('div');")),
    "KS704": (js("console.log('loaded');"), js("// console.log('loaded');")),
    "KS705": (js("APP.data.current_card = null;"), js("var card = APP.data.current_card;")),
    "KS706": (i18n_en("widget.name", "Deal notes and reminders for busy teams"),
              i18n_en("widget.name", "Deal notes by Example Ltd")),
    "KS707": (i18n_en("widget.short_description", "x" * 51),
              i18n_en("widget.short_description", "x" * 50)),
    "KS708": (i18n_en("widget.description", "Hi <script>alert(1)</script>"),
              i18n_en("widget.description", "See <a href='https://my-company.io'>docs</a>")),
    "KS709": (js("var DOCS = 'https://example.com/help';"),
              js("var DOCS = 'https://my-company.io/help';")),
    "KS710": (mf(support={"email": "your-email@example.com"}),
              mf(support={"email": "help@my-company.io", "link": "https://my-company.io"})),
}


def run_case(setup: Setup, tmp_path: Path) -> check.Report:
    widget = W(tmp_path / "widget")
    target = setup(widget, tmp_path) or widget.build()
    return check.check_path(target)


def test_every_rule_has_a_case():
    assert set(CASES) == set(check.RULES)


def test_clean_widget_has_no_findings(tmp_path):
    report = run_case(nothing, tmp_path)
    assert report.findings == []


@pytest.mark.parametrize("rule", sorted(set(check.RULES) - {"KS001"}))
def test_rule_triggers(rule, tmp_path):
    report = run_case(CASES[rule][0], tmp_path)
    assert rule in report.rules(), check.format_report(report, "text")
    assert "KS001" not in report.rules(), check.format_report(report, "text")


@pytest.mark.parametrize("rule", sorted(check.RULES))
def test_rule_passes(rule, tmp_path):
    report = run_case(CASES[rule][1], tmp_path)
    assert rule not in report.rules(), check.format_report(report, "text")
    assert not report.errors, check.format_report(report, "text")


def test_internal_failure_is_a_finding(tmp_path, monkeypatch):
    """A check that breaks on unexpected input becomes KS001; the other checks still run."""
    def broken(ctx: check.Context) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(check, "CHECKS", (broken, *check.CHECKS))
    widget = W(tmp_path / "widget")
    widget.deleted.add("images/logo.png")
    report = check.check_path(widget.build())
    assert {"KS001", "KS501"} <= report.rules()


def test_severities_match_the_issue():
    """Kommo-rejects things are errors, checklist things warnings, legacy things notes."""
    sev = {rule.id: rule.severity for rule in check.RULES.values()}
    for rule in ("KS102", "KS106", "KS202", "KS203", "KS204", "KS214", "KS305", "KS308",
                 "KS317", "KS318", "KS401", "KS403", "KS501", "KS502", "KS506"):
        assert sev[rule] == "error", rule
    # no source shows a private upload refused for a logo's size: pack must ship it
    for rule in ("KS218", "KS409", "KS504", "KS505", "KS603", "KS612", "KS701", "KS702",
                 "KS703", "KS706", "KS707", "KS708", "KS710"):
        assert sev[rule] == "warning", rule
    for rule in ("KS111", "KS207", "KS215", "KS407", "KS709"):
        assert sev[rule] == "note", rule
