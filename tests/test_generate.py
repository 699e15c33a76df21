"""kommo-new renders a correct widget for every combination of answers."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from widget_assertions import assert_valid_widget, load_json, widget_facts

from kommo_scaffold.catalog import areas

# Areas that cannot stand alone, and the smallest company that makes them valid.
COMPANIONS = {code: [a.requires_any[0]] for code, a in areas.AREA_BY_CODE.items()
              if a.requires_any}


def alone(code: str) -> list[str]:
    return [code, *COMPANIONS.get(code, [])]


@pytest.mark.parametrize("code", areas.AREA_CODES)
def test_each_area_alone(make_widget, code):
    """Each area alone (with the card area card_sdk needs) renders a valid widget."""
    project = make_widget(locations=alone(code))
    answers = assert_valid_widget(project)
    assert code in answers["locations"]


def test_all_areas_together(make_widget):
    """All areas in one widget, with every locale, render a valid widget."""
    project = make_widget(locations=list(areas.AREA_CODES), locales=list(areas.LOCALES))
    assert_valid_widget(project)


def test_seed_example(make_widget):
    """The issue's example comes out exactly as Kommo documents it."""
    project = make_widget(locations=list(areas.SEED_EXAMPLE_LOCATIONS),
                          panel_locations=list(areas.SEED_EXAMPLE_PANEL))
    assert_valid_widget(project)
    manifest = load_json(project / "widget" / "manifest.json")
    assert sorted(manifest["locations"]) == sorted([
        "settings", "digital_pipeline", "lead_sources", "advanced_settings",
        "lcard-1", "ccard-1", "llist-0", "clist-0"])
    assert manifest["dp"]["action_multiple"] is False
    assert manifest["dp"]["webhook_url"].endswith("/dp")
    assert manifest["advanced"] == {"title": "advanced.title"}
    assert (project / "widget" / "images" / "logo_dp.png").is_file()


@pytest.mark.parametrize("seed", range(12))
def test_random_combinations(make_widget, seed):
    """Random areas, panel flags, locales and switches always render a valid widget."""
    rng = random.Random(seed)
    chosen = rng.sample(areas.AREA_CODES, rng.randint(1, 8))
    for code in list(chosen):
        for extra in COMPANIONS.get(code, []):
            if extra not in chosen:
                chosen.append(extra)
    panel_capable = [c for c in chosen if c in areas.PANEL_AREAS]
    answers = {
        "locations": chosen,
        "locales": rng.sample(areas.LOCALES, rng.randint(1, len(areas.LOCALES))),
        "init_once": rng.random() < 0.5,
        "installation": rng.random() < 0.7,
    }
    if panel_capable:
        answers["panel_locations"] = rng.sample(panel_capable, rng.randint(0, len(panel_capable)))
    project = make_widget(**answers)
    recorded = assert_valid_widget(project)
    assert recorded["init_once"] is answers["init_once"]


def test_panel_defaults_to_the_card_areas(make_widget):
    """Without panel_locations the cards get -1 and lists -0 (Kommo's examples do the same)."""
    project = make_widget(locations=["lcard", "llist", "settings"])
    manifest = load_json(project / "widget" / "manifest.json")
    assert manifest["locations"] == ["lcard-1", "llist-0", "settings"]
    assert_valid_widget(project)


def test_seed_example_defaults_match_its_manifest(make_widget):
    """The seed example's panel flags are exactly the default: cards -1, lists -0."""
    project = make_widget(locations=list(areas.SEED_EXAMPLE_LOCATIONS))
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["panel_locations"] == list(areas.SEED_EXAMPLE_PANEL)
    manifest = load_json(project / "widget" / "manifest.json")
    assert sorted(manifest["locations"]) == sorted([
        "settings", "digital_pipeline", "lead_sources", "advanced_settings",
        "lcard-1", "ccard-1", "llist-0", "clist-0"])


def test_no_panel_gives_minus_zero(make_widget):
    project = make_widget(locations=["comcard", "tlist"], panel_locations=[])
    manifest = load_json(project / "widget" / "manifest.json")
    assert manifest["locations"] == ["comcard-0", "tlist-0"]


def test_tasks_list_wires_both_callback_names(make_widget):
    """tlist defines todo.selected (Kommo) and tasks.selected (amoCRM) on one function."""
    facts = widget_facts(make_widget(locations=["tlist"]))
    assert {"todo.selected", "tasks.selected"} <= set(facts["callbacks"])


def test_catalog_id_is_bound_on_save(make_widget):
    facts = widget_facts(make_widget(locations=["catalogs", "settings"], catalog_id=4242))
    assert ["setSdkCatalogId", 4242] in facts["calls"]


def test_salesbot_steps_call_the_back_end(make_widget):
    """onSalesbotDesignerSave returns Salesbot JSON that calls backend_url/salesbot."""
    project = make_widget(locations=["salesbot_designer"],
                          backend_url="https://hooks.example.org/w")
    facts = widget_facts(project)
    request = facts["salesbotSteps"][0]["question"][0]
    assert request["handler"] == "widget_request"
    assert request["params"]["url"] == "https://hooks.example.org/w/salesbot"
    condition = facts["salesbotSteps"][1]["question"][0]["params"]["conditions"][0]
    assert condition["term1"] == "{{json.status}}"  # Salesbot's own placeholder survives Jinja
    assert [e["code"] for e in facts["salesbotExits"]["exits"]] == ["success", "fail"]


def test_backend_urls_default_from_backend_url(make_widget):
    project = make_widget(locations=["digital_pipeline", "sms"],
                          backend_url="https://api.example.org/kommo")
    manifest = load_json(project / "widget" / "manifest.json")
    assert manifest["dp"]["webhook_url"] == "https://api.example.org/kommo/dp"
    assert manifest["sms"]["endpoint"] == "https://api.example.org/kommo/sms"


@pytest.mark.parametrize("base", ["https://x.example/", "https://x.example",
                                  "https://x.example/kommo/"])
def test_base_url_is_normalised(make_widget, base):
    """A trailing slash on backend_url never yields `//dp`, which the back end answers 405."""
    project = make_widget(locations=["digital_pipeline", "sms", "salesbot_designer"],
                          backend_url=base)
    manifest = load_json(project / "widget" / "manifest.json")
    root = base.rstrip("/")
    assert manifest["dp"]["webhook_url"] == root + "/dp"
    assert manifest["sms"]["endpoint"] == root + "/sms"
    script = (project / "widget" / "script.js").read_text("utf-8")
    assert f'var SALESBOT_URL = "{root}/salesbot";' in script
    for url in (manifest["dp"]["webhook_url"], manifest["sms"]["endpoint"]):
        assert "//" not in url.split("://", 1)[1]


def test_explicit_endpoints_win_over_backend_url(make_widget):
    project = make_widget(locations=["digital_pipeline", "sms"],
                          backend_url="https://api.example.org",
                          dp_webhook_url="https://hooks.example.net/dp/s3cret",
                          sms_endpoint="https://sms.example.net/send?key=abc")
    manifest = load_json(project / "widget" / "manifest.json")
    assert manifest["dp"]["webhook_url"] == "https://hooks.example.net/dp/s3cret"
    assert manifest["sms"]["endpoint"] == "https://sms.example.net/send?key=abc"


def test_script_reads_kommo_code_at_run_time(make_widget):
    """Kommo's DOM ids and API paths use the code Kommo assigns, read at run time; the
    project's own names (CSS class, events) keep the project code."""
    project = make_widget(widget_code="proj_code", locations=[
        "lcard", "settings", "advanced_settings", "widget_page", "digital_pipeline",
        "lead_sources", "card_sdk"])
    script = (project / "widget" / "script.js").read_text("utf-8")
    for lookup in ("'#work-area-' + kommoCode()", "'#' + kommoCode() + '_custom_content'",
                   "'.digital-pipeline__short-task_widget-style_' + kommoCode()",
                   "'/api/v4/widgets/' + encodeURIComponent(kommoCode())",
                   "$('#' + kommoCode())"):
        assert lookup in script
    assert "settings.widget_code || (self.params && self.params.widget_code)" in script
    assert script.count('"proj_code"') == 1  # PROJECT_CODE, nothing else hard-codes it
    assert not re.search(r"#work-area-proj_code|proj_code_custom_content", script)


def test_settings_fields(make_widget):
    fields = [
        {"code": "api_key", "name": "API key", "type": "pass", "required": True},
        {"code": "managers", "type": "users", "required": False},
        {"code": "custom", "type": "custom"},
    ]
    project = make_widget(locations=["settings", "lcard"], settings_fields=fields)
    assert_valid_widget(project)
    manifest = load_json(project / "widget" / "manifest.json")
    assert manifest["settings"] == {
        "api_key": {"name": "settings.api_key", "type": "pass", "required": True},
        "managers": {"name": "settings.managers", "type": "users", "required": False},
        "custom": {"name": "settings.custom", "type": "custom", "required": False},
    }
    en = load_json(project / "widget" / "i18n" / "en.json")
    assert en["settings"] == {"api_key": "API key", "managers": "Managers", "custom": "Custom"}


def test_same_answers_same_bytes(make_widget):
    """No clock or randomness: the same answers give byte-identical projects (logos too)."""
    answers = {"locations": ["lcard", "digital_pipeline", "widget_page"], "widget_name": "Same"}
    first, second = make_widget("a", **answers), make_widget("b", **answers)

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and ".git" not in p.relative_to(root).parts}

    assert files(first) == files(second)


def test_logos_are_personalised(make_widget):
    """Logos carry the widget's colour, so they differ from the template placeholders."""
    from kommo_scaffold.engine import store

    placeholders = store.templates_dir() / "widget" / "project" / "widget" / "images"
    project = make_widget(widget_code="deal_helper", locations=["lcard", "digital_pipeline"])
    for name in areas.logos_for(["lcard", "digital_pipeline"]):
        generated = (project / "widget" / "images" / name).read_bytes()
        template = next(p for p in placeholders.iterdir()
                        if re.sub(r"\{%.*?%\}", "", p.name) == name)
        assert generated != template.read_bytes(), name


def test_project_is_a_git_repo_with_one_commit(make_widget):
    project = make_widget()
    log = subprocess.run(["git", "log", "--format=%s"], cwd=project, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(log) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True,
                            text=True, check=True).stdout
    assert status == ""


def test_answers_file_is_copier_default_and_portable(make_widget):
    """.copier-answers.yml records the store path with ~, valid on every machine."""
    project = make_widget()
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["_src_path"] == "~/.kommo-scaffold/template"
    assert recorded["_commit"].startswith("v")


def test_widget_code_derived_from_name(make_widget):
    project = make_widget(widget_name="Сделки 2 Go!")
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["widget_code"] == "sdelki_2_go"


def test_widget_name_defaults_to_folder_name(make_widget):
    project = make_widget("deal-helper")
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["widget_name"] == "Deal Helper"
    assert recorded["widget_code"] == "deal_helper"


def test_manifest_support_block(make_widget):
    project = make_widget(support_email="help@example.com", support_link="https://example.com/h")
    manifest = load_json(project / "widget" / "manifest.json")
    assert manifest["widget"]["support"] == {"link": "https://example.com/h",
                                             "email": "help@example.com"}
    plain = load_json(make_widget() / "widget" / "manifest.json")
    assert "support" not in plain["widget"]


def test_template_catalog_is_in_step_with_areas():
    """catalog.jinja and copier.yml's generated blocks match kommo_scaffold/catalog/areas.py."""
    from kommo_scaffold.catalog import templategen

    assert templategen.stale(templategen.wanted_files(templategen.template_root())) == {}


def test_copier_yml_choices_are_the_catalog():
    from kommo_scaffold.catalog.templategen import template_root
    from kommo_scaffold.scaffold.answers import load_questions

    questions = load_questions(template_root())
    assert list(questions["locations"]["choices"].values()) == list(areas.AREA_CODES)
    assert list(questions["locales"]["choices"].values()) == list(areas.LOCALES)
    # every per-area question is asked only when its area is chosen
    for area in areas.AREAS:
        for key in area.questions:
            assert f"'{area.code}' in locations" in questions[key]["when"], key


def test_labels_cover_every_locale():
    from kommo_scaffold.catalog.labels import LABELS

    for key, texts in LABELS.items():
        assert set(texts) == set(areas.LOCALES), key


def test_json_is_utf8_without_bom_and_lf(make_widget):
    project = make_widget(locations=list(areas.AREA_CODES), locales=["en", "ru"])
    for path in (project / "widget").rglob("*"):
        if path.suffix in (".json", ".js", ".css", ".svg"):
            data = path.read_bytes()
            assert not data.startswith(b"\xef\xbb\xbf"), path
            assert b"\r" not in data, path
            json.loads(data) if path.suffix == ".json" else data.decode("utf-8")
