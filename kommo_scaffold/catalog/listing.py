"""Kommo's text limits for listed (public) integrations, from the public-integration
checklist (https://developers.kommo.com/docs/getting-listed).

Shared by the checker (rules KS706-KS708) and kommo-new, which warns at once when an answer
breaks them. Private widgets may ignore them, so they are warnings, never errors.
"""

from __future__ import annotations

import re

NAME_MAX, WORD_MAX, SHORT_MAX, DESCRIPTION_MAX = 30, 19, 50, 400


# A tag is a < and the text up to the next >, with no < inside: each < is scanned at most
# up to the next < or >, so the time stays linear (<[^>]+> was quadratic on "<<<<...").
_TAG = re.compile(r"<[^<>]+>")
_SPACES = re.compile(r"\s+")


def plain_text(text: str) -> str:
    """The text a user sees: HTML tags removed (descriptions may contain HTML)."""
    return _TAG.sub("", text)


def name_problem(text: str) -> str | None:
    plain = plain_text(text)
    longest_word = max(_SPACES.split(plain.strip()) or [""], key=len)
    if len(plain) > NAME_MAX:
        return f"{len(plain)} characters; the limit is {NAME_MAX}"
    if len(longest_word) > WORD_MAX:
        return (f"the word {longest_word!r} has {len(longest_word)} characters; "
                f"the limit is {WORD_MAX}")
    return None


def short_description_problem(text: str) -> str | None:
    plain = plain_text(text)
    if len(plain) > SHORT_MAX:
        return f"{len(plain)} characters; the limit is {SHORT_MAX}"
    return None


def description_problem(text: str) -> str | None:
    if re.search(r"(?i)<script\b", text):
        return "contains a <script> tag"
    plain = plain_text(text)
    if len(plain) > DESCRIPTION_MAX:
        return f"{len(plain)} characters; the limit is {DESCRIPTION_MAX}"
    return None
