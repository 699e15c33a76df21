"""The tree-sitter side of the JavaScript reader: the grammar and the one query each file
gets (every pattern the checker needs, by name). A query walks the syntax tree in C; one walk
with all patterns costs about the same as one walk with one, so there is a single query."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _language() -> Any:
    import tree_sitter_javascript
    from tree_sitter import Language

    return Language(tree_sitter_javascript.language())


PATTERNS: tuple[tuple[str, str], ...] = (
    ("define", '''(call_expression function: (identifier) @f (#eq? @f "define")) @call'''),
    ("define", '''(call_expression function: (member_expression object: (identifier) @o
        property: (property_identifier) @f)
        (#eq? @f "define") (#any-of? @o "window" "self" "globalThis")) @call'''),
    ("require", '''(call_expression function: (identifier) @f (#any-of? @f "require" "requirejs")
        arguments: (arguments . (array) @deps))'''),
    ("callbacks", '''(assignment_expression
        left: (member_expression property: (property_identifier) @p)
        (#eq? @p "callbacks") right: (_) @value) @assign'''),
    ("callbacks", '''(pair key: (property_identifier) @k (#eq? @k "callbacks")
        value: (object) @value)'''),
    ("callbacks", '''(pair key: (string (string_fragment) @k) (#eq? @k "callbacks")
        value: (object) @value)'''),
    ("callbacks", '''(assignment_expression
        left: (member_expression object: (member_expression
            property: (property_identifier) @p) property: (property_identifier) @name)
        (#eq? @p "callbacks") right: (_) @value) @member'''),
    ("callbacks", '''(assignment_expression
        left: (subscript_expression object: (member_expression
            property: (property_identifier) @p))
        (#eq? @p "callbacks")) @dynamic'''),
    # Kommo's public checklist (the checker's KS7xx rules)
    ("eval", '''(call_expression function: (identifier) @f (#eq? @f "eval")) @node'''),
    ("eval", '''(call_expression function: (member_expression object: (identifier) @o
        property: (property_identifier) @f) (#eq? @f "eval")
        (#any-of? @o "window" "self" "globalThis")) @node'''),
    ("new_function", '''(new_expression constructor: (identifier) @f
        (#eq? @f "Function")) @node'''),
    ("timer_string", '''(call_expression function: [(identifier) @f
        (member_expression property: (property_identifier) @f)]
        (#any-of? @f "setTimeout" "setInterval")
        arguments: (arguments . [(string) (template_string)])) @node'''),
    ("sync_request", r'''(pair key: [(property_identifier) (string (string_fragment))] @k
        (#match? @k "^[\"']?async[\"']?$") value: (false)) @node'''),
    ("script_element", '''(call_expression function: (member_expression
        property: (property_identifier) @f) (#eq? @f "createElement")
        arguments: (arguments . (string (string_fragment) @s)
        (#match? @s "^[sS][cC][rR][iI][pP][tT]$"))) @node'''),
    ("get_script", '''(call_expression function: (member_expression
        property: (property_identifier) @f) (#eq? @f "getScript")) @node'''),
    ("console", '''(call_expression function: (member_expression object: (identifier) @o
        property: (property_identifier) @f) (#eq? @o "console")
        (#any-of? @f "log" "debug" "info" "dir" "table" "time")) @node'''),
    ("app_write", '''(assignment_expression left: (member_expression) @lhs
        (#match? @lhs "^APP[.\\[]")) @node'''),
    ("app_write", '''(augmented_assignment_expression left: (member_expression) @lhs
        (#match? @lhs "^APP[.\\[]")) @node'''),
    # i18n paths named by literal (kommo_scaffold.check.i18n, KS409)
    ("i18n_path", '''(call_expression function: (member_expression
        property: (property_identifier) @f) (#eq? @f "i18n")
        arguments: (arguments . (string (string_fragment) @path))) @node'''),
    ("t_path", '''(call_expression function: (identifier) @f (#eq? @f "t")
        arguments: (arguments . (string (string_fragment) @path))) @node'''),
    ("t_helper", '''(function_declaration name: (identifier) @f (#eq? @f "t")) @node'''),
    ("langs_path", '''(member_expression object: (member_expression
        property: (property_identifier) @l) (#eq? @l "langs")) @node'''),
    ("string_binding", '''(variable_declarator name: (identifier) @name
        value: (string (string_fragment) @value))'''),
)


@cache
def query() -> Any:
    from tree_sitter import Query

    return Query(_language(), "\n".join(source for _, source in PATTERNS))


def parse_tree(source: bytes) -> Any:
    from tree_sitter import Parser

    return Parser(_language()).parse(source)


@cache
def strings_query() -> Any:
    """Every string and template literal (only asked for on demand: a bundle has thousands)."""
    from tree_sitter import Query

    return Query(_language(), "[(string) (template_string)] @s")
