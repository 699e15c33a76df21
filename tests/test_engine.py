"""engine: the one place that calls copier; reuse: the work copier repeats, done once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import user_git
from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment

from kommo_scaffold.engine import reuse
from kommo_scaffold.engine import runner as engine
from kommo_scaffold.engine.compilecache import CodeCache


def test_each_source_is_compiled_once_per_syntax():
    """The compile cache reuses code only where the environment would generate the same."""
    compiled: list[str] = []
    original = Environment.compile

    def counting(self, source, *args, **kwargs):  # the real compile, counted
        compiled.append(source)
        return original(self, source, *args, **kwargs)

    Environment.compile = counting  # type: ignore[method-assign]
    try:
        with reuse.compiled_once():
            plain = [Environment().from_string("{{ a }}-[[ a ]]").render(a=1) for _ in range(3)]
            brackets = Environment(variable_start_string="[[", variable_end_string="]]")
            other = brackets.from_string("{{ a }}-[[ a ]]").render(a=2)
            unsafe = Environment().from_string("{{ a.__class__ }}").render(a=1)
            sandboxed = SandboxedEnvironment().from_string("{{ a.__class__ }}").render(a=1)
            trimmed = Environment(trim_blocks=True).from_string("{% if 1 %}\nx{% endif %}")
    finally:
        Environment.compile = original  # type: ignore[method-assign]
    assert plain == ["1-[[ a ]]"] * 3
    assert other == "{{ a }}-2"
    assert unsafe == "<class 'int'>"
    assert sandboxed == ""  # the sandbox still guards its templates
    assert trimmed.render() == "x"
    assert compiled.count("{{ a }}-[[ a ]]") == 2  # once per syntax, not once per render
    assert Environment.compile is original  # restored after the command


def _tiny_template(root: Path) -> str:
    """A template repository with three files, one of them executable, tagged v1."""
    (root / "copier.yml").write_text("name:\n  type: str\n  default: x\n", "utf-8")
    for name in ("a.txt", "b.txt"):
        (root / name).write_text("{{ name }}\n", "utf-8")
    (root / "run.sh").write_text("#!/bin/sh\n", "utf-8")
    (root / "run.sh").chmod(0o755)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "t"], ["tag", "v1"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV)
    return str(root)


def count_git_calls(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[tuple[str, ...]]:
    """The arguments of every git command ``module`` runs through its ``get_git``."""
    calls: list[tuple[str, ...]] = []
    real_get_git = module.get_git

    def counting_get_git(context_dir=None):
        command = real_get_git(context_dir=context_dir)

        def run(*args):
            calls.append(args)
            return command(*args)
        return run

    monkeypatch.setattr(module, "get_git", counting_get_git)
    return calls


def count_clones(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ref of every clone copier's templates make."""
    from copier import _template

    cloned: list[str] = []
    real = _template.clone

    def counting(url, ref="HEAD", location=None):
        cloned.append(ref)
        return real(url, ref, location)

    monkeypatch.setattr(_template, "clone", counting)
    return cloned


GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull}


@pytest.mark.parametrize("file_mode", ["true", "false"])
def test_copiers_index_mode_step_runs_exactly_where_git_ignores_the_executable_bit(
        tmp_path, monkeypatch, file_mode):
    """core.fileMode is read once per destination; copier's own step still runs where it
    is false, for every file, and nowhere else."""
    from copier import _main

    synced: list[str] = []
    monkeypatch.setattr(_main.Worker, "_sync_git_index_executable_bit",
                        lambda self, relpath, mode: synced.append(Path(relpath).name))
    reads = count_git_calls(monkeypatch, _main)
    template = tmp_path / "template"
    template.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True, env=GIT_ENV)
    subprocess.run(["git", "config", "core.fileMode", file_mode], cwd=dest, check=True)
    engine.copy(_tiny_template(template), dest, "v1", {}, defaults=True)
    assert (dest / "run.sh").stat().st_mode & 0o111
    expected = ["a.txt", "b.txt", "run.sh"] if file_mode == "false" else []
    assert sorted(name for name in synced if not name.startswith(".")) == expected
    assert reads.count(("config", "--type=bool", "--get", "core.fileMode")) == 1
    assert _main.Worker._sync_git_index_executable_bit.__name__ == "<lambda>"  # restored


def test_equal_copier_yml_is_parsed_once_and_each_caller_gets_its_own_copy(
        tmp_path, monkeypatch):
    from copier import _template

    parsed: list[Path] = []
    real = _template.load_template_config

    def counting(conf_path, quiet=False):
        parsed.append(conf_path)
        return real(conf_path, quiet)

    monkeypatch.setattr(_template, "load_template_config", counting)
    clones = []
    for n in range(3):  # copier parses one clone of the template after another
        clone = tmp_path / f"clone{n}"
        clone.mkdir()
        (clone / "copier.yml").write_text("name:\n  type: str\n  default: [x]\n", "utf-8")
        clones.append(clone / "copier.yml")
    other = tmp_path / "other.yml"
    other.write_text("name:\n  type: str\n  default: [y]\n", "utf-8")
    including = tmp_path / "including.yml"
    including.write_text("---\n!include other.yml\n", "utf-8")
    with reuse.config_parsed_once():
        first = _template.load_template_config(clones[0])
        first["name"]["default"].append("changed by a caller")
        again = [_template.load_template_config(path) for path in clones[1:]]
        changed = _template.load_template_config(other)
        included = [_template.load_template_config(including) for _ in range(2)]
    assert again == [{"name": {"type": "str", "default": ["x"]}}] * 2
    assert changed["name"]["default"] == ["y"]
    assert included[0] == included[1] == changed
    # Once for the equal files, once for other.yml, and each time for the !include file.
    assert parsed == [clones[0], other, including, including]
    assert _template.load_template_config is counting  # restored after the command


@pytest.mark.parametrize(("module", "owner", "name", "adaptation"), [
    ("copier._main", "Worker", "_sync_git_index_executable_bit", "reuse.file_mode_read_once"),
    ("copier._template", None, "load_template_config", "reuse.config_parsed_once"),
    ("plumbum.commands.base", None, "run_proc", "engine._children_reaped"),
    ("copier._template", None, "clone", "reuse.cloned_once"),
    ("copier._template", "Template", "version", "reuse.template_facts_shared"),
])
def test_an_adaptation_does_nothing_where_its_internal_is_missing(monkeypatch, module, owner,
                                                                  name, adaptation):
    import importlib

    target = importlib.import_module(module)
    if owner is not None:
        target = getattr(target, owner)
    monkeypatch.delattr(target, name)
    owner_module, function = adaptation.split(".")
    with getattr({"engine": engine, "reuse": reuse}[owner_module], function)():
        assert not hasattr(target, name)
    assert not hasattr(target, name)


@pytest.mark.parametrize("cache", ["usable", "unusable"])
def test_one_clone_per_tag_within_a_command_and_head_always_anew(tmp_path, monkeypatch, cache):
    """Renders of one tag share one clone, which copier only reads: the one kept between
    commands or, without a usable cache, one removed with the command's temporary folder.
    HEAD is cloned each time (copier adds a local template's uncommitted changes to it)."""
    import tempfile

    from copier import _template

    cache_folder = tmp_path / "cache"
    if cache == "unusable":
        cache_folder.write_text("a file where the cache folder would be", "utf-8")
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(cache_folder))
    template = tmp_path / "template"
    template.mkdir()
    url = _tiny_template(template)
    cloned = count_clones(monkeypatch)
    counting = _template.clone
    with engine._private_temp(), engine._isolated_git(), reuse.cloned_once():
        tag = [_template.clone(url, "v1", tempfile.mkdtemp()) for _ in range(3)]
        head = [_template.clone(url, "HEAD", tempfile.mkdtemp()) for _ in range(2)]
        assert len(set(tag)) == 1 and (Path(tag[0]) / "a.txt").is_file()
        assert len(set(head)) == 2
        kept = Path(tag[0])
    assert cloned == ["v1", "HEAD", "HEAD"]
    if cache == "usable":
        assert kept.parent == cache_folder / "template-clones" and kept.is_dir()
    else:
        assert not kept.exists()  # removed with the command's temporary folder
    assert _template.clone is counting  # restored after the command


def test_an_update_clones_each_template_version_once(make_widget, monkeypatch, tmp_path):
    """add-area renders the project's template version three times, and clones it and asks
    git for its version once; the next command clones nothing."""
    import dunamai

    from kommo_scaffold.scaffold import update

    project = make_widget(locations=["lcard"])
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))  # no clone kept yet
    cloned = count_clones(monkeypatch)
    versions: list[str] = []
    real_from_git = dunamai.Version.from_git

    def counting_from_git(*args, **kwargs):
        versions.append(os.getcwd())
        return real_from_git(*args, **kwargs)

    monkeypatch.setattr(dunamai.Version, "from_git", counting_from_git)
    update.add_area(project, ["settings"], panel=None, data={}, interactive=False)
    assert len(cloned) == 1, cloned
    assert len(versions) == 1, versions
    user_git(project, "add", "-A")
    user_git(project, "commit", "-qm", "settings")
    update.add_area(project, ["sms"], panel=None, data={}, interactive=False)
    assert len(cloned) == 1, cloned
    assert '"settings"' in (project / "widget" / "manifest.json").read_text("utf-8")


def test_template_facts_are_shared_by_clone_and_never_for_head(tmp_path, monkeypatch):
    """Template objects of one shared clone ask git once, each gets its own copy of the
    answer; Templates of HEAD (a clone each) ask each time."""
    from copier import _template

    template = tmp_path / "template"
    template.mkdir()
    url = _tiny_template(template)
    asked = count_git_calls(monkeypatch, _template)
    original = _template.Template.__dict__["commit"]
    with engine._private_temp(), engine._isolated_git(), reuse.cloned_once(), \
            reuse.template_facts_shared():
        assert _template.Template.__dict__["commit"] is not original
        tagged = [_template.Template(url=url, ref="v1") for _ in range(3)]
        modes = [template.git_index_modes for template in tagged]
        commits = {template.commit for template in tagged}
        head = [_template.Template(url=url, ref="HEAD") for _ in range(2)]
        head_commits = {template.commit for template in head}
        for template in tagged + head:
            template._cleanup()
    assert modes[0] == modes[1] == modes[2] and modes[0] is not modes[1]
    assert len(modes[0]) == 4 and commits == {"v1"} and head_commits == {"v1"}
    assert asked.count(("ls-files", "--stage")) == 1
    assert asked.count(("describe", "--tags", "--always")) == 3  # once for v1, twice for HEAD
    assert _template.Template.__dict__["commit"] is original  # restored after the command


def test_a_later_command_takes_copier_yml_from_the_cache_unless_it_holds_dates(
        tmp_path, monkeypatch):
    """Plain data is kept between commands; a value marshal cannot store (a YAML date) is
    parsed again in each command, with the same result."""
    from copier import _template

    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    parsed: list[str] = []
    real = _template.load_template_config

    def counting(conf_path, quiet=False):
        parsed.append(Path(conf_path).name)
        return real(conf_path, quiet)

    monkeypatch.setattr(_template, "load_template_config", counting)
    plain, dated = tmp_path / "plain.yml", tmp_path / "dated.yml"
    plain.write_text("name:\n  type: str\n  default: [x]\n", "utf-8")
    dated.write_text("since:\n  type: str\n  default: 2024-01-31\n", "utf-8")
    results = []
    for _ in range(2):  # two commands
        with reuse.config_parsed_once(CodeCache.open()):
            results.append((_template.load_template_config(plain),
                            _template.load_template_config(dated)))
    assert results[0] == results[1]
    assert results[0][0] == {"name": {"type": "str", "default": ["x"]}}
    assert parsed == ["plain.yml", "dated.yml", "dated.yml"]
