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


# The computed copier flags that name each language's files in the template, as in
# {% if is_typescript %}src{% endif %}.
LANGUAGE_FLAGS: dict[str, str] = {"is_javascript": "javascript", "is_typescript": "typescript"}

# A TypeScript project's parts, src/areas/<part>.ts each, in the order src/areas.ts registers
# them: the right-panel block (card areas with -1), the back end's button in the settings
# modal (when nothing else shows it), and each area with browser code of its own.
PANEL_PART = "panel"
SETTINGS_BUTTON_PART = "settings_button"
TS_AREA_PARTS: tuple[str, ...] = (
    "llist", "clist", "tlist", "advanced_settings", "card_sdk", "catalogs", "digital_pipeline",
    "lead_sources", "salesbot_designer", "widget_page",
)
TS_PARTS: tuple[str, ...] = (PANEL_PART, SETTINGS_BUTTON_PART, *TS_AREA_PARTS)
