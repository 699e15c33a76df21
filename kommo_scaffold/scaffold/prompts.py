"""Terminal questions around copier's: settings fields one by one, and what is left to ask.

copier asks every question of copier.yml itself. Two things it cannot do well are added here:

* the installation form fields (``settings_fields``) are a YAML list in copier.yml, which
  nobody wants to type at a prompt; in a terminal they are asked field by field (code, label,
  type, required, "add another?") and handed to copier as the parsed answer. The YAML form
  stays for ``-d`` and data files.
* answers given so far are recorded, so Ctrl-C can leave a data file to resume from, and a
  run without a terminal can name every answer it is missing instead of failing on the first.

Every question's help text and validation message is wrapped to the terminal's width (at
most three lines): prompt_toolkit cuts a line of a prompt's message at the right edge.

:func:`recording` asks through copier's one prompt, hooked by ``engine.prompthook`` while a
command runs; tests drive the prompts in a terminal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kommo_scaffold.catalog import areas

QMARK = "\U0001f3a4"  # copier's microphone, so our questions look like its own
MAX_LINES = 3
# What each installation form field type is in Kommo's form (one line each at the prompt).
FIELD_TYPE_HELP = {
    "text": "a text input",
    "pass": "a password input",
    "users": "one text input per account user (e.g. a phone extension)",
    "users_lp": "a login and a password per account user",
    "custom": "your own input, drawn in settings() (one per widget)",
}


def _columns() -> int:
    """The width prompt_toolkit draws in: the terminal's own, which COLUMNS (often left
    over from another terminal) does not change; COLUMNS or 80 only without a terminal."""
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            return os.get_terminal_size(stream.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            continue
    return shutil.get_terminal_size().columns


def fitted(text: str, indent: int = 0) -> str:
    """``text`` wrapped to the terminal's width less ``indent`` (the prompt mark), its own
    line breaks kept, at most MAX_LINES lines (the last one ends in an ellipsis if cut)."""
    width = max(20, _columns() - indent - 1)
    lines = [piece for line in text.splitlines()
             for piece in (textwrap.wrap(line, width) or [""])]
    if len(lines) > MAX_LINES:
        last = textwrap.shorten(" ".join(lines[MAX_LINES - 1:]), width, placeholder=" …")
        lines = [*lines[:MAX_LINES - 1], last]
    return "\n".join(lines)


def _fitted_question(question: dict[str, Any]) -> dict[str, Any]:
    """copier's question with its message and validation messages fitted to the terminal.

    copier's message is the help text (or the name and type), then a line break and the two
    spaces the answer follows."""
    question = dict(question)
    message = question.get("message")
    if isinstance(message, str) and "\n" in message:
        text, _, tail = message.rpartition("\n")
        question["message"] = f"{fitted(text, indent=3)}\n{tail}"
    validate = question.get("validate")
    if callable(validate):
        def fitted_validate(answer: Any, validate: Callable[[Any], Any] = validate) -> Any:
            verdict = validate(answer)
            return fitted(verdict) if isinstance(verdict, str) else verdict
        question["validate"] = fitted_validate
    return question


@dataclass
class Recorder:
    """Answers given on the command line plus those typed so far, in question order."""

    given: dict[str, Any]
    typed: dict[str, Any] = field(default_factory=dict)

    def known(self) -> dict[str, Any]:
        return {**self.given, **self.typed}

    def save_for_resume(self) -> Path | None:
        """Write the answers so far to a data file (None when nothing was typed)."""
        if not self.typed:
            return None
        import yaml

        fd, name = tempfile.mkstemp(prefix="kommo-new-answers-", suffix=".yml")
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write("# Answers given before the interruption; pass this file back with\n"
                         "# --data-file to be asked only the remaining questions.\n")
            yaml.safe_dump(self.known(), stream, sort_keys=False, allow_unicode=True)
        return Path(name)


def _field_label(code: str) -> str:
    return code.replace("_", " ").strip().capitalize() or code


def ask_settings_fields(defaults: list[dict[str, Any]], locations: list[str] | None,
                        ) -> list[dict[str, Any]]:
    """Ask the installation form fields one at a time; KeyboardInterrupt on Ctrl-C."""
    import questionary

    from kommo_scaffold.scaffold.answers import FIELD_CODE_RE

    allow_custom = locations is None or "settings" in locations
    fields: list[dict[str, Any]] = []
    print("Installation form fields (Kommo shows them when a user installs the widget).")
    more = True
    while more:
        default = defaults[len(fields)] if len(fields) < len(defaults) else {}
        taken = {f["code"] for f in fields}

        def valid_code(text: str, taken: set[str] = taken) -> bool | str:
            if not text and not fields:
                return True  # no fields at all
            if not FIELD_CODE_RE.match(text):
                return fitted("lower-case Latin letters, digits and _, starting with a letter")
            return fitted(f"{text} is already a field") if text in taken else True

        code = questionary.text(
            f"Field {len(fields) + 1} code" + (" (empty: no fields)" if not fields else ""),
            default=str(default.get("code", "")), validate=valid_code, qmark=QMARK,
        ).unsafe_ask().strip()
        if not code:
            break
        # The label a default field had, while its code is kept; else one from the code.
        label = default.get("name") if code == default.get("code") else None
        name = questionary.text(
            "Label in the form", default=str(label or _field_label(code)), qmark=QMARK,
        ).unsafe_ask().strip() or _field_label(code)
        kinds = [kind for kind in areas.SETTINGS_FIELD_TYPES
                 if kind != "custom" or (allow_custom and
                                         all(f["type"] != "custom" for f in fields))]
        width = max(len(kind) for kind in kinds)
        choices = [questionary.Choice(
            title=fitted(f"{kind:<{width}}  {FIELD_TYPE_HELP[kind]}", indent=3).split("\n")[0],
            value=kind) for kind in kinds]
        kind = questionary.select(
            "Type", choices=choices,
            default=default.get("type") if default.get("type") in kinds else kinds[0],
            qmark=QMARK,
        ).unsafe_ask()
        required = questionary.confirm(
            "Required?", default=bool(default.get("required", True)), qmark=QMARK,
        ).unsafe_ask()
        fields.append({"code": code, "name": name, "type": kind, "required": required})
        more = questionary.confirm(
            "Add another field?", default=len(fields) < len(defaults), qmark=QMARK,
        ).unsafe_ask()
    return fields


def _default_fields(question: dict[str, Any]) -> list[dict[str, Any]]:
    import yaml

    try:
        value = yaml.safe_load(str(question.get("default") or "[]"))
    except yaml.YAMLError:
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


@contextlib.contextmanager
def recording(given: dict[str, Any]) -> Iterator[Recorder]:
    """Ask copier's questions while the block runs: record answers, ask settings fields one
    by one, fit help and validation messages to the terminal."""
    from kommo_scaffold.engine import prompthook

    recorder = Recorder(dict(given))

    def prompt(original: prompthook.Prompt, questions: list[dict[str, Any]],
               answers: dict[str, Any] | None, **kwargs: Any) -> dict[str, Any]:
        # copier 9 asks one question per call.
        question = _fitted_question(questions[0])
        name = question["name"]
        when = question.get("when")
        if callable(when) and not when(answers or {}):
            return original([question, *questions[1:]], answers=answers, **kwargs)
        if name == "settings_fields":
            locations = recorder.known().get("locations")
            value: Any = ask_settings_fields(_default_fields(question),
                                             locations if isinstance(locations, list) else None)
        else:
            value = original([question, *questions[1:]], answers=answers, **kwargs)[name]
        recorder.typed[name] = value
        return {**(answers or {}), name: value}

    with prompthook.hooked(prompt), prompthook.validation_lines(MAX_LINES):
        yield recorder


def nothing_to_ask(given: dict[str, Any], template_root: Path, terminal: bool) -> bool:
    """True when the answers cover every question; a usage error when some are missing and
    there is no terminal to ask them on (naming them all, not only the first)."""
    from kommo_scaffold.errors import UsageError

    missing = missing_answers(given, template_root)
    if missing and not terminal:
        raise UsageError(f"No terminal to ask the questions on; missing answers: "
                         f"{', '.join(missing)}: give them with -d KEY=VALUE or --data-file, "
                         "or pass --defaults")
    return not missing


def missing_answers(given: dict[str, Any], template_root: Path) -> list[str]:
    """The questions a run with these answers would still ask, in copier.yml order.

    A question with a ``when`` condition counts only when the condition holds for the given
    answers (an area's details are missing only when the area is chosen). Conditions may
    name computed values (``has_backend``) or other questions, so every value not given is
    taken at its default, as copier would, before later conditions are read.
    """
    import jinja2

    from kommo_scaffold.scaffold.answers import _yaml

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_root)),
                             autoescape=False)
    questions = _yaml().safe_load((template_root / "copier.yml").read_text("utf-8"))
    context = dict(given)
    missing = []
    for key, question in questions.items():
        if key.startswith("_") or key in given or not isinstance(question, dict):
            continue
        when = question.get("when", True)
        if isinstance(when, str):
            try:
                rendered = env.from_string(when).render(**context).strip()
            except jinja2.TemplateError:
                rendered = "true"  # cannot tell yet: ask for it
            when = rendered.lower() not in ("false", "", "0", "no", "none")
        if when:
            missing.append(key)
        with contextlib.suppress(jinja2.TemplateError, ValueError):
            context[key] = _default_value(env, question, context)
    return missing


def _default_value(env: Any, question: dict[str, Any], context: dict[str, Any]) -> Any:
    """A question's default rendered against the answers so far, cast like copier casts it."""
    from kommo_scaffold.scaffold.answers import _yaml

    default = question.get("default")
    if not isinstance(default, str):
        return default
    text = env.from_string(default).render(**context).strip()
    kind = question.get("type", "str")
    if kind == "bool":
        return text.lower() in ("true", "yes", "y", "on", "1")
    if kind in ("yaml", "json") or question.get("multiselect"):
        yaml = _yaml()
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:  # a default that is no YAML stays unknown
            raise ValueError(str(error)) from error
    return text
