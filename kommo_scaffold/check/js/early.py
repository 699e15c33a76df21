"""Early errors that tree-sitter's grammar lets through and every browser reports.

A function or class statement without a name and a reserved word used as a name come from
the query's ``anonymous`` and ``reserved`` matches.

tree-sitter builds a tree without an ERROR node for a stray comma in an object literal or
an argument list (``{a: 1,,}``, ``f(a,,b)``) and for a name declared twice with
``let``/``const``/``class`` in one scope (ECMAScript: "It is a Syntax Error if the
LexicallyDeclaredNames of StatementList contains any duplicate entries", and the same for a
lexical name that is also a ``var``, function or parameter name there; a ``var`` inside a
nested block is not followed, so that case is left to the browser). Both are found
without walking the whole tree in Python: stray commas from a byte search, declarations
from the query's ``lexical`` matches, grouped by the block that holds them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Node = Any  # tree_sitter.Node

# A comma right after another comma or an opening bracket; only some of these are errors.
_COMMA_AFTER = re.compile(rb"[,({][ \t\r\n]*,")
# Lists where a comma cannot stand alone (arrays and array patterns allow holes).
_NO_HOLES = frozenset(("object", "object_pattern", "arguments", "formal_parameters",
                       "named_imports", "export_clause"))
# Where a statement list opens a scope of its own.
_SCOPES = frozenset(("program", "statement_block", "switch_body", "class_static_block"))
_FUNCTIONS = frozenset(("function_declaration", "generator_function_declaration"))


def stray_comma(source: bytes, root: Node) -> Node | None:
    """The first comma that stands alone in an object, pattern or argument list."""
    for match in _COMMA_AFTER.finditer(source):
        node = root.descendant_for_byte_range(match.end() - 1, match.end())
        if node is not None and node.type == "," and node.parent is not None \
                and node.parent.type in _NO_HOLES:
            return node
    return None


def bound_names(pattern: Node | None, text: Any) -> list[tuple[str, Node]]:
    """The names a binding pattern declares, with their nodes (defaults are not names)."""
    if pattern is None:
        return []
    kind = pattern.type
    if kind in ("identifier", "shorthand_property_identifier_pattern"):
        return [(text(pattern), pattern)]
    if kind in ("assignment_pattern", "object_assignment_pattern"):
        return bound_names(pattern.child_by_field_name("left"), text)
    if kind == "pair_pattern":
        return bound_names(pattern.child_by_field_name("value"), text)
    if kind in ("array_pattern", "object_pattern", "rest_pattern"):
        return [found for child in pattern.named_children for found in bound_names(child, text)]
    return []


Named = list[tuple[str, Node]]


def _declared(statement: Node, text: Any) -> tuple[Named, Named]:
    """(lexical names, var/function names) one statement declares in its own scope."""
    kind = statement.type
    if kind in ("lexical_declaration", "variable_declaration"):
        names = [found for declarator in statement.named_children
                 if declarator.type == "variable_declarator"
                 for found in bound_names(declarator.child_by_field_name("name"), text)]
        return (names, []) if kind == "lexical_declaration" else ([], names)
    if kind == "class_declaration":
        return bound_names(statement.child_by_field_name("name"), text), []
    if kind in _FUNCTIONS:
        return [], bound_names(statement.child_by_field_name("name"), text)
    return [], []


def _statements(scope: Node) -> list[Node]:
    if scope.type != "switch_body":
        return list(scope.named_children)
    return [statement for case in scope.named_children for statement in case.named_children]


def _outer_names(scope: Node, text: Any) -> Named:
    """Parameter names that share the scope of a function body or catch block."""
    owner = scope.parent
    if scope.type != "statement_block" or owner is None:
        return []
    if owner.type == "catch_clause":
        return bound_names(owner.child_by_field_name("parameter"), text)
    parameters = owner.child_by_field_name("parameters")
    single = owner.child_by_field_name("parameter")  # an arrow's one parameter: x => {...}
    if owner.child_by_field_name("body") != scope or (parameters is None and single is None):
        return []
    params = [single] if parameters is None else parameters.named_children
    return [found for param in params for found in bound_names(param, text)]


def duplicate_declaration(declarations: list[Node], text: Any) -> tuple[str, Node] | None:
    """The first name declared twice in one scope where one declaration is lexical."""
    scopes: dict[int, Node] = {}
    for node in declarations:
        scope = node.parent
        if scope is not None and scope.type in ("switch_case", "switch_default"):
            scope = scope.parent
        if scope is not None and scope.type in _SCOPES:
            scopes.setdefault(scope.id, scope)
    found: list[tuple[int, str, Node]] = []
    for scope in scopes.values():
        lexical: dict[str, Node] = {}
        other = dict(_outer_names(scope, text))
        for statement in _statements(scope):
            names, plain = _declared(statement, text)
            for name, node in plain:
                other.setdefault(name, node)
            for name, node in names:
                if name in lexical:
                    found.append((node.start_byte, name, node))
                lexical.setdefault(name, node)
        for name in other.keys() & lexical.keys():
            # Reported at the later declaration, as browsers do.
            later = max(lexical[name], other[name], key=lambda node: node.start_byte)
            found.append((later.start_byte, name, later))
    if not found:
        return None
    _, name, node = min(found, key=lambda item: item[0])
    return name, node


def first_early_error(source: bytes, root: Node, nodes: Callable[[str], list[Node]],
                      text: Callable[[Node], str]) -> tuple[str, Node] | None:
    """The first early error in the file (message and node), if any."""
    candidates: list[tuple[int, str, Node]] = []
    comma = stray_comma(source, root)
    if comma is not None:
        candidates.append((comma.start_byte, "unexpected `,`", comma))
    duplicate = duplicate_declaration(nodes("lexical"), text)
    if duplicate is not None:
        name, node = duplicate
        candidates.append((node.start_byte, f"`{name}` is already declared in this scope",
                           node))
    for node in nodes("anonymous"):
        kind = "class" if node.type == "class" else "function"
        candidates.append((node.start_byte, f"a {kind} statement needs a name", node))
    for node in nodes("reserved"):
        candidates.append((node.start_byte, f"`{text(node)}` is a reserved word, not a name",
                           node))
    if not candidates:
        return None
    _, message, node = min(candidates, key=lambda candidate: candidate[0])
    return message, node
