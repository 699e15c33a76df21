"""Read the structure of a widget's JavaScript: tree-sitter and its JavaScript grammar.

Whether a file is valid JavaScript is V8's call (:mod:`kommo_scaffold.check.js.engine`);
tree-sitter reads what the rules need from the source text itself: the AMD ``define(...)``
calls, the widget's ``callbacks`` object as written, string literals (so text in comments
never counts), the checklist's patterns, and the return statements of a callback. Structure
is found with tree-sitter queries, which run in C; Python only looks at the nodes they return.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from kommo_scaffold.check.js.queries import PATTERNS, parse_tree, query, strings_query

ValueKind = Literal["function", "object", "reference", "other"]
Node = Any  # tree_sitter.Node; typed loosely so importing this module stays cheap

FUNCTION_TYPES = frozenset(("function_expression", "arrow_function", "function",
                            "generator_function", "function_declaration",
                            "generator_function_declaration", "method_definition"))
_REFERENCE_TYPES = frozenset(("identifier", "member_expression", "call_expression",
                              "subscript_expression", "parenthesized_expression",
                              "shorthand_property_identifier", "await_expression",
                              "ternary_expression", "binary_expression"))


# tree-sitter's time and memory grow with the tokens of a file: about 60 bytes a token for
# real code, up to ~400 bytes and several seconds per 100,000 tokens for hostile shapes
# (a file of `;`, `if(if(if(...`). Tokens are estimated in C: punctuation bytes plus the
# starts of names and numbers. Reading costs about 0.2 s per 100,000 tokens, V8's verdict a
# tenth of that, so only files up to ~600 KB of real code are read (a hand-written widget is
# far smaller; a 1.6 MB bundle of lodash and react-dom has ~330,000 tokens).
MAX_TOKENS = 100_000
_PUNCTUATION = b";,.(){}[]=+-*/%<>!&|?:~^'\"`"
_WORD_CHARS = bytes(range(48, 58)) + bytes(range(65, 91)) + bytes(range(97, 123)) + b"_$" \
    + bytes(range(128, 256))
_WORDS = bytes(ord("a") if byte in _WORD_CHARS else ord(" ") for byte in range(256))


class JSTooLarge(Exception):
    """The file has more tokens than the checker parses within its memory budget."""

    def __init__(self, tokens: int) -> None:
        super().__init__(f"about {tokens:,} tokens; the checker reads at most {MAX_TOKENS:,}")
        self.tokens = tokens


def token_estimate(source: bytes) -> int:
    """Punctuation bytes plus runs of name characters, counted without a Python loop."""
    punctuation = len(source) - len(source.translate(None, _PUNCTUATION))
    words = (b" " + source.translate(_WORDS)).count(b" a")
    return punctuation + words


@dataclass(frozen=True)
class StringLiteral:
    value: str  # the source text between the quotes (escapes not decoded)
    line: int
    node: Node = field(compare=False, repr=False)


@dataclass
class DefineCall:
    line: int
    anonymous: bool  # no module name as first argument
    top_level: bool  # not inside any function
    statement: bool  # a statement of its own at the top of the file
    dependencies: list[StringLiteral] = field(default_factory=list)
    factory: Node | None = None


@dataclass
class Callbacks:
    """The widget's ``callbacks`` object: dotted name -> what kind of value it holds."""

    line: int
    entries: dict[str, ValueKind] = field(default_factory=dict)
    functions: dict[str, Node] = field(default_factory=dict, repr=False)
    open_ended: bool = False  # a spread, a computed key or names made at run time


@dataclass
class Module:
    source: bytes
    tree: Any = field(repr=False)
    defines: list[DefineCall] = field(default_factory=list)
    requires: list[StringLiteral] = field(default_factory=list)
    callbacks: Callbacks | None = None
    _matches: dict[str, list[dict[str, list[Node]]]] | None = field(default=None, repr=False)

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @property
    def define_line(self) -> int | None:
        return self.defines[0].line if self.defines else None

    @property
    def dependencies(self) -> list[str]:
        return [dep.value for call in self.defines for dep in call.dependencies]

    def text(self, node: Node) -> str:
        return self.source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def matches(self, pattern: str) -> list[dict[str, list[Node]]]:
        """Matches of the named pattern of ``PATTERNS``, in source order."""
        if self._matches is None:
            from tree_sitter import QueryCursor

            self._matches = {}
            for index, found in QueryCursor(query()).matches(self.root):
                self._matches.setdefault(PATTERNS[index][0], []).append(found)
        return self._matches.get(pattern, [])

    def nodes(self, pattern: str, capture: str = "node") -> list[Node]:
        return [found[capture][0] for found in self.matches(pattern) if capture in found]

    def strings(self) -> list[StringLiteral]:
        """Every string and template literal, in source order."""
        from tree_sitter import QueryCursor

        found = QueryCursor(strings_query()).captures(self.root).get("s", [])
        return sorted((literal(self, node) for node in found), key=lambda s: s.node.start_byte)

    def literal_at(self, offset: int) -> StringLiteral | None:
        """The string or template literal around byte ``offset``, if any (not a comment)."""
        node = self.root.descendant_for_byte_range(offset, offset)
        while node is not None and node.type not in ("string", "template_string", "comment"):
            node = node.parent
        if node is None or node.type == "comment":
            return None
        return literal(self, node)

    def search(self, pattern: re.Pattern[bytes]) -> Iterator[tuple[re.Match[bytes],
                                                                   StringLiteral]]:
        """Matches of ``pattern`` in the raw source that fall inside a string literal."""
        for match in pattern.finditer(self.source):
            found = self.literal_at(match.start())
            if found is not None:
                yield match, found


def literal(module: Module, node: Node) -> StringLiteral:
    text = module.text(node)
    return StringLiteral(text[1:-1] if len(text) >= 2 else text, node.start_point.row + 1, node)


MERGE_MARKER = re.compile(rb"(?m)^(?:<{7}|={7}|>{7}|\|{7})(?:[ \t].*)?\r?$")


def _inside_function(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in FUNCTION_TYPES:
            return True
        parent = parent.parent
    return False


def _read_defines(module: Module) -> None:
    for found in module.matches("define"):
        call = found["call"][0]
        args = call.child_by_field_name("arguments")
        if args is None:
            continue
        values = args.named_children
        named = bool(values) and values[0].type == "string"
        parent = call.parent
        statement = (parent is not None and parent.type == "expression_statement"
                     and parent.parent is not None and parent.parent.type == "program")
        entry = DefineCall(line=call.start_point.row + 1, anonymous=not named,
                           top_level=not _inside_function(call), statement=statement)
        for value in values:
            if value.type == "array":
                entry.dependencies += [literal(module, item) for item in value.named_children
                                       if item.type in ("string", "template_string")]
            elif value.type in FUNCTION_TYPES or value.type in _REFERENCE_TYPES \
                    or value.type == "object":
                entry.factory = value
        module.defines.append(entry)
    module.defines.sort(key=lambda d: d.line)


def value_kind(node: Node | None) -> ValueKind:
    if node is None:
        return "other"
    if node.type in FUNCTION_TYPES:
        return "function"
    if node.type == "object":
        return "object"
    if node.type in _REFERENCE_TYPES:
        return "reference"
    return "other"


def _key_name(module: Module, key: Node) -> str | None:
    if key.type in ("property_identifier", "identifier", "private_property_identifier",
                    "number"):
        return module.text(key)
    if key.type == "string":
        return module.text(key)[1:-1]
    return None  # computed


def _read_object(module: Module, obj: Node, prefix: str, into: Callbacks) -> None:
    for member in obj.named_children:
        if member.type == "comment":
            continue
        if member.type == "spread_element":
            into.open_ended = True
            continue
        if member.type == "shorthand_property_identifier":
            name = prefix + module.text(member)
            into.entries.setdefault(name, "reference")
            continue
        key = member.child_by_field_name("name" if member.type == "method_definition"
                                         else "key")
        name_part = _key_name(module, key) if key is not None else None
        if name_part is None:
            into.open_ended = True
            continue
        name = prefix + name_part
        value = member if member.type == "method_definition" \
            else member.child_by_field_name("value")
        kind = value_kind(value)
        into.entries[name] = kind
        if kind == "function":
            into.functions[name] = value
        elif kind == "object" and value is not None:
            _read_object(module, value, name + ".", into)


def _read_callbacks(module: Module) -> Callbacks | None:
    found: Callbacks | None = None
    open_ended = False
    extra: list[tuple[str, Node, int]] = []
    for match in module.matches("callbacks"):
        value = match["value"][0] if "value" in match else None
        if "dynamic" in match:
            open_ended = True
            continue
        if "member" in match:
            extra.append((module.text(match["name"][0]), value,
                          match["member"][0].start_point.row + 1))
            continue
        anchor = (match.get("assign") or match["k"])[0]
        if value is None or value.type != "object":
            open_ended = True  # `this.callbacks = built`: names made at run time
            if found is None:
                found = Callbacks(line=anchor.start_point.row + 1)
            continue
        candidate = Callbacks(line=anchor.start_point.row + 1)
        _read_object(module, value, "", candidate)
        # Keep the largest literal: a widget may reset callbacks to {} somewhere.
        if found is None or len(candidate.entries) > len(found.entries):
            candidate.open_ended |= found.open_ended if found else False
            found = candidate
        else:
            found.open_ended |= candidate.open_ended
    if extra and found is None:
        found = Callbacks(line=min(line for _, _, line in extra))
    if found is not None:
        found.open_ended |= open_ended
        for name, value, _ in extra:
            kind = value_kind(value)
            found.entries.setdefault(name, kind)
            if kind == "function":
                found.functions.setdefault(name, value)
            elif kind == "object" and value is not None:
                # this.callbacks.leads = {selected: function () {...}}
                _read_object(module, value, name + ".", found)
    return found


def parse_module(source: str | bytes) -> Module:
    """Read the structure of ``source`` (whose syntax V8 has already accepted: tree-sitter's
    tree is read as it is); JSTooLarge if it is beyond the reading budget."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    tokens = token_estimate(data)
    if tokens > MAX_TOKENS:
        raise JSTooLarge(tokens)
    module = Module(source=data, tree=parse_tree(data))
    _read_defines(module)
    for found in module.matches("require"):
        array = found["deps"][0]
        module.requires += [literal(module, item) for item in array.named_children
                            if item.type in ("string", "template_string")]
    module.callbacks = _read_callbacks(module)
    return module


def returns(module: Module, function: Node) -> list[Node | None]:
    """The values a function's own return statements give (None for a bare `return`);
    an arrow with an expression body gives that expression. Nested functions are skipped."""
    body = function.child_by_field_name("body")
    if body is None:
        return []
    if body.type != "statement_block":
        return [body]
    found: list[Node | None] = []
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_TYPES or node.type == "class":
            continue
        if node.type == "return_statement":
            values = [c for c in node.named_children if c.type != "comment"]
            found.append(values[0] if values else None)
            continue
        stack.extend(node.named_children)
    return found


def function_of(source: str) -> tuple[Module, Node] | None:
    """The function node of a function's source text as V8 gives it (``fn.toString()``):
    an expression, an arrow or a method shorthand; None for native or unreadable code."""
    if "[native code]" in source:
        return None
    for before, after in (("(", "\n)"), ("({", "\n})")):
        data = (before + source + after).encode("utf-8")
        if token_estimate(data) > MAX_TOKENS:
            return None
        module = Module(source=data, tree=parse_tree(data))
        if module.root.has_error:
            continue
        stack = [module.root]
        while stack:
            node = stack.pop(0)
            if node.type in FUNCTION_TYPES:
                return module, node
            stack.extend(node.named_children)
    return None
