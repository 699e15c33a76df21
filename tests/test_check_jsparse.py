"""JavaScript syntax: V8's verdict (through mini-racer) cross-checked against Chromium.

Two tables drive the tests: tricky scripts that are valid JavaScript (the checker must accept
them) and broken ones (it must reject them at the line and column the browser reports, with
the browser's message). Every case is also loaded in Debian's Chromium as a classic
`<script>`, one frame per case so that cases never share a global scope, with window.onerror
recording what the browser says; a table entry the browser disagrees with fails. Then the
tree-sitter reader's structure: define calls, callbacks, literals.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kommo_scaffold.check.js import engine
from kommo_scaffold.check.js.parser import parse_module

LONG_LINE = "var big = [" + ",".join(str(i) for i in range(30000)) + "];\n"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ORIGIN = "https://account.kommo.test"

VALID: dict[str, str] = {
    'regex after if (': 'if (a) /[(]/.test(s);\n',
    'regex with quote after if': "if (ok) /'/.test(s);\n",
    'in as property then division': 'var x = o.in / 2;\n',
    'CRLF line continuation': 'var s = \'a\\\r\nb\';\r\nvar t = "c\\\r\nd";\r\n',
    'nested template literals': "var a = `x ${ `y ${ {k: '}'}['k'] } z` } w`;\n",
    'regex with slash in class': 'var r = /[/]+\\/x/gi; var d = a / b / c;\n',
    'regex after return': 'function f(s) { return /}/.test(s); }\n',
    'division after postfix': 'var i = 0; i++ / 2;\n',
    'brackets in comments': '/* { ( [ */ var a = 1; // ) ] }\n',
    'brackets in strings': 'var s = \'({[\' + "]})" + \'\\\'\';\n',
    'optional chaining': 'var x = a?.b ?? c; x ??= 1; a?.[0]?.(1);\n',
    'class fields and private methods': ('class A { #p = 1; static s = 2; #m() { return this.#p; } '
                                         'get x() { return this.#m(); } static { A.s++; } }\n'),
    'private in': 'class B { #x; static has(o) { return #x in o; } }\n',
    'async generators': ('async function* g(y) { for await (const x of y) yield* x; }\n'
                         'class C { static async *gen() { yield 1; } }\n'),
    'unicode identifiers': 'var фу = 1; var \\u0061b = 2; var $ÿ_ = фу + ab;\n',
    'very long line': LONG_LINE,
    'object after return': 'function f() { return {a: 1}; }\n',
    'arrow bodies': 'const f = (a, {b}) => ({a, b}); const g = async x => await x;\n',
    'regex after arrow': 'const h = () => /x/g;\n',
    'regex after block': '{}\n/foo/.test(s);\n',
    'division after parens': 'var x = (a + b) / 2 / c;\n',
    'regex after label': 'a: /x/.exec(s);\n',
    'regex after yield': 'function* g() { yield /re/g; }\n',
    'numbers': 'var n = [1_000_000, 10n, 0xFFn, 1e+5, .5e-3, 0b101, 0o17, 2 ** 3 ** 2];\n',
    'computed keys and accessors': ('var o = { [`a${b}`]: 1, get x() { return 1; }, set x(v) {}, '
                                    'async *m() {} };\n'),
    'destructuring with regex default': 'const {a = /x/, ...rest} = o; const [p, , q = 1] = arr;\n',
    'tagged template': 'var t = String.raw`\\d{2}${x}`;\n',
    'new.target and optional catch': ('function F() { if (!new.target) return; try { x(); } catch '
                                      '{ } }\n'),
    'logical assignment': 'a ||= b; a &&= c; a ??= d;\n',
    'keywords as property names': ('var o = { if: 1, new: 2, class: 3, default: 4 }; o.default '
                                   '= o.class + o.new;\n'),
    'async and let as identifiers': 'var async = 1; async(1); var let = 2;\n',
    'regex flags': 'var r = /\\p{L}+/u; var v = /[\\p{L}--[a-z]]/v; var d = /a.b/dsy;\n',
    'hashbang': '#!/usr/bin/env node\nvar a = 1;\n',
    'AMD with arrow factory': ("define(['jquery'], ($) => function () { this.callbacks = { "
                               'render: () => true }; return this; });\n'),
    'ASI': 'var a = 1\nvar b = 2\nlet c = a\n++b\n',
    'line separator in string': "var s = '\u2028\u2029';\n",
    'template with braces in string': 'var t = `${ \'}\' + "{" }`;\n',
    'html comment': '<!-- legacy\nvar a = 1;\n',
    'holes and trailing commas': ('var a = [1, , 2,]; var [p, , q] = a; f(a, b,); '
                                  'function g(x, y,) { return {x, y,}; }\n'),
    'one name in nested scopes': ('let a = 1; { let a = 2; } for (let i of a) { let i = 1; } '
                                  'function f(a) { { let a; } var b; var b; }\n'
                                  'switch (a) { case 1: { let c; } default: { let c; } }\n'),
    'function twice in a block (sloppy)': '{ function h() {} function h() {} }\n',
    'raw template with a bad escape': 'var u = String.raw`\\unicode`;\n',
    'function statement in sloppy if': 'if (true) function k() {} else ;\n',
    'yield and await as names': 'var yield = 1; var await = 2; var using = yield + await;\n',
    'legacy octal in sloppy code': 'var mode = 0755; var d = 08.5; var e = "\\08";\n',
    'delete of a name in sloppy code': 'var gone = 1; delete gone;\n',
    'for await in an async arrow': 'var run = async (y) => { for await (const x of y) {} };\n',
    'html close comment at line start': 'var n = 1;\n--> old browsers\n',
    'labels with continue and break': ('outer: for (var i = 0; i < 2; i++) { inner: for (;;) '
                                       '{ if (i) { break outer; } continue outer; } }\n'),
    'private name declared': 'class Q { #y = 1; static has(o) { return #y in o; } }\n',
    'quantifier in order': 'var q = /a{1,2}/.test("aa");\n',
}
# name -> (source, line, column) as Chromium reports them (1-based; the end of input
# for a literal or bracket never closed)
BROKEN: dict[str, tuple[str, int, int]] = {
    'merge conflict markers': (
        'var a = 1;\n<<<<<<< HEAD\nvar b = 2;\n=======\nvar b = 3;\n>>>>>>> other\n', 2, 1),
    'missing comma between callbacks': (
        'define([], function () {\n  this.callbacks = {\n    render: function () { return true; }'
        '\n    init: function () { return true; }\n  };\n});\n', 4, 5),
    'typo in const': ('var a;\ncosnt self = this;\n', 2, 7),
    'dangling plus': ('var b;\nvar a = "." + b +;\n', 2, 18),
    'unterminated string': ("var a = 1;\nvar s = 'abc;\n", 2, 9),
    'unterminated template': ('var a = 1;\n\nvar s = `abc ${x}\n', 4, 1),
    'unterminated comment': ('var a;\n/* no end\n', 2, 1),
    'unbalanced bracket': ('define([], function () {\n  var a = [1, 2;\n});\n', 2, 16),
    'never closed': ('define([], function () {\n  return 1;\n', 3, 1),
    'stray closer': ('var a = 1;\n}\n', 2, 1),
    'unclosed call': ('var a;\nfoo(a, b;\n', 2, 8),
    'bad identifier': ('var a;\nvar 1a = 2;\n', 2, 5),
    'missing colon in object': ('var b;\nvar o = {a 1};\n', 2, 12),
    'else inside block': ('if (a) {\n  else\n}\n', 2, 3),
    'arrow params without comma': ('var z;\nvar f = (a b) => a;\n', 2, 12),
    'empty initializer': ('var y;\nlet x = ;\n', 2, 9),
    'conditional without colon': ('var c;\nvar d = a ? b;\n', 2, 14),
    'doubled operator': ('var e;\nx = 1 +* 2;\n', 2, 8),
    'unterminated substitution': ('var f;\nvar t = `a ${b`;\n', 3, 1),
    'unterminated regex': ('var g;\nvar r = /abc;\n', 2, 9),
    'for without second semicolon': ('var h;\nfor (var i = 0; i < 3) {}\n', 2, 22),
    'dot without name': ('var j;\nobj.;\n', 2, 5),
    'template placeholder as code': (
        'define([], function () {\n  var base = {{BASE_PATH}};\n});\n', 2, 15),
    'anonymous function statement': ('var k;\nfunction () {}\n', 2, 1),
    'double comma in object': ('var l;\nvar o = {a: 1,, b: 2};\n', 2, 15),
    'double comma in arguments': ('var m;\nf(a,, b);\n', 2, 5),
    'let declared twice': ('let n = 1;\nlet n = 2;\n', 2, 5),
    'let shadows its parameter': ('var p;\nfunction q(r) {\n  const r = 1;\n}\n', 3, 9),
    'class and var of one name': ('class S {}\nvar S;\n', 2, 5),
    'return at the top level': ('var a = 1;\nreturn a;\n', 2, 1),
    'octal literal in strict code': ('"use strict";\nvar mode = 0755;\n', 2, 12),
    'private name never declared': ('class P {\n  has(o) { return #y in o; }\n}\n', 2, 12),
    'quantifier out of order': ('var ok = 1;\nvar r = /a{2,1}/;\n', 2, 9),
    'const without initializer': ('var b;\nconst a;\n', 2, 7),
    'break to a missing label': ('for (;;) {\n  break missing;\n}\n', 2, 9),
    'duplicate parameters in strict function': (
        'function f(a, b) {\n  "use strict";\n}\nfunction g(a, a) { "use strict"; }\n', 4, 15),
    'let named let': ('var x;\nlet let = 1;\n', 2, 5),
    'import statement in a script': ('var a;\nimport x from "./x.js";\n', 2, 1),
    'export in a script': ('var a;\nexport default a;\n', 2, 1),
    'new.target outside a function': ('var a;\nvar t = new.target;\n', 2, 13),
    'super call outside a class': ('var a;\nsuper();\n', 2, 1),
    'duplicate __proto__': ('var o = {\n  __proto__: null,\n  __proto__: null\n};\n', 3, 3),
    'mixing ?? and ||': ('var a, b;\nvar c = a ?? b || 1;\n', 2, 16),
    'optional chain assignment': ('var a = {};\na?.b = 1;\n', 2, 1),
    'getter with a parameter': ('var o = {\n  get x(v) { return v; }\n};\n', 2, 8),
    'two constructors': ('class C {\n  constructor() {}\n  constructor(a) {}\n}\n', 3, 3),
    'duplicate named group': ('var r;\nr = /(?<n>a)(?<n>b)/;\n', 2, 5),
    'unknown unicode property': ('var r;\nr = /\\p{Foo}/u;\n', 2, 5),
    'numeric separator at the end': ('var n;\nn = 1_;\n', 2, 7),
    'octal escape in strict code': ('"use strict";\nvar s = "\\08";\n', 2, 11),
    'with in strict function': ('function f(a) {\n  "use strict";\n  with (a) {}\n}\n', 3, 3),
    'delete of a name in strict code': ('"use strict";\nvar x;\ndelete x;\n', 3, 8),
    'await as a name in async function': ('async function f() {\n  var await = 1;\n}\n', 2, 7),
    'destructuring declares twice': ('var q;\nlet [a, a] = [];\n', 2, 9),
    'for await outside async': ('var y = [];\nfor await (const x of y) {}\n', 2, 5),
    'function statement in strict if': ('"use strict";\nif (true) function g() {}\n', 2, 11),
}


CONFIG = {"code": "w", "version": "1.0.0", "fields": {}, "langs": {}, "texts": {}, "area": "lcard"}


def case_files() -> dict[str, str]:
    """Every case as a file of its own, named by its index (all cases, both tables)."""
    sources = [*VALID.values(), *(case[0] for case in BROKEN.values())]
    return {f"case{index}.js": source for index, source in enumerate(sources)}


def case_file(name: str) -> str:
    return f"case{[*VALID, *BROKEN].index(name)}.js"


@cache
def v8_verdicts() -> dict[str, engine.SyntaxProblem]:
    """The checker's verdicts, all cases in one V8 run (as one widget's files)."""
    return engine.run(case_files(), CONFIG).syntax


def test_tables_are_big_enough():
    assert len(VALID) >= 40 and len(BROKEN) >= 30


@pytest.mark.parametrize("name", VALID)
def test_valid_javascript_is_accepted(name):
    assert case_file(name) not in v8_verdicts(), v8_verdicts()[case_file(name)]


@pytest.mark.parametrize("name", BROKEN)
def test_broken_javascript_is_rejected_at_its_line_and_column(name):
    _, line, column = BROKEN[name]
    problem = v8_verdicts()[case_file(name)]
    assert (problem.line, problem.column) == (line, column), problem
    assert problem.message.startswith("SyntaxError: ")


def test_messages_are_the_browsers():
    def message(name: str) -> str:
        return v8_verdicts()[case_file(name)].message

    assert message("missing comma between callbacks") == \
        "SyntaxError: Unexpected identifier 'init'"
    assert message("return at the top level") == "SyntaxError: Illegal return statement"
    assert message("unclosed call") == "SyntaxError: missing ) after argument list"


FRAME = """<!doctype html><meta charset="utf-8"><script>
var errors = [];
window.onerror = function (message, file, line, column, error) {
  if (String(file).indexOf('/case/') !== -1 && error && error.name === 'SyntaxError') {
    errors.push([String(message), line, column]);
  }
};
</script><script src="/case/{file}"></script><script>parent.report('{file}', errors);</script>
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must install it: see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[dict[str, Any]]:
    """What Chromium's window.onerror reports for each case: every case in a frame of its
    own (so cases never share globals), all frames in one page of one browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable("chromium is not installed")
    files = case_files()
    index = "<!doctype html><meta charset='utf-8'><script>window.results = {};" \
        "window.report = function (f, e) { window.results[f] = e; };</script>" + "".join(
            f"<iframe src='/frame/{name}.html'></iframe>" for name in files)

    def serve(route: Any) -> None:
        path = route.request.url[len(ORIGIN):]
        if path.startswith("/case/"):
            route.fulfill(body=files[path[6:]].encode("utf-8"),
                          content_type="text/javascript; charset=utf-8")
        elif path.startswith("/frame/"):
            route.fulfill(body=FRAME.replace("{file}", path[7:-5]), content_type="text/html")
        else:
            route.fulfill(body=index, content_type="text/html")

    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route(f"{ORIGIN}/**", serve)
            page.goto(f"{ORIGIN}/")
            page.wait_for_function(f"Object.keys(window.results).length === {len(files)}")
            yield page.evaluate("window.results")
        finally:
            browser.close()
    finally:
        manager.stop()


@pytest.mark.parametrize("name", VALID)
def test_chromium_accepts_every_valid_case(chromium, name):
    assert chromium[case_file(name)] == [], chromium[case_file(name)]


@pytest.mark.parametrize("name", BROKEN)
def test_chromium_reports_every_broken_case_as_the_checker_does(chromium, name):
    _, line, column = BROKEN[name]
    reported = chromium[case_file(name)]
    assert len(reported) == 1, reported
    message, browser_line, browser_column = reported[0]
    assert (browser_line, browser_column) == (line, column), reported
    assert message == "Uncaught " + v8_verdicts()[case_file(name)].message


def test_verdict_and_widget_files_do_not_leak_between_runs():
    """A file's top-level code runs only in its own check: nothing carries over."""
    first = engine.run({"script.js": "var leaked = 1; define([], function () {});"}, CONFIG)
    second = engine.run({"a.js": "if (typeof leaked !== 'undefined') { x y }"}, CONFIG)
    assert not first.syntax and "a.js" in second.syntax  # a syntax error is found regardless
    loop = engine.run({"script.js": "while (true) {}"}, CONFIG)
    assert loop.unfinished and not loop.syntax


def test_huge_minified_line_positions(tmp_path):
    source = LONG_LINE.rstrip("\n") + " var ;\n"
    problem = engine.run({"big.js": source}, CONFIG).syntax["big.js"]
    assert (problem.line, problem.column) == (1, source.index("var ;") + 5)
    assert json.dumps(problem.message)  # one line, not the whole source line
    assert len(problem.message) < 200




def test_reads_define_and_nested_callbacks():
    module = parse_module("""define('w', ['jquery', 'underscore', './lib/x.js'], function ($, _) {
  var CustomWidget = function () {
    var self = this;
    function onTasks() { return true; }
    this.callbacks = {
      render: function () { return true; },
      init() { return true; },
      'bind_actions': () => true,
      settings: _.bind(function () {}, this),
      onSave: self.save,
      leads: {selected: function () {}},
      todo: {selected: onTasks},
      tasks: {'selected': onTasks},
      flag: true
    };
    this.callbacks.destroy = function () {};
    // this.callbacks = {commented: function () {}};
    return this;
  };
  return CustomWidget;
});""")
    assert module.define_line == 1
    assert module.dependencies == ["jquery", "underscore", "./lib/x.js"]
    assert module.defines[0].factory is not None and not module.defines[0].anonymous
    entries = module.callbacks.entries
    assert entries["render"] == entries["init"] == entries["bind_actions"] == "function"
    assert entries["settings"] == entries["onSave"] == "reference"
    assert entries["leads"] == "object" and entries["leads.selected"] == "function"
    assert entries["todo.selected"] == entries["tasks.selected"] == "reference"
    assert entries["flag"] == "other"
    assert entries["destroy"] == "function"
    assert "commented" not in entries
    assert module.callbacks.line == 5 and not module.callbacks.open_ended


def test_spread_makes_callbacks_open_ended():
    module = parse_module("define([], function () { this.callbacks = {...base, render() {}}; });")
    assert module.callbacks.open_ended and "render" in module.callbacks.entries


def test_define_in_comment_string_or_member_does_not_count():
    assert parse_module("// define([], function () {})\nfoo.define(1);").define_line is None
    assert parse_module("var x = 'define([], f)';").define_line is None
    assert parse_module("window.define([], function () {});").define_line == 1


def test_top_level_define_statements():
    module = parse_module("define([], f);\ndefine('named', [], g);\n"
                          "(function () { define([], h); })();\nx ? define([], a) : 0;\n")
    assert [(d.line, d.anonymous, d.statement) for d in module.defines] == [
        (1, True, True), (2, False, True), (3, True, False), (4, True, False)]


def test_require_arrays_are_collected():
    module = parse_module("define([], function () { require(['./a.js', 'b'], function () {}); });")
    assert [r.value for r in module.requires] == ["./a.js", "b"]


def test_strings_skip_comments():
    module = parse_module("// 'render'\nvar s = 'render'; /* 'init' */ var t = `x${1}`;")
    assert [(s.value, s.line) for s in module.strings()] == [("render", 2), ("x${1}", 2)]


def test_reads_callbacks_assigned_one_area_at_a_time():
    # The generated script.js sets each area's callbacks in a block of its own.
    module = parse_module("""define([], function () {
  return function () {
    this.callbacks = {render: function () { return true; }};
    this.callbacks.leads = {selected: function () { return true; }};
    this.callbacks.todo = {selected: function () {}, nested: {deep: () => 1}};
    this.callbacks.tasks = {selected: this.callbacks.todo.selected};
    return this;
  };
});""")
    entries = module.callbacks.entries
    assert entries["leads"] == "object" and entries["leads.selected"] == "function"
    assert entries["todo.selected"] == "function" and entries["todo.nested.deep"] == "function"
    assert entries["tasks.selected"] == "reference"
    assert not module.callbacks.open_ended
