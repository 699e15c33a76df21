"""A small, forgiving JavaScript reader for widget script.js files.

Not a full parser: it tokenizes JavaScript correctly (strings, template literals with nested
``${}``, regex literals, comments), checks that brackets balance, and then reads just the
structure the checker needs: the AMD ``define(...)`` call and the widget's ``callbacks``
object literal, nested objects and callbacks assigned by reference included. Reading real
tokens instead of grepping means a callback name inside a comment or a string never counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TokenKind = Literal["name", "punct", "string", "template", "regex", "number"]
ValueKind = Literal["function", "object", "reference", "other"]


class JSSyntaxError(Exception):
    """script.js cannot be tokenized or its brackets do not balance."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    value: str
    line: int


# Longest first, so `===` is one token and `=` alone means assignment.
_PUNCTUATORS = sorted((
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=",
    "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "<<", ">>", "**",
    "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^",
    "!", "~", "?", ":", "=", ".", "@", "#",
), key=len, reverse=True)
# After these keywords a `/` starts a regex literal, not a division.
_REGEX_AFTER_WORDS = frozenset((
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
    "do", "else", "yield", "await",
))
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_$" or ord(ch) > 127


def _is_ident_part(ch: str) -> bool:
    return ch.isalnum() or ch in "_$" or ord(ch) > 127


class _Lexer:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.line = 1
        self.tokens: list[Token] = []

    def error(self, message: str, line: int | None = None) -> JSSyntaxError:
        return JSSyntaxError(message, line or self.line)

    def _regex_allowed(self) -> bool:
        if not self.tokens:
            return True
        last = self.tokens[-1]
        if last.kind == "punct":
            # After `)`, `]` or a postfix `++`/`--` a slash divides.
            return last.value not in (")", "]", "++", "--")
        if last.kind == "name":
            return last.value in _REGEX_AFTER_WORDS
        return False

    def run(self, stop_at_brace: bool = False) -> None:
        """Tokenize to the end, or (inside `${`) up to the `}` that closes the substitution."""
        src, n = self.src, len(self.src)
        depth = 0
        while self.pos < n:
            ch = src[self.pos]
            if ch == "\n":
                self.line += 1
                self.pos += 1
            elif ch in " \t\r\f\v\ufeff\u00a0\u2028\u2029":
                self.pos += 1
            elif src.startswith("//", self.pos) or (
                    src.startswith("<!--", self.pos) or
                    (src.startswith("#!", self.pos) and self.pos == 0)):
                end = src.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated /* comment")
                self.line += src.count("\n", self.pos, end)
                self.pos = end + 2
            elif ch in "'\"":
                self._string(ch)
            elif ch == "`":
                self._template()
            elif ch.isdigit() or (ch == "." and self.pos + 1 < n and src[self.pos + 1].isdigit()):
                start = self.pos
                while self.pos < n and (_is_ident_part(src[self.pos]) or src[self.pos] == "." or (
                        src[self.pos] in "+-" and src[self.pos - 1] in "eE"
                        and not src[start:self.pos].lower().startswith("0x"))):
                    self.pos += 1
                self.tokens.append(Token("number", src[start:self.pos], self.line))
            elif _is_ident_start(ch) or ch == "\\":
                start = self.pos
                self.pos += 1
                while self.pos < n and (_is_ident_part(src[self.pos]) or src[self.pos] == "\\"):
                    self.pos += 1
                self.tokens.append(Token("name", src[start:self.pos], self.line))
            elif ch == "/" and self._regex_allowed():
                self._regex()
            else:
                for punct in _PUNCTUATORS:
                    if src.startswith(punct, self.pos):
                        break
                else:
                    raise self.error(f"unexpected character {ch!r}")
                if stop_at_brace:
                    if punct == "{":
                        depth += 1
                    elif punct == "}":
                        if depth == 0:
                            self.pos += 1
                            return
                        depth -= 1
                self.tokens.append(Token("punct", punct, self.line))
                self.pos += len(punct)
        if stop_at_brace:
            raise self.error("unterminated ${ in a template literal")

    def _string(self, quote: str) -> None:
        src, n, start_line = self.src, len(self.src), self.line
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= n:
                raise self.error("unterminated string", start_line)
            ch = src[self.pos]
            if ch == quote:
                self.pos += 1
                break
            if ch == "\n":
                raise self.error("unterminated string", start_line)
            if ch == "\\":
                nxt = src[self.pos + 1:self.pos + 2]
                if nxt == "\n":
                    self.line += 1
                out.append(nxt)
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        self.tokens.append(Token("string", "".join(out), start_line))

    def _template(self) -> None:
        src, n, start_line = self.src, len(self.src), self.line
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= n:
                raise self.error("unterminated template literal", start_line)
            ch = src[self.pos]
            if ch == "`":
                self.pos += 1
                break
            if ch == "\\":
                out.append(src[self.pos + 1:self.pos + 2])
                self.line += src[self.pos + 1:self.pos + 2] == "\n"
                self.pos += 2
                continue
            if src.startswith("${", self.pos):
                # Substitutions are code: tokenize them (strings, regexes, nested templates)
                # but keep their tokens out of the outer stream.
                self.pos += 2
                inner = _Lexer(src)
                inner.pos, inner.line = self.pos, self.line
                inner.run(stop_at_brace=True)
                self.pos, self.line = inner.pos, inner.line
                out.append("${}")
                continue
            if ch == "\n":
                self.line += 1
            out.append(ch)
            self.pos += 1
        self.tokens.append(Token("template", "".join(out), start_line))

    def _regex(self) -> None:
        src, n, start_line = self.src, len(self.src), self.line
        self.pos += 1
        in_class = False
        while True:
            if self.pos >= n or src[self.pos] == "\n":
                raise self.error("unterminated regular expression", start_line)
            ch = src[self.pos]
            if ch == "\\":
                self.pos += 2
                continue
            if ch == "[":
                in_class = True
            elif ch == "]":
                in_class = False
            elif ch == "/" and not in_class:
                break
            self.pos += 1
        self.pos += 1
        start = self.pos
        while self.pos < n and _is_ident_part(src[self.pos]):
            self.pos += 1
        self.tokens.append(Token("regex", src[start:self.pos], start_line))


def tokenize(source: str) -> list[Token]:
    """Tokens of ``source``; raises JSSyntaxError on unterminated literals or stray chars."""
    lexer = _Lexer(source)
    lexer.run()
    return lexer.tokens


def match_brackets(tokens: list[Token]) -> dict[int, int]:
    """Index of each opening bracket -> index of its closer; raises on imbalance."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for index, token in enumerate(tokens):
        if token.kind != "punct":
            continue
        if token.value == ";" and stack and tokens[stack[-1]].value == "[":
            # Statements never end inside [...]: the ] is missing here, not further down.
            raise JSSyntaxError(f"';' before the ']' of the '[' opened on line "
                                f"{tokens[stack[-1]].line}", token.line)
        if token.value in "([{":
            stack.append(index)
        elif token.value in _CLOSERS:
            if not stack:
                raise JSSyntaxError(f"unexpected {token.value!r} with nothing open", token.line)
            opener = tokens[stack[-1]]
            if opener.value != _CLOSERS[token.value]:
                raise JSSyntaxError(
                    f"{token.value!r} does not close {opener.value!r} opened on line "
                    f"{opener.line}", token.line)
            pairs[stack.pop()] = index
    if stack:
        opener = tokens[stack[-1]]
        raise JSSyntaxError(f"{opener.value!r} is never closed", opener.line)
    return pairs


@dataclass
class Callbacks:
    """The callbacks object literal: dotted name -> what its value is."""

    line: int
    entries: dict[str, ValueKind] = field(default_factory=dict)
    # A spread (`...other`) or computed key: names we cannot see may be defined.
    open_ended: bool = False


@dataclass
class Module:
    """What the checker needs to know about a script.js."""

    tokens: list[Token]
    define_line: int | None = None
    dependencies: list[str] = field(default_factory=list)
    # Strings in require([...]) arrays anywhere: code loaded at run time.
    requires: list[str] = field(default_factory=list)
    factory: bool = False
    callbacks: Callbacks | None = None

    def strings(self) -> list[Token]:
        return [t for t in self.tokens if t.kind in ("string", "template")]


def _split_args(tokens: list[Token], pairs: dict[int, int], start: int, end: int
                ) -> list[tuple[int, int]]:
    """Top-level comma-separated ranges [a, b) between tokens[start] and tokens[end]."""
    ranges: list[tuple[int, int]] = []
    index, begin = start + 1, start + 1
    while index < end:
        token = tokens[index]
        if token.kind == "punct" and token.value in "([{" and index in pairs:
            index = pairs[index] + 1
            continue
        if token.kind == "punct" and token.value == ",":
            ranges.append((begin, index))
            begin = index + 1
        index += 1
    if begin < end:
        ranges.append((begin, end))
    return ranges


def _value_kind(tokens: list[Token], pairs: dict[int, int], a: int, b: int) -> ValueKind:
    if a >= b:
        return "other"
    first = tokens[a]
    if first.kind == "name" and first.value in ("function", "async"):
        return "function"
    if first.kind == "punct" and first.value == "{" and pairs.get(a) == b - 1:
        return "object"
    # Arrow functions: `x => ...` or `(a, b) => ...`
    if first.kind == "name" and a + 1 < b and tokens[a + 1].value == "=>":
        return "function"
    if (first.value == "(" and a in pairs and pairs[a] + 1 < b
            and tokens[pairs[a] + 1].value == "=>"):
        return "function"
    # A reference: `onTasksSelected`, `self.render`, `handlers.leads.bind(self)`
    if first.kind == "name" and first.value not in ("true", "false", "null", "undefined", "new"):
        return "reference"
    return "other"


def _read_object(tokens: list[Token], pairs: dict[int, int], open_index: int, prefix: str,
                 result: Callbacks) -> None:
    for a, b in _split_args(tokens, pairs, open_index, pairs[open_index]):
        if a >= b:
            continue
        first = tokens[a]
        if first.value == "...":
            result.open_ended = True
            continue
        key_index = a
        # `async name() {}`, `get name() {}`, `*name() {}`
        while (key_index + 1 < b and tokens[key_index].kind in ("name", "punct")
               and tokens[key_index].value in ("async", "get", "set", "*")
               and tokens[key_index + 1].value not in (":", "(", ",")):
            key_index += 1
        key = tokens[key_index]
        if key.value == "[":
            result.open_ended = True
            continue
        if key.kind not in ("name", "string", "number"):
            continue
        name = f"{prefix}{key.value}"
        after = key_index + 1
        if after >= b:  # shorthand `{ render }`
            result.entries[name] = "reference"
        elif tokens[after].value == ":":
            kind = _value_kind(tokens, pairs, after + 1, b)
            result.entries[name] = kind
            if kind == "object":
                _read_object(tokens, pairs, after + 1, f"{name}.", result)
        elif tokens[after].value == "(":
            result.entries[name] = "function"


def _find_callbacks(tokens: list[Token], pairs: dict[int, int]) -> Callbacks | None:
    """The `callbacks = {...}` / `callbacks: {...}` literal, plus `callbacks.x = ...`."""
    found: Callbacks | None = None
    extra: dict[str, ValueKind] = {}
    for index, token in enumerate(tokens[:-2]):
        if token.kind not in ("name", "string") or token.value != "callbacks":
            continue
        nxt = tokens[index + 1]
        dynamic = ((nxt.value == "=" and tokens[index + 2].value != "{")
                   or (nxt.value == "[" and token.kind == "name"))
        if dynamic:
            # `this.callbacks = built`, `callbacks[name] = fn`: names made at run time
            # (Kommo's own CLI builds its widgets this way).
            if found is None:
                found = Callbacks(line=token.line)
            found.open_ended = True
        elif nxt.value in ("=", ":") and tokens[index + 2].value == "{" and index + 2 in pairs:
            candidate = Callbacks(line=token.line)
            _read_object(tokens, pairs, index + 2, "", candidate)
            # Keep the largest literal: a widget may reset callbacks to {} somewhere.
            if found is None or len(candidate.entries) > len(found.entries):
                candidate.open_ended |= found.open_ended if found else False
                found = candidate
            elif found is not None:
                found.open_ended |= candidate.open_ended
        elif nxt.value == "." and tokens[index + 2].kind == "name":
            # callbacks.render = function () {...}; callbacks.leads.selected = ...
            names, cursor = [tokens[index + 2].value], index + 3
            while (cursor + 1 < len(tokens) and tokens[cursor].value == "."
                   and tokens[cursor + 1].kind == "name"):
                names.append(tokens[cursor + 1].value)
                cursor += 2
            if cursor < len(tokens) and tokens[cursor].value == "=":
                end = len(tokens)
                name = ".".join(names)
                extra[name] = _value_kind(tokens, pairs, cursor + 1, end)
                if tokens[cursor + 1].value == "{" and cursor + 1 in pairs:
                    # callbacks.leads = {selected: function () {...}}
                    nested = Callbacks(line=token.line)
                    _read_object(tokens, pairs, cursor + 1, f"{name}.", nested)
                    extra.update(nested.entries)
    if extra:
        if found is None:
            found = Callbacks(line=next(t.line for t in tokens if t.value == "callbacks"))
        for name, kind in extra.items():
            found.entries.setdefault(name, kind)
    return found


def parse_module(source: str) -> Module:
    """Tokenize, balance brackets and read the AMD structure of ``source``."""
    tokens = tokenize(source)
    pairs = match_brackets(tokens)
    module = Module(tokens=tokens)
    for index, token in enumerate(tokens[:-1]):
        if token.kind != "name" or token.value != "define" or tokens[index + 1].value != "(":
            continue
        if index > 0 and tokens[index - 1].value == "function":
            continue
        if index > 0 and tokens[index - 1].value == "." and (
                index < 2 or tokens[index - 2].value not in ("window", "self", "globalThis")):
            continue  # foo.define(...) is someone else's define; window.define is AMD's
        args = _split_args(tokens, pairs, index + 1, pairs[index + 1])
        if not args:
            continue
        if module.define_line is None:
            module.define_line = token.line
        for a, b in args:  # every define call: a bundle may hold a dev and a prod branch
            first = tokens[a]
            if first.value == "[" and a in pairs:
                module.dependencies += [t.value for t in tokens[a + 1:pairs[a]]
                                        if t.kind in ("string", "template")]
            elif _value_kind(tokens, pairs, a, b) in ("function", "reference", "object"):
                module.factory = True
    for index, token in enumerate(tokens[:-2]):
        if (token.value in ("require", "requirejs") and token.kind == "name"
                and tokens[index + 1].value == "(" and tokens[index + 2].value == "["
                and index + 2 in pairs):
            module.requires += [t.value for t in tokens[index + 3:pairs[index + 2]]
                                if t.kind in ("string", "template")]
    module.callbacks = _find_callbacks(tokens, pairs)
    return module
