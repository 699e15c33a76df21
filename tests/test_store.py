"""The template store: deterministic, append-only, offline, portable."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

from kommo_scaffold.engine import store
from kommo_scaffold.errors import ScaffoldError

TEMPLATES = REPO / "templates"


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """A machine that never ran kommo-scaffold."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def templates_copy(tmp_path):
    """A private copy of templates/ (without released history) to modify."""
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES, target, ignore=shutil.ignore_patterns(store.HISTORY_BUNDLE_NAME))
    return target


def tags(repo: Path) -> list[str]:
    return subprocess.run(["git", "tag"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.split()


def rev(repo: Path, ref: str) -> str:
    return subprocess.run(["git", "rev-parse", ref], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_sync_creates_store_and_tag(fresh_home, templates_copy):
    """A checkout's template is unreleased: it gets a dev tag, never the release tag."""
    ref = store.sync(templates_copy, "1.2.3")
    assert ref.src_path == "~/.kommo-scaffold/template"
    assert ref.repo == fresh_home / ".kommo-scaffold" / "template"
    assert ref.tag == "v1.2.3+dev.1"
    assert tags(ref.repo) == ["v1.2.3+dev.1"]
    # main and the work tree follow the newest version, for plain `copier copy`
    assert (ref.repo / "copier.yml").read_bytes() == (templates_copy / "widget" / "copier.yml"
                                                      ).read_bytes()


def test_released_template_gets_the_release_tag(fresh_home, templates_copy):
    store.release(templates_copy, "1.2.3")
    ref = store.sync(templates_copy, "1.2.3")
    assert ref.tag == "v1.2.3"
    assert tags(ref.repo) == ["v1.2.3"]


def test_sync_is_idempotent(fresh_home, templates_copy):
    first = store.sync(templates_copy, "1.2.3")
    second = store.sync(templates_copy, "1.2.3")
    assert first == second
    assert len(tags(first.repo)) == 1


def test_same_tree_same_commit_on_every_machine(tmp_path, monkeypatch, templates_copy):
    """Commits are deterministic, so two machines agree on what a version is."""
    commits = []
    for machine in ("a", "b"):
        home = tmp_path / machine
        home.mkdir()
        monkeypatch.setenv("HOME", str(home))
        ref = store.sync(templates_copy, "1.2.3")
        commits.append(rev(ref.repo, ref.tag))
    assert commits[0] == commits[1]


def test_edited_template_gets_a_dev_tag_and_never_moves_a_tag(fresh_home, templates_copy):
    store.release(templates_copy, "1.2.3")
    ref = store.sync(templates_copy, "1.2.3")
    assert ref.tag == "v1.2.3"
    released = rev(ref.repo, "v1.2.3")
    readme = templates_copy / "widget" / "project" / "README.md.jinja"
    original = readme.read_text("utf-8")
    readme.write_text(original + "\nA local edit.\n", encoding="utf-8")
    assert store.sync(templates_copy, "1.2.3").tag == "v1.2.3+dev.1"
    assert rev(ref.repo, "v1.2.3") == released
    readme.write_text(original + "\nAnother edit.\n", encoding="utf-8")
    assert store.sync(templates_copy, "1.2.3").tag == "v1.2.3+dev.2"
    # going back to the released tree finds the release again
    readme.write_text(original, encoding="utf-8")
    assert store.sync(templates_copy, "1.2.3").tag == "v1.2.3"


def test_release_history_reaches_a_machine_that_never_had_it(tmp_path, monkeypatch,
                                                             templates_copy):
    """v1 and v2 released into history.bundle; a fresh machine with v2 installed has both."""
    monkeypatch.setenv("HOME", str(tmp_path / "maintainer"))
    store.release(templates_copy, "1.0.0")
    script = templates_copy / "widget" / "project" / "widget" / "style.css.jinja"
    script.write_text(script.read_text("utf-8") + "/* v2 */\n", encoding="utf-8")
    bundle = store.release(templates_copy, "2.0.0")
    listed = subprocess.run(["git", "bundle", "list-heads", str(bundle)], capture_output=True,
                            text=True, check=True).stdout
    assert "refs/tags/v1.0.0" in listed and "refs/tags/v2.0.0" in listed

    home = tmp_path / "fresh"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    ref = store.sync(templates_copy, "2.0.0")
    assert ref.tag == "v2.0.0"  # the installed tree is the released one: no dev tag
    assert tags(ref.repo) == ["v1.0.0", "v2.0.0"]
    parent = subprocess.run(["git", "rev-parse", "v2.0.0^"], cwd=ref.repo, capture_output=True,
                            text=True, check=True).stdout
    v1 = subprocess.run(["git", "rev-parse", "v1.0.0"], cwd=ref.repo, capture_output=True,
                        text=True, check=True).stdout
    assert parent == v1  # a linear history of releases


def test_release_refuses_to_change_a_released_version(tmp_path, monkeypatch, templates_copy):
    monkeypatch.setenv("HOME", str(tmp_path / "maintainer"))
    store.release(templates_copy, "1.0.0")
    css = templates_copy / "widget" / "project" / "widget" / "style.css.jinja"
    css.write_text(css.read_text("utf-8") + "/* changed */\n", encoding="utf-8")
    with pytest.raises(ScaffoldError, match="bump the version"):
        store.release(templates_copy, "1.0.0")


def test_fetch_is_append_only(fresh_home, templates_copy, tmp_path):
    """A history bundle never moves or deletes a tag the store already has."""
    store.release(templates_copy, "1.0.0")
    ref = store.sync(templates_copy, "1.0.0")
    before = rev(ref.repo, "v1.0.0")
    # another "release" of 1.0.0 with a different tree must not replace ours
    other = tmp_path / "other"
    shutil.copytree(templates_copy, other,
                    ignore=shutil.ignore_patterns(store.HISTORY_BUNDLE_NAME))
    css = other / "widget" / "project" / "widget" / "style.css.jinja"
    css.write_text(css.read_text("utf-8") + "/* other */\n", encoding="utf-8")
    bundle = store.release(other, "1.0.0")
    shutil.copy(bundle, templates_copy / store.HISTORY_BUNDLE_NAME)
    store.sync(templates_copy, "1.0.0")
    assert rev(ref.repo, "v1.0.0") == before


def test_store_path_that_is_not_a_repo_is_a_clear_error(fresh_home, templates_copy):
    blocker = fresh_home / ".kommo-scaffold" / "template"
    blocker.mkdir(parents=True)
    (blocker / "something").write_text("x")
    with pytest.raises(ScaffoldError, match="not a git repository"):
        store.sync(templates_copy, "1.0.0")


def test_released_template_is_not_edited_without_a_version_bump():
    """If this version is in templates/history.bundle, the working tree must equal it."""
    bundle = TEMPLATES / store.HISTORY_BUNDLE_NAME
    version = store.installed_version()
    if not bundle.exists():
        pytest.skip("no released history yet")
    heads = subprocess.run(["git", "bundle", "list-heads", str(bundle)], capture_output=True,
                           text=True, check=True).stdout
    if f"refs/tags/v{version}" not in heads:
        pytest.skip(f"v{version} is not released yet")
    scratch = Path(subprocess.run(["mktemp", "-d"], capture_output=True, text=True,
                                  check=True).stdout.strip())
    try:
        subprocess.run(["git", "init", "-q", str(scratch)], check=True)
        subprocess.run(["git", "fetch", "-q", str(bundle), "refs/tags/*:refs/tags/*"],
                       cwd=scratch, check=True)
        released = subprocess.run(["git", "rev-parse", f"v{version}^{{tree}}"], cwd=scratch,
                                  capture_output=True, text=True, check=True).stdout.strip()
        assert store.write_tree(scratch, TEMPLATES / "widget") == released, (
            f"templates/widget differs from released v{version}: bump the version in "
            "pyproject.toml (and release it with python -m kommo_scaffold.engine.store)")
    finally:
        shutil.rmtree(scratch)
