"""The JavaScript reader: tree-sitter's syntax tree, cross-checked with node.

Two tables drive the tests: tricky scripts that are valid JavaScript (the reader must accept
them) and broken ones (it must reject them at the right line). When node is installed, every
case is also given to `node --check`, so a table entry that node disagrees with fails.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import tool

from kommo_scaffold.check.js.parser import JSSyntaxError, parse_module

LONG_LINE = "var big = [" + ",".join(str(i) for i in range(30000)) + "];\n"

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
}
# name -> (source, line we report, line node reports when it differs: for a literal or
# bracket never closed, node points at the end of the file, we at where it opens)
BROKEN: dict[str, tuple[str, int, int | None]] = {
    'merge conflict markers': ('var a = 1;\n<<<<<<< HEAD\nvar b = 2;\n=======\nvar b = 3;\n'
                                '>>>>>>> other\n', 2, None),
    'missing comma between callbacks': (
        'define([], function () {\n  this.callbacks = {\n    render: '
        'function () { return true; }\n    init: function () { return '
        'true; }\n  };\n});\n', 4, None),
    'typo in const': ('var a;\ncosnt self = this;\n', 2, None),
    'dangling plus': ('var b;\nvar a = "." + b +;\n', 2, None),
    'unterminated string': ("var a = 1;\nvar s = 'abc;\n", 2, None),
    'unterminated template': ('var a = 1;\n\nvar s = `abc ${x}\n', 3, 4),
    'unterminated comment': ('var a;\n/* no end\n', 2, None),
    'unbalanced bracket': ('define([], function () {\n  var a = [1, 2;\n});\n', 2, None),
    'never closed': ('define([], function () {\n  return 1;\n', 1, 3),
    'stray closer': ('var a = 1;\n}\n', 2, None),
    'unclosed call': ('var a;\nfoo(a, b;\n', 2, None),
    'bad identifier': ('var a;\nvar 1a = 2;\n', 2, None),
    'missing colon in object': ('var b;\nvar o = {a 1};\n', 2, None),
    'else inside block': ('if (a) {\n  else\n}\n', 2, None),
    'arrow params without comma': ('var z;\nvar f = (a b) => a;\n', 2, None),
    'empty initializer': ('var y;\nlet x = ;\n', 2, None),
    'conditional without colon': ('var c;\nvar d = a ? b;\n', 2, None),
    'doubled operator': ('var e;\nx = 1 +* 2;\n', 2, None),
    'unterminated substitution': ('var f;\nvar t = `a ${b`;\n', 2, 3),
    'unterminated regex': ('var g;\nvar r = /abc;\n', 2, None),
    'for without second semicolon': ('var h;\nfor (var i = 0; i < 3) {}\n', 2, None),
    'dot without name': ('var j;\nobj.;\n', 2, None),
    'template placeholder as code': (
        'define([], function () {\n  var base = {{BASE_PATH}};\n});\n', 2, None),
    'anonymous function statement': ('var k;\nfunction () {}\n', 2, None),
    'double comma in object': ('var l;\nvar o = {a: 1,, b: 2};\n', 2, None),
    'double comma in arguments': ('var m;\nf(a,, b);\n', 2, None),
    'let declared twice': ('let n = 1;\nlet n = 2;\n', 2, None),
    'let shadows its parameter': ('var p;\nfunction q(r) {\n  const r = 1;\n}\n', 3, None),
    'class and var of one name': ('class S {}\nvar S;\n', 2, None),
}


def test_tables_are_big_enough():
    assert len(VALID) >= 30 and len(BROKEN) >= 20


@pytest.mark.parametrize("name", VALID)
def test_valid_javascript_parses(name):
    parse_module(VALID[name])


@pytest.mark.parametrize("name", BROKEN)
def test_broken_javascript_is_rejected_at_its_line(name):
    source, line, _ = BROKEN[name]
    with pytest.raises(JSSyntaxError) as info:
        parse_module(source)
    assert info.value.line == line, info.value
    assert info.value.column >= 1 and info.value.message


def node_check(tmp_path, source: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "case.js"
    path.write_bytes(source.encode("utf-8"))  # CRLF kept as written
    return subprocess.run(["node", "--check", str(path)], capture_output=True, text=True,
                          check=False)


@pytest.mark.skipif(not tool("node"), reason="node not installed")
@pytest.mark.parametrize("name", VALID)
def test_node_accepts_every_valid_case(tmp_path, name):
    result = node_check(tmp_path, VALID[name])
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not tool("node"), reason="node not installed")
@pytest.mark.parametrize("name", BROKEN)
def test_node_rejects_every_broken_case_at_the_same_line(tmp_path, name):
    source, line, node_line = BROKEN[name]
    result = node_check(tmp_path, source)
    assert result.returncode != 0, name
    reported = re.search(r"case\.js:(\d+)", result.stderr)
    assert reported is not None, result.stderr
    assert int(reported.group(1)) == (node_line or line), result.stderr


def test_messages_name_the_problem():
    def message(source: str) -> str:
        with pytest.raises(JSSyntaxError) as info:
            parse_module(source)
        return info.value.message

    assert message(BROKEN["merge conflict markers"][0]) == "merge-conflict marker left in the file"
    assert message(BROKEN["unterminated string"][0]) == "unterminated string"
    assert message(BROKEN["missing comma between callbacks"][0]) == "unexpected `init`"
    assert message(BROKEN["unbalanced bracket"][0]) == "missing `]`"


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
