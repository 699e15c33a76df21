"""script.js as real widgets write it: what used to pass while broken, what used to be refused
while valid, and the rules learned from public widgets."""

from __future__ import annotations

import pytest
from check_helpers import SCRIPT, W, callbacks_js
from conftest import run_cli

from kommo_scaffold import check
from kommo_scaffold.catalog import areas


def report_for(tmp_path, script: str | bytes, files: dict[str, str] | None = None
               ) -> check.Report:
    widget = W(tmp_path / "w")
    widget.raw["script.js"] = script
    widget.raw.update(files or {})
    return check.check_path(widget.build())


def with_extra(extra: str) -> str:
    return SCRIPT.replace("__EXTRA__", extra).replace(
        "__CALLBACKS__", callbacks_js(list(areas.BASE_CALLBACKS)))


@pytest.mark.parametrize("extra", [
    "    var a, s = '';\n    if (a) /[(]/.test(s);",
    "    var ok, s = '';\n    if (ok) /'/.test(s);",
    "    var o = {in: 4};\n    var half = o.in / 2;",
])
def test_valid_scripts_once_refused_now_pass(tmp_path, extra):
    report = report_for(tmp_path, with_extra(extra))
    assert not report.findings, check.format_report(report, "text")


def test_crlf_line_continuation_is_valid(tmp_path):
    script = with_extra("    var s = 'a\\\nb';").replace("\n", "\r\n").encode()
    report = report_for(tmp_path, script)
    assert report.rules() == {"KS603"}, check.format_report(report, "text")


@pytest.mark.parametrize(("broken", "line"), [
    ("render: function () { return true; }\n      init:", 7),
    ("var self = this;", None),
])
def test_broken_scripts_once_passed_now_fail(tmp_path, broken, line):
    script = with_extra("    cosnt self = this;") if line is None else with_extra("").replace(
        "render: function () { return true; },\n      init:", broken)
    report = report_for(tmp_path, script)
    assert [f.rule for f in report.errors] == ["KS302"], check.format_report(report, "text")
    if line is not None:
        assert report.errors[0].line == line
    assert "KS305" not in report.rules()  # not the misleading "callbacks has no init"


def test_dangling_operator(tmp_path):
    report = report_for(tmp_path, with_extra('    var a = "." + b +;'))
    assert [(f.rule, f.line) for f in report.errors] == [("KS302", 4)]


def test_two_anonymous_defines(tmp_path):
    script = "define([], function () { return {}; });\n" + with_extra("")
    report = report_for(tmp_path, script)
    assert [f.rule for f in report.errors] == ["KS311"], check.format_report(report, "text")


def test_umd_defines_inside_functions_are_not_counted(tmp_path):
    library = ("(function (root, factory) { if (typeof define === 'function' && define.amd) "
               "{ define([], factory); } })(this, function () { return {}; });\n")
    report = report_for(tmp_path, with_extra(library))
    assert not report.findings, check.format_report(report, "text")


@pytest.mark.parametrize("placeholder", ["{{BASE_PATH}}", "@entrypoint@", "%PUBLIC_URL%"])
def test_build_placeholders_are_named(tmp_path, placeholder):
    script = f"define(['{placeholder}/app.js'], function (app) {{ return app; }});\n"
    report = report_for(tmp_path, script)
    assert report.rules() == {"KS312"}, check.format_report(report, "text")


def test_placeholder_in_code_is_not_a_second_syntax_error(tmp_path):
    report = report_for(tmp_path, "define([], function () {\n  var base = {{BASE_PATH}};\n});\n")
    assert report.rules() == {"KS312"}, check.format_report(report, "text")


def test_email_addresses_and_twig_are_not_placeholders(tmp_path):
    extra = ("    var mail = 'support@my-company.io'; var tpl = '<b>{{ name }}</b>';\n"
             "    var pct = '100%';")
    report = report_for(tmp_path, with_extra(extra))
    assert not report.findings, check.format_report(report, "text")


DELEGATING = "define(['./build/app.js'], (m) => function () { return m.default(this); });\n"


def app_module(callbacks: str) -> str:
    return ("define([], function () { return {default: function (w) {\n"
            f"  w.callbacks = {{{callbacks}}};\n  return w; }}}}; }});\n")


def test_callbacks_read_from_the_module_script_delegates_to(tmp_path):
    good = app_module("render: () => true, init: () => true, bind_actions: () => true, "
                      "settings() {}, onSave: () => true")
    assert not report_for(tmp_path / "a", DELEGATING, {"build/app.js": good}).findings
    missing = app_module("render: () => true, init: () => true, settings() {}, "
                         "onSave: () => true")
    report = report_for(tmp_path / "b", DELEGATING, {"build/app.js": missing})
    assert [(f.rule, f.file) for f in report.findings] == [("KS305", "build/app.js")]


def test_missing_delegate_is_an_error(tmp_path):
    report = report_for(tmp_path, DELEGATING)
    assert [(f.rule, f.severity, f.line) for f in report.findings] == [("KS318", "error", 1)]


@pytest.mark.parametrize("extra", [
    "    $('#work-area-deal_notes').html('');",
    "    var CODE = 'deal_notes';\n    $('#work-area-' + CODE).html('');",
    "    var CODE = 'deal_notes';\n    $('#' + CODE + '_custom_content').show();",
    "    $('.digital-pipeline__short-task_widget-style_' + 'deal_notes').show();",
    "    const CODE = 'deal_notes';\n    fetch(`/api/v4/widgets/${CODE}`);",
    "    $.get('/api/v4/widgets/deal_notes');",
])
def test_hard_coded_widget_code_in_kommo_selectors(tmp_path, extra):
    report = report_for(tmp_path, with_extra(extra))
    assert report.rules() == {"KS315"}, check.format_report(report, "text")
    assert report.findings[0].severity == "warning"


@pytest.mark.parametrize("extra", [
    "    var CODE = self.get_settings().widget_code;\n    $('#work-area-' + CODE).html('');",
    "    $('#' + self.params.widget_code + '_custom_content').show();",
    "    $('.deal_notes-root').addClass('deal_notes-ready');",  # the project's own names
    "    // $('#work-area-deal_notes') in a comment",
])
def test_runtime_widget_code_and_own_names_are_fine(tmp_path, extra):
    report = report_for(tmp_path, with_extra(extra))
    assert not report.findings, check.format_report(report, "text")


def test_render_that_never_returns_true(tmp_path):
    script = with_extra("").replace("render: function () { return true; }",
                                    "render: function () { self.render_template({}); }")
    report = report_for(tmp_path, script)
    assert [(f.rule, f.line) for f in report.findings] == [("KS314", 6)]


def test_text_output_shows_titles_and_explain_prints_the_rule(tmp_path):
    report = report_for(tmp_path, with_extra("    console.log('x');"))
    text = check.format_report(report, "text")
    assert "KS704 warning: console output: 1 console call" in text
    assert "docs/checker-rules.md" not in text
    result = run_cli("check", "--explain", "ks302")
    assert result.returncode == 0
    for part in ("KS302 (error): JavaScript syntax error", "Why:", "Fix:", "Example:"):
        assert part in result.stdout
    bad = run_cli("check", "--explain", "KS999")
    assert bad.returncode == 2 and bad.stderr.startswith("error: no rule")


def test_every_rule_has_an_example_and_docs():
    for rule in check.RULES.values():
        assert rule.example, rule.id
        text = check.explain(rule.id)
        assert rule.title in text and rule.fix in text
