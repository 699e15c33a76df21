"""templateclones: a template version is cloned once per machine, and kept whole or not at all."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from test_engine import GIT_ENV, _tiny_template

from kommo_scaffold.engine import templateclones


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "template"
    folder.mkdir()
    return _tiny_template(folder)


def clone_into(url: str, ref: str, made: list[str]):
    def make(folder: str) -> None:
        made.append(folder)
        subprocess.run(["git", "clone", "-q", url, folder], check=True, env=GIT_ENV)
        subprocess.run(["git", "checkout", "-q", ref], cwd=folder, check=True, env=GIT_ENV)
    return make


def clones(tmp_path: Path) -> list[str]:
    return sorted(path.name for path in (tmp_path / "cache" / "template-clones").iterdir())


def test_a_second_command_uses_the_kept_clone(repository, tmp_path):
    made: list[str] = []
    first = templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", made))
    again = templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", made))
    assert first == again and len(made) == 1
    assert (Path(first) / "a.txt").read_text("utf-8") == "{{ name }}\n"
    assert not Path(made[0]).exists()  # the staging folder was renamed into place


def test_a_moved_tag_gets_a_clone_of_its_new_commit(repository, tmp_path):
    made: list[str] = []
    before = templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", made))
    (Path(repository) / "a.txt").write_text("changed\n", "utf-8")
    for args in (["commit", "-qam", "2"], ["tag", "-f", "v1"]):
        subprocess.run(["git", *args], cwd=repository, check=True, env=GIT_ENV,
                       capture_output=True)
    after = templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", made))
    assert after != before and len(made) == 2
    assert (Path(after) / "a.txt").read_text("utf-8") == "changed\n"


def test_a_commit_tagged_anew_gets_a_clone_that_knows_its_new_tag(repository, tmp_path):
    """The store can tag one commit anew (v1+dev.1 replaced by the release v1.1 of the same
    template); copier records the version it describes from the clone's tags."""
    made: list[str] = []
    for args in (["tag", "v1+dev.1", "v1"], ["tag", "-d", "v1"]):
        subprocess.run(["git", *args], cwd=repository, check=True, env=GIT_ENV,
                       capture_output=True)
    before = templateclones.kept_clone(repository, "v1+dev.1",
                                       clone_into(repository, "v1+dev.1", made))
    for args in (["tag", "v1.1", "v1+dev.1"], ["tag", "-d", "v1+dev.1"]):
        subprocess.run(["git", *args], cwd=repository, check=True, env=GIT_ENV,
                       capture_output=True)
    after = templateclones.kept_clone(repository, "v1.1", clone_into(repository, "v1.1", made))
    assert after != before and len(made) == 2
    described = subprocess.run(["git", "describe", "--tags"], cwd=after, check=True,
                               env=GIT_ENV, capture_output=True, text=True).stdout.strip()
    assert described == "v1.1"


@pytest.mark.parametrize("ref", ["no-such-tag", "--output=x", "HEAD~5"])
def test_refs_that_name_no_commit_keep_nothing(repository, tmp_path, ref):
    made: list[str] = []
    assert templateclones.kept_clone(repository, ref, clone_into(repository, ref, made)) is None
    assert made == []


def test_not_a_local_repository_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    made: list[str] = []
    for url in ("https://example.com/template.git", str(tmp_path / "missing")):
        assert templateclones.kept_clone(url, "v1", made.append) is None
    assert made == []


def test_an_interrupted_clone_leaves_nothing_kept(repository, tmp_path):
    def interrupted(folder: str) -> None:
        (Path(folder) / "half").write_text("", "utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        templateclones.kept_clone(repository, "v1", interrupted)
    assert clones(tmp_path) == []


def test_two_commands_making_the_same_clone_both_use_one(repository, tmp_path):
    """The other command renames its clone into place first: this one uses that one."""
    made: list[str] = []
    real = clone_into(repository, "v1", made)

    def racing(folder: str) -> None:
        real(folder)
        templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", made))

    kept = templateclones.kept_clone(repository, "v1", racing)
    assert kept is not None and (Path(kept) / "a.txt").is_file()
    assert len(clones(tmp_path)) == 1 and len(made) == 2


def test_clones_unused_for_a_month_are_removed_when_a_new_one_is_made(repository, tmp_path):
    folder = tmp_path / "cache" / "template-clones"
    folder.mkdir(parents=True, mode=0o700)
    old, recent, abandoned = folder / "old-1", folder / "recent-2", folder / ".making-x"
    for path in (old, recent, abandoned):
        path.mkdir()
    month_ago = time.time() - 31 * 24 * 3600
    os.utime(old, (month_ago, month_ago))
    os.utime(abandoned, (month_ago, month_ago))
    kept = templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", []))
    assert clones(tmp_path) == sorted([Path(str(kept)).name, "recent-2"])


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_to_is_not_used(repository, tmp_path):
    folder = tmp_path / "cache" / "template-clones"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    made: list[str] = []
    assert templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", made)) \
        is None
    assert made == [] and clones(tmp_path) == []


def test_widgets_made_from_a_kept_clone_are_identical(tmp_path, monkeypatch):
    """kommo-new with no kept clone and with one: the same files, byte for byte."""
    import shutil

    from kommo_scaffold.scaffold import generate

    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    made = []
    for run in ("first", "second"):
        project = tmp_path / run / "w"
        generate.create(project, {"locations": ["lcard", "settings"]}, defaults=True)
        shutil.rmtree(project / ".git")
        made.append({path.relative_to(project): path.read_bytes()
                     for path in sorted(project.rglob("*")) if path.is_file()})
    assert made[0] == made[1]
    assert len(clones(tmp_path)) == 1


@pytest.mark.parametrize("change", ["edited", "removed", "added", "git-broken"])
def test_a_kept_clone_changed_since_it_was_made_is_made_again(repository, tmp_path, change):
    made: list[str] = []
    kept = Path(str(templateclones.kept_clone(repository, "v1",
                                              clone_into(repository, "v1", made))))
    if change == "edited":
        (kept / "a.txt").write_text("not the template\n", "utf-8")
    elif change == "removed":
        (kept / "b.txt").unlink()
    elif change == "added":
        (kept / "extra.txt").write_text("x\n", "utf-8")
    else:
        (kept / ".git" / "HEAD").write_text("garbage\n", "utf-8")
    again = templateclones.kept_clone(repository, "v1", clone_into(repository, "v1", made))
    assert again == str(kept) and len(made) == 2
    assert sorted(p.name for p in kept.iterdir() if p.name != ".git") == \
        ["a.txt", "b.txt", "copier.yml", "run.sh"]
    assert (kept / "a.txt").read_text("utf-8") == "{{ name }}\n"
