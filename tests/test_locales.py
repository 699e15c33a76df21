"""One template file renders every locale (copier's yield tag in its name), and plain
`copier update -d locales=...` adds and removes locale files, keeping the user's edits.

Released templates up to v0.2.1 had one file per locale; the rendered paths are the same
(widget/i18n/<locale>.json), so updating such a project merges as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import TEMPLATE, run_copier, user_git

from kommo_scaffold.catalog import areas
from kommo_scaffold.engine import runner as engine
from kommo_scaffold.engine import store
from kommo_scaffold.plumbing.gitutil import commit_all, git

OLD_TAG = "v0.2.1"  # the last release with one template file per locale


def i18n_files(project: Path) -> list[str]:
    return sorted(path.name for path in (project / "widget" / "i18n").iterdir())


def edit_name(project: Path, locale: str, text: str) -> None:
    path = project / "widget" / "i18n" / f"{locale}.json"
    data = json.loads(path.read_text("utf-8"))
    data["widget"]["name"] = text
    data["user"] = {"hello": f"USER EDIT {locale}"}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def test_one_template_file_for_every_locale():
    names = sorted(path.name for path in (TEMPLATE / "project" / "widget" / "i18n").iterdir())
    assert names == ["{% yield locale from locales %}{{ locale }}.json{% endyield %}.jinja"]


def test_every_locale_renders_its_own_labels(make_widget):
    # The render test_generate's test_all_areas_together makes too (one render per run).
    project = make_widget(locations=list(areas.AREA_CODES), locales=list(areas.LOCALES))
    assert i18n_files(project) == sorted(f"{code}.json" for code in areas.LOCALES)
    from kommo_scaffold.catalog.labels import LABELS

    for code in areas.LOCALES:
        data = json.loads((project / "widget" / "i18n" / f"{code}.json").read_text("utf-8"))
        for key, texts in LABELS.items():
            group, _, name = key.partition(".")
            assert data[group][name] == texts[code], (code, key)


def test_plain_copier_update_adds_and_removes_locales_keeping_edits(tmp_path):
    """A v0.2.1 project (one template file per locale) with en and ru, edited, updated by
    plain copier to this template while es replaces ru: the edits in en.json survive, es
    starts from the template, ru goes (kommo's own updates of this template to itself,
    whose old render also uses the yield tag, run in test_update)."""
    project = tmp_path / "deal-helper"
    answers = {"widget_name": "Deal Helper", "locations": ["lcard", "settings"],
               "locales": ["en", "ru"]}
    store.sync()
    engine.copy(store.STORE_SRC, project, OLD_TAG, answers, defaults=True)
    git("init", "--quiet", "--initial-branch=main", cwd=project)
    commit_all(project, "Generated")
    edit_name(project, "en", "My Deal Helper")
    edit_name(project, "ru", "Мой помощник")
    user_git(project, "commit", "-qam", "My texts")

    done = run_copier("update", "--defaults", "--quiet", "-d", "locales=[en, es]",
                      cwd=project)
    assert done.returncode == 0, done.stderr
    assert i18n_files(project) == ["en.json", "es.json"]
    en_text = (project / "widget" / "i18n" / "en.json").read_text("utf-8")
    assert "<<<<<<<" not in en_text
    en = json.loads(en_text)
    assert en["widget"]["name"] == "My Deal Helper" and en["user"]["hello"] == "USER EDIT en"
    es = json.loads((project / "widget" / "i18n" / "es.json").read_text("utf-8"))
    assert es["widget"]["name"] == "Deal Helper" and "user" not in es
    assert set(es) == set(en) - {"user"}
    manifest = json.loads((project / "widget" / "manifest.json").read_text("utf-8"))
    assert manifest["widget"]["locale"] == ["en", "es"]
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["locales"] == ["en", "es"]
    assert recorded["_commit"] != OLD_TAG
