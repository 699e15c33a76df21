"""kommo update across template releases, and a second machine that never had the old one.

Two releases are built in tmp from the working-tree template: 1.0.0 as it is, 1.1.0 with a
new line in script.js, a new question with a default and a new file that uses it. Each
"machine" is a fresh HOME with one installed kommo-scaffold (templates dir + version).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import JS_SCRIPT, REPO, run_cli, run_copier, user_git
from test_update import (
    assert_area_arrived,
    assert_edits_survived,
    edit_like_a_user,
    snapshot,
)

from kommo_scaffold.engine import store
from kommo_scaffold.errors import ScaffoldError
from kommo_scaffold.scaffold import generate, update

V2_JS_LINE = "  // Template 1.1.0: a line every widget gets on update.\n"
V2_QUESTION = """
release_note:
  type: str
  help: A question new in 1.1.0, with a default
  default: "hello from 1.1.0"
"""


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    """Installed templates folders of kommo-scaffold 1.0.0 and 1.1.0, with history bundles."""
    root = tmp_path_factory.mktemp("releases")
    v1 = root / "1.0.0" / "templates"
    shutil.copytree(REPO / "templates", v1,
                    ignore=shutil.ignore_patterns("__pycache__", store.HISTORY_BUNDLE_NAME))
    store.release(v1, "1.0.0")
    v2 = root / "1.1.0" / "templates"
    shutil.copytree(v1, v2)  # history.bundle included: releases append
    script = v2 / "widget" / "project" / JS_SCRIPT
    text = script.read_text("utf-8")
    script.write_text(text.replace("  'use strict';\n", "  'use strict';\n" + V2_JS_LINE, 1),
                      "utf-8")
    with (v2 / "widget" / "copier.yml").open("a", encoding="utf-8") as config:
        config.write(V2_QUESTION)
    (v2 / "widget" / "project" / "RELEASE.md.jinja").write_text("{{ release_note }}\n",
                                                                 "utf-8")
    store.release(v2, "1.1.0")
    return {"1.0.0": v1, "1.1.0": v2}


@pytest.fixture
def machine(monkeypatch, tmp_path, releases):
    """machine(name, version): switch to a fresh HOME with that kommo-scaffold installed."""

    def use(name: str, version: str) -> Path:
        home = tmp_path / f"home-{name}"
        home.mkdir(exist_ok=True)
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setattr(store, "templates_dir", lambda: releases[version])
        monkeypatch.setattr(store, "installed_version", lambda: version)
        return home

    return use


def answers_of(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))


def make_edited_project(dest: Path) -> Path:
    generate.create(dest, {"locations": ["lcard", "settings"], "locales": ["en", "ru"]},
                    defaults=True)
    edit_like_a_user(dest)
    return dest


def test_release_bundles_append(releases):
    """Each release's bundle holds every earlier release with the same commit."""
    def tags(templates: Path) -> dict[str, str]:
        out = subprocess.run(["git", "bundle", "list-heads",
                              str(templates / store.HISTORY_BUNDLE_NAME)],
                             capture_output=True, text=True, check=True).stdout
        return {ref.removeprefix("refs/tags/"): sha for sha, ref in
                (line.split() for line in out.splitlines()) if ref.startswith("refs/tags/")}

    v1, v2 = tags(releases["1.0.0"]), tags(releases["1.1.0"])
    assert set(v1) == {"v1.0.0"}
    assert set(v2) == {"v1.0.0", "v1.1.0"}
    assert v2["v1.0.0"] == v1["v1.0.0"]


def test_upgrade_across_two_template_versions(machine, tmp_path):
    """A 1.0.0 project, edited, takes 1.1.0: the template change arrives, the edits stay."""
    machine("a", "1.0.0")
    project = make_edited_project(tmp_path / "widget")
    assert answers_of(project)["_commit"] == "v1.0.0"

    machine("a", "1.1.0")
    result = update.upgrade(project, interactive=False)
    answers = answers_of(project)
    assert answers["_commit"] == "v1.1.0"
    assert answers["release_note"] == "hello from 1.1.0"
    assert V2_JS_LINE in (project / "widget" / "script.js").read_text("utf-8")
    assert (project / "RELEASE.md").read_text("utf-8") == "hello from 1.1.0\n"
    assert_edits_survived(project)
    assert (result.version_from, result.version_to) == ("v1.0.0", "v1.1.0")
    assert "RELEASE.md" in result.created and "widget/script.js" in result.modified
    assert "Updated the template from v1.0.0 to v1.1.0" in result.summary()


def test_add_area_keeps_the_old_template_version(machine, tmp_path):
    """add-area on a 1.0.0 project with 1.1.0 installed changes answers, not the version."""
    machine("a", "1.0.0")
    project = make_edited_project(tmp_path / "widget")
    machine("a", "1.1.0")
    update.add_area(project, ["digital_pipeline"], panel=None, data={}, interactive=False)
    assert answers_of(project)["_commit"] == "v1.0.0"
    assert V2_JS_LINE not in (project / "widget" / "script.js").read_text("utf-8")
    assert not (project / "RELEASE.md").exists()
    assert_area_arrived(project, "digital_pipeline")
    assert_edits_survived(project)


def test_second_machine_updates_a_project_made_elsewhere(machine, tmp_path):
    """A fresh HOME with only 1.1.0 installed updates a 1.0.0 project cloned from elsewhere.

    The old version comes from 1.1.0's history bundle, with the very commit machine A made,
    and the store has no remote: nothing needs the network.
    """
    machine("a", "1.0.0")
    made = make_edited_project(tmp_path / "made-on-a")
    repo_a = store.sync().repo
    tag_a = user_git(repo_a, "rev-parse", "v1.0.0").strip()

    home_b = machine("b", "1.1.0")
    clone = tmp_path / "clone-on-b"
    user_git(tmp_path, "clone", "-q", str(made), str(clone))
    update.add_area(clone, ["sms"], panel=None, data={}, interactive=False)
    assert_area_arrived(clone, "sms")
    assert_edits_survived(clone)
    repo_b = home_b / ".kommo-scaffold" / "template"
    assert user_git(repo_b, "rev-parse", "v1.0.0").strip() == tag_a
    assert not user_git(repo_b, "remote").strip()

    user_git(clone, "add", "-A")
    user_git(clone, "commit", "-q", "-m", "Add sms")
    update.upgrade(clone, interactive=False)
    assert answers_of(clone)["_commit"] == "v1.1.0"
    assert_edits_survived(clone)


def test_plain_copier_on_second_machine_after_sync_template(machine, tmp_path):
    """Plain `copier update` works on a new machine once the store is synced."""
    machine("a", "1.0.0")
    made = make_edited_project(tmp_path / "made-on-a")
    home_b = machine("b", "1.1.0")
    clone = tmp_path / "clone"
    user_git(tmp_path, "clone", "-q", str(made), str(clone))
    env = {"HOME": str(home_b)}
    missing = run_copier("update", "--defaults", cwd=clone, env=env)
    assert missing.returncode != 0  # copier alone cannot find ~/.kommo-scaffold/template
    store.sync()  # what `kommo sync-template` does
    done = run_copier("update", "--defaults", cwd=clone, env=env)
    assert done.returncode == 0, done.stderr
    assert answers_of(clone)["_commit"] == "v1.1.0"
    assert_edits_survived(clone)


def test_project_newer_than_installed_is_refused(machine, tmp_path):
    """A 1.1.0 project on a machine with 1.0.0: a one-line hint to upgrade, no change."""
    machine("a", "1.1.0")
    project = make_edited_project(tmp_path / "widget")
    machine("c", "1.0.0")
    before = snapshot(project)
    with pytest.raises(ScaffoldError, match="git pull && pip install"):
        update.upgrade(project, interactive=False)
    with pytest.raises(ScaffoldError, match=r"newer than the installed 1\.0\.0"):
        update.add_area(project, ["sms"], panel=None, data={}, interactive=False)
    assert snapshot(project) == before


def test_checkout_template_never_claims_a_release_tag(machine, releases, tmp_path):
    """A source checkout with an unreleased version gets a dev tag; a released tree its tag.

    Otherwise a developer's store would hold v<version> for a tree the real release does
    not have, and fetching the release could never correct it.
    """
    machine("dev", "1.1.0")
    assert store.sync(releases["1.1.0"], "1.1.0").tag == "v1.1.0"
    unreleased = tmp_path / "checkout" / "templates"
    shutil.copytree(releases["1.1.0"], unreleased,
                    ignore=shutil.ignore_patterns(store.HISTORY_BUNDLE_NAME))
    with (unreleased / "widget" / "copier.yml").open("a", encoding="utf-8") as config:
        config.write("# an unreleased edit\n")
    assert store.sync(unreleased, "1.2.0").tag == "v1.2.0+dev.1"
    assert not store.has_tag("v1.2.0")


def test_kommo_update_cli_takes_the_installed_template(tmp_path, monkeypatch):
    """`kommo update` moves a project made from an older template to the installed one.

    The older template is a copy of the working tree without one line, made by an older
    kommo-scaffold (0.0.9); the CLI then runs with this checkout's template and version.
    """
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    older = tmp_path / "older" / "templates"
    shutil.copytree(REPO / "templates", older,
                    ignore=shutil.ignore_patterns("__pycache__", store.HISTORY_BUNDLE_NAME))
    script = older / "widget" / "project" / JS_SCRIPT
    dropped = "    // Inside callbacks `this` is not the widget: always go through `self`.\n"
    text = script.read_text("utf-8")
    assert dropped in text
    script.write_text(text.replace(dropped, ""), "utf-8")
    monkeypatch.setattr(store, "templates_dir", lambda: older)
    monkeypatch.setattr(store, "installed_version", lambda: "0.0.9")
    project = make_edited_project(tmp_path / "widget")
    made_with = answers_of(project)["_commit"]
    assert dropped not in (project / "widget" / "script.js").read_text("utf-8")

    monkeypatch.undo()  # the CLI below runs the installed (working-tree) template
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    done = run_cli("update", "--defaults", "-C", str(project))
    assert done.returncode == 0, done.stderr
    now = answers_of(project)["_commit"]
    assert now != made_with and f"from {made_with} to {now}" in done.stdout
    assert dropped in (project / "widget" / "script.js").read_text("utf-8")
    assert_edits_survived(project)
