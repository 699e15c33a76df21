"""script.js calls the back end when the widget has one: a button in the card panel, else
on the advanced settings page, else in the settings modal, that calls
self.$authorizedAjax({url: <backend_url>/widget/ping}) and shows the answer. Valid for our
checker (no error, no avoidable warning), the generated node tests and tsc, for widgets whose
back end comes from the `backend` answer alone and from back-end areas."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from conftest import tool
from npm_tools import npm_tools, tsc  # noqa: F401  (npm_tools is a fixture)
from test_dev_widget_tests import node_test
from test_typings import type_check
from widget_assertions import assert_valid_widget

from kommo_scaffold.catalog import areas

# (areas, where the button goes); the same renders as test_backend_render's WITH_BACKEND.
PLACES = {
    "lcard": (["lcard"], "panel"),
    "llist": (["llist"], "settings"),
    "advanced_settings+clist": (["advanced_settings", "clist"], "advanced"),
    "widget_page+everywhere": (["widget_page", "everywhere"], "settings"),
}
ANCHORS = {
    "panel": "addBackendButton(drawPanel('panel'));",
    "advanced": "addBackendButton($content);",
    "settings": "addBackendButton($modal_body.find('.widget-settings__desc-space'));",
}


def script_of(project: Path) -> str:
    return (project / "widget" / "script.js").read_text("utf-8")


@pytest.mark.parametrize("name", PLACES)
def test_the_call_is_drawn_where_the_widget_has_room(make_widget, name: str) -> None:
    locations, place = PLACES[name]
    project = make_widget(locations=locations, backend=True)
    assert_valid_widget(project)
    script = script_of(project)
    assert ANCHORS[place] in script
    assert sum(anchor in script for anchor in ANCHORS.values()) == 1
    assert "url: BACKEND_URL + '/widget/' + encodeURIComponent(action)" in script
    assert "callBackend('ping')" in script
    if tool("node") is not None:
        status, _, failed, out = node_test(project)
        assert status == 0 and not failed, out


@pytest.mark.parametrize("seed", range(3))
def test_random_combinations_with_the_back_end(make_widget, seed: int) -> None:
    rng = random.Random(100 + seed)
    chosen = rng.sample([c for c in areas.AREA_CODES if not areas.AREA_BY_CODE[c].requires_any],
                        rng.randint(1, 6))
    project = make_widget(locations=chosen, backend=True,
                          locales=rng.sample(areas.LOCALES, rng.randint(1, 3)))
    assert_valid_widget(project)
    assert "function callBackend(action)" in script_of(project)
    i18n = json.loads(next((project / "widget" / "i18n").glob("*.json")).read_text("utf-8"))
    assert set(i18n["backend"]) == {"ping", "answer", "failed"}


def test_no_back_end_no_call(make_widget) -> None:
    script = script_of(make_widget(locations=["lcard"]))
    assert "BACKEND_URL" not in script and "$authorizedAjax" not in script


HOSTILE_BASE = "https://x.example/a'b\"c</script><!--\\/k\u00e9"


def test_the_url_is_escaped_for_js(make_widget) -> None:
    project = make_widget(locations=["lcard"], backend=True, backend_url=HOSTILE_BASE)
    line = next(line for line in script_of(project).splitlines() if "var BACKEND_URL" in line)
    literal = re.fullmatch(r"\s*var BACKEND_URL = (.*);", line).group(1)
    assert json.loads(literal) == HOSTILE_BASE
    assert "</script" not in line and "<!--" not in line


@pytest.mark.parametrize("name", ["llist", "advanced_settings+clist"])
def test_the_call_type_checks(make_widget, npm_tools, name: str) -> None:  # noqa: F811
    project = make_widget(locations=PLACES[name][0], backend=True)
    assert type_check(project, npm_tools) == (0, [])
