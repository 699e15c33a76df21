"""The one place copier asks a question, hooked for the length of a command.

copier has no hook for custom prompts: copier 9 asks every question by calling the name
``unsafe_prompt`` in ``copier._main`` (questionary's function of that name, imported there),
one question at a time. ``hooked`` puts a function of ours in its place, which gets copier's
function to call for whatever it does not handle itself. Where copier lacks that name or
questionary's function takes other parameters, or the adaptations are off (``adapt``),
copier asks as it always does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from kommo_scaffold.engine.adapt import replaced


class Prompt(Protocol):
    def __call__(self, questions: list[dict[str, Any]], answers: dict[str, Any] | None = None,
                 **kwargs: Any) -> dict[str, Any]: ...


# questions, answers so far, copier's other arguments, copier's own prompt -> answers
Handler = Callable[..., dict[str, Any]]


@contextlib.contextmanager
def hooked(handler: Handler) -> Iterator[bool]:
    """copier asks through ``handler(original, questions, answers, **kwargs)`` in the block;
    the block gets False where the hook could not be set (copier asks as it is)."""
    import copier._main as copier_main

    def wrap(original: Prompt) -> Prompt:
        def prompt(questions: list[dict[str, Any]], answers: dict[str, Any] | None = None,
                   **kwargs: Any) -> dict[str, Any]:
            return handler(original, questions, answers, **kwargs)
        return prompt

    with replaced(copier_main, "unsafe_prompt", wrap, ("questions", "answers"),
                  more=True) as done:
        yield done
