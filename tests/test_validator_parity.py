"""copier.yml's validators and answers.py's hold the same rules.

Every bad answer below is refused twice: by kommo-scaffold's Python validation (one clear
line, before copier runs) and by plain `copier copy` with the template's own Jinja
validators, which is all a user of plain copier has. Deleting or loosening either side's
rule fails this test. The good answers pass both, so the harness can tell them apart.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEMPLATE

from kommo_scaffold.errors import UsageError
from kommo_scaffold.scaffold import answers

BACKEND = {"locations": ["lcard", "digital_pipeline", "sms"]}
MOBILE = {"locations": ["lcard", "mobile_card"]}

BAD: dict[str, dict[str, Any]] = {
    "code-trailing-newline": {"widget_code": "deal\n"},
    "code-upper-first": {"widget_code": "Deal"},
    "code-digit-first": {"widget_code": "1deal"},
    "code-dash": {"widget_code": "deal-helper"},
    "name-empty": {"widget_name": "   "},
    "name-nul": {"widget_name": "Deal\x00Helper"},
    "version-newline": {"widget_version": "1.0.0\n"},
    "version-v": {"widget_version": "v1.0"},
    "version-five-parts": {"widget_version": "1.0.0.0.0"},
    "locales-empty": {"locales": []},
    "locales-unknown": {"locales": ["xx"]},
    "email-newline": {"support_email": "help@acme.example\n"},
    "email-no-at": {"support_email": "help.acme.example"},
    "email-empty-label": {"support_email": "help@acme..example"},
    "email-trailing-dot": {"support_email": "help@acme.example."},
    "email-leading-dot": {"support_email": "help@.acme.example"},
    "link-ftp": {"support_link": "ftp://acme.example"},
    "link-space": {"support_link": "https://acme.example/a b"},
    "locations-empty": {"locations": []},
    "locations-unknown": {"locations": ["nope"]},
    "card-sdk-alone": {"locations": ["card_sdk"]},
    "panel-on-settings": {"locations": ["lcard", "settings"], "panel_locations": ["settings"]},
    "panel-not-chosen": {"locations": ["lcard"], "panel_locations": ["ccard"]},
    "fields-not-a-list": {"settings_fields": "login"},
    "field-bad-code": {"settings_fields": [{"code": "Login", "type": "text"}]},
    "field-code-newline": {"settings_fields": [{"code": "login\n", "type": "text"}]},
    "field-twice": {"settings_fields": [{"code": "a"}, {"code": "a"}]},
    "field-bad-type": {"settings_fields": [{"code": "a", "type": "number"}]},
    "field-required-text": {"settings_fields": [{"code": "a", "required": "yes"}]},
    "field-custom-no-settings": {"locations": ["lcard"],
                                 "settings_fields": [{"code": "a", "type": "custom"}]},
    "field-two-custom": {"locations": ["settings"], "settings_fields": [
        {"code": "a", "type": "custom"}, {"code": "b", "type": "custom"}]},
    "backend-query": {**BACKEND, "backend_url": "https://api.example/kommo?x=1"},
    "backend-double-slash": {**BACKEND, "backend_url": "https://api.example//kommo"},
    "backend-trailing-double": {**BACKEND, "backend_url": "https://api.example//"},
    "backend-newline": {**BACKEND, "backend_url": "https://api.example/kommo\n"},
    "backend-fragment": {**BACKEND, "backend_url": "https://api.example/#top"},
    "backend-ftp": {**BACKEND, "backend_url": "ftp://api.example"},
    "dp-fragment": {**BACKEND, "dp_webhook_url": "https://api.example/dp#x"},
    "dp-double-slash": {**BACKEND, "dp_webhook_url": "https://api.example//dp"},
    "dp-not-url": {**BACKEND, "dp_webhook_url": "api.example/dp"},
    "sms-newline": {**BACKEND, "sms_endpoint": "https://api.example/sms\n"},
    # The derived value typed out would stop following backend_url: leave it empty.
    "dp-derived-typed": {**BACKEND, "backend_url": "https://api.example/k/",
                         "dp_webhook_url": "https://api.example/k/dp"},
    "sms-derived-typed": {**BACKEND, "backend_url": "https://api.example",
                          "sms_endpoint": "https://api.example/sms"},
    "mobile-empty": {**MOBILE, "mobile_frame_url": ""},
    "mobile-space": {**MOBILE, "mobile_frame_url": "https://m.example/a b"},
    "color-bad-digit": {**MOBILE, "mobile_color": "#12345G"},
    "color-newline": {**MOBILE, "mobile_color": "#123456\n"},
    "salesbot-code-upper": {"locations": ["salesbot_designer"],
                            "salesbot_handler_code": "Send"},
    "salesbot-code-newline": {"locations": ["salesbot_designer"],
                              "salesbot_handler_code": "send\n"},
    "menu-code-system": {"locations": ["widget_page"], "left_menu_code": "leads"},
    "menu-code-newline": {"locations": ["widget_page"], "left_menu_code": "page\n"},
    "advanced-title-empty": {"locations": ["advanced_settings"], "advanced_title": " "},
    "ai-description-empty": {"locations": ["ai_agent"], "ai_agent_description": ""},
    "catalog-negative": {"locations": ["catalogs"], "catalog_id": -1},
}

GOOD: dict[str, dict[str, Any]] = {
    "defaults": {},
    "backend-trailing-slash": {**BACKEND, "backend_url": "https://api.example/kommo/"},
    "endpoints-explicit": {**BACKEND, "dp_webhook_url": "https://h.example/dp/s3cret",
                           "sms_endpoint": "https://h.example/sms?key=abc"},
    "endpoints-derived": {**BACKEND, "dp_webhook_url": "", "sms_endpoint": ""},
    "everything-valid": {"widget_code": "deal_Helper2", "widget_version": "2.1",
                         "support_email": "help@acme.example",
                         "support_link": "https://acme.example/help?x=1#faq",
                         "locations": ["lcard", "llist", "settings"],
                         "panel_locations": ["llist"],
                         "settings_fields": [{"code": "a", "type": "custom"}]},
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working-tree template as a plain folder, as `copier copy PATH` reads it."""
    root = tmp_path_factory.mktemp("template") / "widget"
    shutil.copytree(TEMPLATE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module", autouse=True)
def compiled_once() -> Iterator[None]:
    """Each Jinja source of copier.yml compiled once for the module, as kommo's own copier
    runs do: these 60 runs would otherwise compile the same few hundred validators and
    defaults again each time. Compiling is a pure function of the source (renders from
    compiled code are compared with fresh ones in tests/test_compilecache.py), so what is
    tested is still copier's own validation."""
    from kommo_scaffold.engine import reuse

    with reuse.compiled_once():
        yield


def copier_copy(template: Path, dest: Path, data: dict[str, Any]) -> None:
    from copier import run_copy

    run_copy(str(template), dest, data=data, defaults=True, quiet=True, unsafe=False)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_answer_is_refused_by_python_and_by_plain_copier(template: Path, tmp_path: Path,
                                                             case: str) -> None:
    data = BAD[case]
    with pytest.raises(UsageError):
        answers.validate(data)
    with pytest.raises(ValueError) as refused:
        copier_copy(template, tmp_path / "w", data)
    assert str(refused.value).strip()
    assert not (tmp_path / "w" / "widget").exists()


@pytest.mark.parametrize("case", sorted(GOOD))
def test_good_answers_pass_both(template: Path, tmp_path: Path, case: str) -> None:
    answers.validate(GOOD[case])
    copier_copy(template, tmp_path / "w", GOOD[case])
    assert (tmp_path / "w" / "widget" / "manifest.json").is_file()


def test_copier_folds_a_repeated_area_that_python_refuses(template: Path, tmp_path: Path) -> None:
    """The one difference: copier orders multi-select answers by the choices and drops
    repeats, so nothing bad can come of it there; kommo-scaffold says so instead."""
    import yaml

    with pytest.raises(UsageError, match="listed twice"):
        answers.validate({"locations": ["lcard", "lcard"]})
    copier_copy(template, tmp_path / "w", {"locations": ["lcard", "lcard"]})
    recorded = yaml.safe_load((tmp_path / "w" / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["locations"] == ["lcard"]
