"""compilecache: compiled Jinja code kept between commands, never trusted blindly."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import Environment

from kommo_scaffold.engine import reuse
from kommo_scaffold.engine.compilecache import CodeCache

SOURCE = "{% for x in items %}{{ x | upper }}{% endfor %}"


@pytest.fixture
def compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The sources Jinja really compiled, with the cache in an empty folder of the test's."""
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    sources: list[str] = []
    original = Environment.compile

    # Jinja's parameters: the adaptation wraps only a compile it knows.
    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        if isinstance(source, str):  # copier also compiles bare values (True, 1) each time
            sources.append(source)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(Environment, "compile", counting)
    yield sources


def command(source: str = SOURCE, **settings: object) -> str:
    """One command's worth of rendering, as copier does it (a new environment)."""
    with reuse.compiled_once(CodeCache.open()):
        return Environment(**settings).from_string(source).render(items=["a", "b"])  # type: ignore[arg-type]


def cache_files(tmp_path: Path) -> list[Path]:
    return [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]


def test_a_later_command_loads_what_an_earlier_one_compiled(compiled, tmp_path):
    assert command() == "AB"
    assert command() == "AB"
    assert compiled == [SOURCE]
    assert command("{{ items | length }}") == "2"  # another source is compiled
    assert len(compiled) == 2 and len(cache_files(tmp_path)) == 2


def test_a_damaged_file_is_compiled_again_and_replaced(compiled, tmp_path):
    command()
    [stored] = cache_files(tmp_path)
    good = stored.read_bytes()
    for damaged in (good[:-7], good[:40] + bytes([good[40] ^ 1]) + good[41:], b""):
        stored.write_bytes(damaged)
        assert command() == "AB"
        assert stored.read_bytes() == good
    assert compiled == [SOURCE] * 4


def test_settings_that_differ_between_processes_are_not_stored(compiled, tmp_path):
    """A callable (finalize here) has no stable name: compiled in each command."""
    for _ in range(2):
        assert command("{{ x }}", finalize=lambda value: "f") == "f"
    assert len(compiled) == 2 and cache_files(tmp_path) == []


def test_syntax_settings_are_part_of_the_key(compiled, tmp_path):
    source = "{{ items[0] }}[[ items[1] ]]"
    assert command(source) == "a[[ items[1] ]]"
    brackets = {"variable_start_string": "[[", "variable_end_string": "]]"}
    assert command(source, **brackets) == "{{ items[0] }}b"
    assert len(compiled) == 2


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_to_is_not_used(compiled, tmp_path):
    """What the folder holds runs as code: a group- or world-writable one is ignored."""
    command()
    root = tmp_path / "cache" / "compiled-templates"
    root.chmod(0o777)
    for stored in cache_files(tmp_path):
        stored.write_bytes(b"planted")
    assert command() == "AB"
    assert compiled == [SOURCE] * 2
    assert {path.read_bytes() for path in cache_files(tmp_path)} == {b"planted"}


def test_a_cache_that_cannot_be_created_only_costs_time(compiled, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", "utf-8")
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(blocker))
    assert command() == "AB" and command() == "AB"
    assert compiled == [SOURCE] * 2


def test_another_copier_version_starts_a_new_folder_and_removes_the_old(compiled, tmp_path,
                                                                       monkeypatch):
    import copier

    command()
    root = tmp_path / "cache" / "compiled-templates"
    [old] = list(root.iterdir())
    monkeypatch.setattr(copier, "__version__", "0.0.0-other", raising=False)
    assert command() == "AB"
    [new] = list(root.iterdir())
    assert new != old and compiled == [SOURCE] * 2


def test_a_widget_rendered_from_the_cache_is_identical(tmp_path, monkeypatch, compiled):
    """kommo-new with a cold cache and with a warm one: the same files, byte for byte."""
    from kommo_scaffold.scaffold import generate

    answers = {"locations": ["lcard", "settings", "digital_pipeline", "salesbot_designer"]}
    made = []
    for run in ("cold", "warm"):
        project = tmp_path / run / "w"
        generate.create(project, answers, defaults=True)
        shutil.rmtree(project / ".git")
        made.append({path.relative_to(project): path.read_bytes()
                     for path in sorted(project.rglob("*")) if path.is_file()})
        if run == "cold":
            compiled_cold = len(compiled)
    assert made[0] == made[1]
    assert compiled_cold > 50 and len(compiled) == compiled_cold  # the warm run compiled none


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_group_writable_cache_root_still_serves(compiled, tmp_path):
    """umask 002 makes ~/.kommo-scaffold group-writable; the 0700 folder inside is ours."""
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache").chmod(0o775)
    assert command() == "AB" and command() == "AB"
    assert compiled == [SOURCE]
