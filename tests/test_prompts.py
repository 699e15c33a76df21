"""What copier shows at each question: order, help that fits a small terminal, yes/no; and
how it is drawn in a terminal (pexpect)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEMPLATE

from kommo_scaffold.catalog import areas
from kommo_scaffold.scaffold import prompts

# An 80x24 terminal, less the prompt mark copier prints before the help text.
WIDTH = 76
MAX_LINES = 3


def questions() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((TEMPLATE / "copier.yml").read_text("utf-8"))
    return {key: value for key, value in data.items()
            if not key.startswith("_") and value.get("when") is not False}


def test_the_widget_then_areas_then_their_details_then_the_form_then_the_rest() -> None:
    order = list(questions())
    per_area = {key for area in areas.AREAS for key in area.questions} | {"backend_url"}
    widget = ["widget_name", "widget_code", "widget_description", "short_description"]
    assert order[:len(widget)] == widget
    order = order[len(widget):]
    assert order[0] == "locations"
    assert order[1] == "panel_locations"
    # Whether the widget has a back end, right after the areas (which may decide it) and
    # before backend_url and the areas' details.
    assert order[2] == "backend"
    details = order[3:3 + len(per_area)]
    assert set(details) == per_area, details
    assert details[0] == "backend_url"
    assert order[3 + len(per_area):3 + len(per_area) + 2] == ["installation", "settings_fields"]
    rest = order[3 + len(per_area) + 2:]
    assert rest[:2] == ["widget_version", "locales"]


def test_defaults_name_only_questions_asked_before() -> None:
    """A default that derives from another answer (the advanced page title from the widget
    name...) comes after that question, so it shows what the user typed."""
    data = yaml.safe_load((TEMPLATE / "copier.yml").read_text("utf-8"))
    keys = [key for key in data if not key.startswith("_")]
    for index, key in enumerate(keys):
        default = data[key].get("default")
        if not isinstance(default, str):
            continue
        for later in keys[index:]:
            assert not re.search(rf"\b{later}\b", default), (key, later)


def test_help_fits_three_lines_of_an_80_column_terminal() -> None:
    for key, question in questions().items():
        text = question["help"]
        # copier shows the help as written; the terminal wraps it.
        lines = sum(max(1, -(-len(line) // WIDTH)) for line in text.splitlines())
        assert lines <= MAX_LINES, (key, lines, text)


def test_no_internal_markers_reach_the_screen() -> None:
    for key, question in questions().items():
        text = question["help"]
        assert "generated" not in text and "#" not in text.replace("#RRGGBB", ""), key
        assert "{%" not in text and "{{" not in text, key


def test_yes_no_questions_speak_yes_no() -> None:
    for key, question in questions().items():
        if question.get("type") != "bool":
            continue
        text = question["help"]
        assert "?" in text, key
        assert not re.search(r"\b(true|false)\b", text, re.IGNORECASE), key


def test_the_area_list_fits_a_24_line_terminal() -> None:
    locations = questions()["locations"]
    assert len(locations["help"]) <= WIDTH  # one line
    # the question line, one line per area, copier's answer line
    assert 1 + len(locations["choices"]) + 1 <= 24


# --- in a terminal ------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
NEW_MAIN = "from kommo_scaffold.cli.entry import new_main; new_main()"
ANSWERS = {  # everything but the panel areas and the settings fields
    "widget_name": "Crm Tool", "widget_code": "crm_tool",
    "widget_description": "Tools for the CRM.", "short_description": "CRM tools",
    "widget_version": "1.0.0", "locales": ["en"], "support_email": "", "support_link": "",
    "installation": True, "locations": ["lcard", "settings"], "backend": False,
    "init_once": False, "language": "javascript",
}


def spawn(tmp_path: Path, answers: dict[str, Any], columns: int) -> Any:
    pexpect = pytest.importorskip("pexpect")
    data = tmp_path / "answers.yml"
    data.write_text(yaml.safe_dump(answers, sort_keys=False), "utf-8")
    return pexpect.spawn(sys.executable, ["-c", NEW_MAIN, "w", "--data-file", str(data)],
                         # COLUMNS of another size: the terminal's own size counts.
                         cwd=str(tmp_path), env={**os.environ, "COLUMNS": "120"},
                         encoding="utf-8",
                         timeout=60, dimensions=(24, columns))


def screen_text(raw: str) -> str:
    """What was drawn, without escape sequences or any white space."""
    return re.sub(r"\s+", "", ANSI.sub("", raw))


def test_help_is_wrapped_to_the_terminal_not_cut(tmp_path) -> None:
    """At 80 columns the panel question's help (one long line in copier.yml) is all drawn;
    prompt_toolkit cut it at "...right-hand panel (area-1 in man"."""
    child = spawn(tmp_path, ANSWERS, 80)
    child.expect("right-hand panel")
    child.expect("lcard")  # the first choice: the message is drawn above it
    drawn = screen_text(child.before)
    child.sendintr()
    child.expect(pexpect_eof())
    assert screen_text(questions()["panel_locations"]["help"])[-40:] in drawn, drawn


def test_help_of_a_narrow_terminal_is_at_most_three_lines(tmp_path) -> None:
    child = spawn(tmp_path, ANSWERS, 40)
    child.expect("Which card")
    child.expect("lcard")
    drawn = ANSI.sub("", child.before)
    child.sendintr()
    child.expect(pexpect_eof())
    message = drawn[:drawn.rfind("(Use arrow keys")]
    lines = [line for line in message.replace("\r", "").split("\n") if line.strip()]
    assert len(lines) <= MAX_LINES and lines[-1].rstrip().endswith("…"), lines


def test_a_validation_message_is_wrapped_not_cut(tmp_path) -> None:
    """At 40 columns the field code's validation message takes two lines; prompt_toolkit's
    one-line validation toolbar drew only "lower-case Latin letters, digits and _,"."""
    child = spawn(tmp_path, {**ANSWERS, "panel_locations": ["lcard"]}, 40)
    child.expect("Field 1 code")
    child.send("\x15Bad!\r")
    child.expect("digits")
    child.expect("with a letter")
    child.sendintr()
    child.expect(pexpect_eof())


def test_the_validation_toolbar_adaptation_turns_itself_off(monkeypatch) -> None:
    """Where prompt_toolkit's toolbar takes other parameters, nothing is replaced."""
    from prompt_toolkit.widgets import toolbars

    from kommo_scaffold.engine import prompthook

    original = toolbars.ValidationToolbar.__init__
    with prompthook.validation_lines(3) as done:
        assert done and toolbars.ValidationToolbar().container.content.height.max == 3
    assert toolbars.ValidationToolbar.__init__ is original
    monkeypatch.setattr(toolbars.ValidationToolbar, "__init__",
                        lambda self, show_position=False, extra=None: None)
    with prompthook.validation_lines(3) as done:
        assert not done


def pexpect_eof() -> Any:
    import pexpect

    return pexpect.EOF


def test_a_fields_label_follows_its_code_and_each_type_says_what_it_is(tmp_path) -> None:
    """copier.yml's default field is "login"/"Login": a field coded api_key defaults to the
    label "Api key", not "Login"."""
    child = spawn(tmp_path, {**ANSWERS, "panel_locations": ["lcard"]}, 80)
    child.expect("Field 1 code")
    child.send("\x15api_key\r")
    child.expect("Label")
    child.send("\r")
    child.expect("Type")
    for kind in areas.SETTINGS_FIELD_TYPES:  # custom too: the settings area is chosen
        child.expect(re.escape(prompts.FIELD_TYPE_HELP[kind]))
    child.send("\r")
    child.expect("Required")
    child.send("\r")
    child.expect("Add another field")
    child.send("n")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 0, child.before
    recorded = yaml.safe_load((tmp_path / "w" / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["settings_fields"] == [
        {"code": "api_key", "name": "Api key", "type": "text", "required": True}]


def test_fitted_text_keeps_to_the_width_and_three_lines(monkeypatch) -> None:
    monkeypatch.setattr(prompts, "_columns", lambda: 40)
    text = "word " * 40 + "\nsecond paragraph"
    lines = prompts.fitted(text, indent=3).split("\n")
    assert len(lines) == MAX_LINES and all(len(line) <= 36 for line in lines), lines
    assert lines[-1].endswith("…")
    assert prompts.fitted("short\nlines") == "short\nlines"  # its own breaks are kept


def test_copiers_message_and_validation_are_fitted(monkeypatch) -> None:
    monkeypatch.setattr(prompts, "_columns", lambda: 30)
    question = prompts._fitted_question({
        "name": "x", "message": "a help text that is longer than the terminal is wide\n  ",
        "validate": lambda answer: True if answer else "an error message that is long too"})
    text, tail = question["message"].rsplit("\n", 1)
    assert tail == "  " and text.replace("\n", " ") == \
        "a help text that is longer than the terminal is wide"
    assert all(len(line) <= 26 for line in text.split("\n"))
    assert question["validate"]("y") is True
    assert question["validate"]("").replace("\n", " ") == "an error message that is long too"
    assert "\n" in question["validate"]("")


def test_every_field_type_has_an_explanation() -> None:
    assert set(prompts.FIELD_TYPE_HELP) == set(areas.SETTINGS_FIELD_TYPES)
