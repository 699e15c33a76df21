"""The languages a project's browser code can be written in (the `language` answer).

javascript: widget/script.js is the source, as Kommo loads it; no build, no node_modules.
typescript: src/*.ts is the source; esbuild bundles it into widget/script.js (build
output). Switching later is not offered: the sources differ file by file.
"""

from __future__ import annotations

LANGUAGE_QUESTION = "language"
LANGUAGES: tuple[str, ...] = ("javascript", "typescript")
DEFAULT_LANGUAGE = "javascript"
LANGUAGE_HELP = ("The language of the widget's browser code: javascript (widget/script.js, "
                 "no build) or typescript (src/*.ts, built to widget/script.js with esbuild; "
                 "needs Node.js and npm)")


def is_typescript(answers: dict[str, object]) -> bool:
    """Whether a project with these recorded answers is a TypeScript project (projects
    made before the question existed are JavaScript ones)."""
    return answers.get(LANGUAGE_QUESTION, DEFAULT_LANGUAGE) == "typescript"
