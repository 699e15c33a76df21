"""The script.js reader: real tokens, balanced brackets, the AMD module and its callbacks."""

from __future__ import annotations

import subprocess

import pytest
from conftest import tool

from kommo_scaffold.jsparse import JSSyntaxError, parse_module, tokenize

VALID = {
    "template in template": "var a = `x ${ `y ${ {k: '}'}['k'] } z` } w`;",
    "regex with slash in class": "var r = /[/]+\\/x/gi; var d = a / b / c;",
    "regex after keyword": "function f(s) { return /}/.test(s); }",
    "division after postfix": "var i = 0; i++ / 2;",
    "comments with brackets": "/* { ( [ */ var a = 1; // ) ] }\n",
    "strings with brackets": "var s = '({[' + \"]})\" + '\\'';",
    "line continuation": "var s = 'a\\\nb';",
    "optional chaining": "var x = a?.b ?? c; x ??= 1;",
    "object after return": "function f() { return {a: 1}; }",
    "class fields": "class A { #p = 1; static s = 2; get x() { return this.#p; } }",
    "arrow bodies": "const f = (a, {b}) => ({a, b}); const g = async x => await x;",
}
INVALID = {
    "unterminated string": ("var a = 1;\nvar s = 'abc;\n", 2),
    "unterminated template": ("var a = 1;\n\nvar s = `abc ${x}\n", 3),
    "unterminated comment": ("var a;\n/* no end\n", 2),
    "unbalanced bracket": ("define([], function () {\n  var a = [1, 2;\n});\n", 2),
    "never closed": ("define([], function () {\n  return 1;\n", 1),
    "stray closer": ("var a = 1;\n}\n", 2),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_javascript_parses(name):
    parse_module(VALID[name])


@pytest.mark.parametrize("name", INVALID)
def test_syntax_errors_have_a_line(name):
    source, line = INVALID[name]
    with pytest.raises(JSSyntaxError) as info:
        parse_module(source)
    assert info.value.line == line, info.value


@pytest.mark.skipif(not tool("node"), reason="node not installed")
def test_node_agrees(tmp_path):
    """node --check accepts what we accept and rejects what we reject."""
    for name, source in VALID.items():
        path = tmp_path / "ok.js"
        path.write_text(source)
        assert subprocess.run(["node", "--check", str(path)], capture_output=True
                              ).returncode == 0, name
    for name, (source, _) in INVALID.items():
        path = tmp_path / "bad.js"
        path.write_text(source)
        assert subprocess.run(["node", "--check", str(path)], capture_output=True
                              ).returncode != 0, name


def test_tokens_skip_comments_and_keep_strings():
    tokens = tokenize("// render\nvar s = 'render'; /* init */ x.init();")
    names = [t.value for t in tokens if t.kind == "name"]
    assert names == ["var", "s", "x", "init"]
    assert [t.value for t in tokens if t.kind == "string"] == ["render"]
    assert tokens[0].line == 2


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
    assert module.factory
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


def test_define_in_comment_or_member_does_not_count():
    assert parse_module("// define([], function () {})\nfoo.define(1);").define_line is None
    assert parse_module("var x = 'define([], f)';").define_line is None


def test_require_arrays_are_collected():
    module = parse_module("define([], function () { require(['./a.js', 'b'], function () {}); });")
    assert module.requires == ["./a.js", "b"]
