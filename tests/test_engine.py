"""engine: the one place that calls copier; reuse: the work copier repeats, done once."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import python_c, user_git
from jinja2 import Environment
from jinja2.sandbox import SandboxedEnvironment

from kommo_scaffold.engine import prompthook, reuse
from kommo_scaffold.engine import runner as engine


def test_each_source_is_compiled_once_per_syntax():
    """The compile cache reuses code only where the environment would generate the same."""
    compiled: list[str] = []
    original = Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(source)  # the real compile (its parameters), counted
        return original(self, source, name, filename, raw, defer_init)

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
    def sync(self, dst_relpath, src_mode):  # copier's parameters, or the step stays as it is
        synced.append(Path(dst_relpath).name)

    monkeypatch.setattr(_main.Worker, "_sync_git_index_executable_bit", sync)
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
    assert _main.Worker._sync_git_index_executable_bit is sync  # restored


@pytest.mark.parametrize(("module", "owner", "name", "adaptation"), [
    ("copier._main", "Worker", "_sync_git_index_executable_bit", "reuse.file_mode_read_once"),
    ("plumbum.commands.base", None, "run_proc", "engine._children_reaped"),
    ("copier._template", None, "clone", "reuse.cloned_once"),
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
    """add-area renders the project's template version three times, and clones it once;
    the next command clones nothing."""
    from kommo_scaffold.scaffold import update

    project = make_widget(locations=["lcard"])
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))  # no clone kept yet
    cloned = count_clones(monkeypatch)
    update.add_area(project, ["settings"], panel=None, data={}, interactive=False)
    assert len(cloned) == 1, cloned
    user_git(project, "add", "-A")
    user_git(project, "commit", "-qm", "settings")
    update.add_area(project, ["sms"], panel=None, data={}, interactive=False)
    assert len(cloned) == 1, cloned
    assert '"settings"' in (project / "widget" / "manifest.json").read_text("utf-8")


ADAPTATIONS = [  # (module, owner, internal, adaptation), every wrap of an internal there is
    ("copier._main", "Worker", "_sync_git_index_executable_bit", reuse.file_mode_read_once),
    ("copier._main", None, "get_git", reuse.file_mode_read_once),
    ("plumbum.commands.base", None, "run_proc", engine._children_reaped),
    ("copier._template", None, "clone", reuse.cloned_once),
    ("jinja2", "Environment", "compile", reuse.compiled_once),
    ("copier._main", None, "unsafe_prompt", lambda: prompthook.hooked(lambda *a, **k: {})),
]
WRAPPED = [(module, owner, name) for module, owner, name, _ in ADAPTATIONS if name != "get_git"]


def _internals() -> dict[str, Any]:
    import importlib

    found = {}
    for module, owner, name in WRAPPED:
        target = importlib.import_module(module)
        found[name] = getattr(getattr(target, owner) if owner else target, name)
    return found


@pytest.mark.parametrize(("module", "owner", "name", "adaptation"), ADAPTATIONS)
def test_an_adaptation_turns_itself_off_where_its_internal_takes_other_parameters(
        monkeypatch, module, owner, name, adaptation):
    """Another version of copier, Jinja or plumbum with the same name for something else:
    nothing is wrapped, nothing crashes."""
    import importlib

    target = importlib.import_module(module)
    if owner is not None:
        target = getattr(target, owner)

    def changed(other, parameters=None):
        return "the other version's result"

    monkeypatch.setattr(target, name, changed)
    before = _internals()
    with adaptation():
        assert _internals() == before
        assert getattr(target, name) is changed
    assert getattr(target, name) is changed


def test_a_copy_works_with_copier_before_9_15s_clone(tmp_path, monkeypatch):
    """copier 9.8 to 9.14 clone with ``clone(url, ref)`` (no folder to clone into): an
    adaptation that called it with a folder failed every command. Now it turns itself off
    and copier clones as it always did."""
    from copier import _template

    real = _template.clone
    cloned: list[str | None] = []

    def clone(url, ref=None, **rest):  # rest: what this copier's own caller passes
        cloned.append(ref)
        return real(url, ref or "HEAD", **rest)

    monkeypatch.setattr(_template, "clone", clone)
    template = tmp_path / "template"
    template.mkdir()
    dest = tmp_path / "dest"
    engine.copy(_tiny_template(template), dest, "v1", {"name": "y"}, defaults=True)
    assert (dest / "a.txt").is_file()
    assert cloned == ["v1"]


def test_the_switch_turns_every_adaptation_off_and_commands_still_work(tmp_path, monkeypatch):
    """KOMMO_SCAFFOLD_NO_ADAPTATIONS=1: while copier runs, each internal is copier's own, no
    compiled code is kept, and the project is the same as with the adaptations."""
    from kommo_scaffold.engine import adapt

    template = tmp_path / "template"
    template.mkdir()
    url = _tiny_template(template)
    seen = {}

    def copy(dest: Path) -> None:
        def look(self, *args, **kwargs):
            seen.update(_internals())
            return real(self, *args, **kwargs)

        real = engine_main.Worker._render_file
        monkeypatch.setattr(engine_main.Worker, "_render_file", look)
        engine.copy(url, dest, "v1", {"name": "z"}, defaults=True)
        monkeypatch.setattr(engine_main.Worker, "_render_file", real)

    import copier._main as engine_main

    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    original = _internals()
    copy(tmp_path / "adapted")
    adapted = dict(seen)
    assert all(adapted[name] is not original[name]
               for name in ("compile", "clone", "_sync_git_index_executable_bit", "run_proc"))
    monkeypatch.setenv(adapt.OFF_ENV, "1")
    shutil_rmtree(tmp_path / "cache")
    copy(tmp_path / "plain")
    assert seen == original
    assert not (tmp_path / "cache" / "compiled-templates").exists()
    assert not (tmp_path / "cache" / "template-clones").exists()
    assert _files(tmp_path / "plain") == _files(tmp_path / "adapted")
    with prompthook.hooked(lambda *a, **k: {}) as hooked:
        assert not hooked
    assert _internals() == original


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and ".git" not in path.parts}


def _template_with_checks(root: Path) -> str:
    (root / "copier.yml").write_text(
        "kind:\n  type: str\n  choices: [a, b]\n  default: a\n"
        "count:\n  type: int\n  default: 1\n"
        "items:\n  type: str\n  multiselect: true\n  choices: [x, y]\n  default: [x]\n"
        "raw:\n  type: json\n  default: '{}'\n"
        "name:\n  type: str\n  default: ok\n"
        "  validator: \"{% if name == 'bad' %}name must not be bad{% endif %}\"\n", "utf-8")
    (root / "out.txt").write_text("{{ kind }} {{ count }} {{ items }} {{ name }}\n", "utf-8")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "t"], ["tag", "v1"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV)
    return str(root)


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "c"}, "Invalid choice for 'kind'"),
    ({"count": "many"}, "invalid literal for int()"),
    ({"items": "x"}, "Not a YAML list"),
    ({"raw": "{not json"}, "Expecting property name"),
    ({"name": "bad"}, "name must not be bad"),
])
def test_answers_copier_rejects_are_usage_errors(tmp_path, data, message):
    from kommo_scaffold.errors import UsageError

    template = tmp_path / "template"
    template.mkdir()
    url = _template_with_checks(template)
    with pytest.raises(UsageError, match=re.escape(message)):
        engine.copy(url, tmp_path / "dest", "v1", data, defaults=True)


def test_a_missing_template_and_ref_are_one_line_errors(tmp_path):
    from kommo_scaffold.errors import ScaffoldError

    template = tmp_path / "template"
    template.mkdir()
    url = _template_with_checks(template)
    with pytest.raises(ScaffoldError, match="Local template must be a directory"):
        engine.copy(str(tmp_path / "nowhere"), tmp_path / "dest", "v1", {}, defaults=True)
    with pytest.raises(ScaffoldError, match="v9"):
        engine.copy(url, tmp_path / "dest2", "v9", {}, defaults=True)


@pytest.mark.parametrize("error", [TypeError, ValueError])
def test_a_bug_inside_copiers_machinery_is_never_a_usage_error(tmp_path, monkeypatch, error):
    """A TypeError or ValueError that no input check raised (here: from copier's rendering of
    a file) goes on as the bug it is."""
    from copier import _main

    def broken(self, *args, **kwargs):
        raise error("a bug")

    monkeypatch.setattr(_main.Worker, "_render_file", broken)
    template = tmp_path / "template"
    template.mkdir()
    with pytest.raises(error, match="a bug"):
        engine.copy(_tiny_template(template), tmp_path / "dest", "v1", {}, defaults=True)


def test_a_type_error_in_copier_does_not_exit_as_a_usage_error(tmp_path):
    """The same through kommo-new: whatever the CLI reports, it is not exit 2."""
    code = ("import copier._main as m\n"
            "def broken(self, *args, **kwargs):\n"
            "    raise TypeError('takes 2 positional arguments but 3 were given')\n"
            "m.Worker._render_file = broken\n"
            "from kommo_scaffold.cli.entry import new_main\nnew_main()\n")
    result = python_c(code, "w", "--defaults", cwd=tmp_path)
    assert result.returncode not in (0, 2), result.stderr
    assert "takes 2 positional arguments" in result.stderr


def test_only_input_checks_count_as_user_errors():
    def raise_in(module: str, qualname: str) -> BaseException:
        namespace = {"__name__": module}
        exec(f"def {qualname.split('.')[-1]}():\n    raise TypeError('x')\n", namespace)
        function = namespace[qualname.split(".")[-1]]
        function.__code__ = function.__code__.replace(co_qualname=qualname)
        try:
            function()
        except TypeError as caught:
            return caught
        raise AssertionError("not raised")

    assert engine.is_user_error(raise_in("copier._user_data", "parse_yaml_list"))
    assert not engine.is_user_error(raise_in("copier._user_data", "Question.render_value"))
    assert not engine.is_user_error(raise_in("copier._main", "Worker._render_file"))
    # Below copier's check, code of ours (a wrapper) raised it: a bug.
    assert not engine.is_user_error(raise_in("kommo_scaffold.engine.reuse", "clone"))


def test_add_area_works_with_the_adaptations_off(make_widget, tmp_path):
    """The same change as with them, by copier as it is, which keeps nothing in the cache."""
    from kommo_scaffold.engine import adapt

    cache = tmp_path / "cache"
    projects = {}
    for name, env in (("adapted", {}),  # the session's cache
                      ("plain", {adapt.OFF_ENV: "1", "KOMMO_SCAFFOLD_CACHE": str(cache)})):
        target = make_widget(name="w", locations=["lcard"]).rename(tmp_path / name)
        result = python_c("from kommo_scaffold.cli.app import main; main()", "add-area",
                          "settings", "--defaults", cwd=target, env=env)
        assert result.returncode == 0, result.stderr
        projects[name] = _files(target)
    assert projects["plain"] == projects["adapted"]
    assert not (cache / "compiled-templates").exists()
    assert not (cache / "template-clones").exists()
