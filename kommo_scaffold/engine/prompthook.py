"""The one place copier asks a question, hooked for the length of a command.

copier has no hook for custom prompts: copier 9 asks every question by calling the name
``unsafe_prompt`` in ``copier._main`` (questionary's function of that name, imported there),
one question at a time. ``hooked`` puts a function of ours in its place, which gets copier's
function to call for whatever it does not handle itself. Where copier lacks that name or
questionary's function takes other parameters, or the adaptations are off (``adapt``),
copier asks as it always does.

prompt_toolkit draws a text prompt's validation message in a toolbar one line high, so a
message wrapped to the terminal lost all but its first line; ``validation_lines`` makes that
toolbar grow to a few lines for the length of a command.
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


@contextlib.contextmanager
def validation_lines(lines: int) -> Iterator[bool]:
    """In the block, a text prompt's validation message is drawn on up to ``lines`` lines
    (prompt_toolkit's ``ValidationToolbar`` makes a ``Window`` of height 1). The block gets
    False where prompt_toolkit builds that toolbar otherwise: the message then keeps to one
    line, as without kommo."""
    from prompt_toolkit.layout.containers import Window
    from prompt_toolkit.layout.dimension import Dimension
    from prompt_toolkit.widgets import toolbars

    def wrap(original: Callable[..., None]) -> Callable[..., None]:
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            window = getattr(getattr(self, "container", None), "content", None)
            if isinstance(window, Window) and window.height == 1:
                window.height = Dimension(min=1, max=lines)
        return init

    with replaced(toolbars.ValidationToolbar, "__init__", wrap,
                  ("self", "show_position")) as done:
        yield done
