"""What copier shows at each question: order, help that fits a small terminal, yes/no."""

from __future__ import annotations

import re
from typing import Any

import yaml
from conftest import TEMPLATE

from kommo_scaffold.catalog import areas

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
    details = order[2:2 + len(per_area)]
    assert set(details) == per_area, details
    assert order[2 + len(per_area):2 + len(per_area) + 2] == ["installation", "settings_fields"]
    rest = order[2 + len(per_area) + 2:]
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
