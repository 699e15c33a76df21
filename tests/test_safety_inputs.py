"""No traceback, ever: bad answers files, read-only files, odd HOMEs, damaged template stores,
hostile destinations and answers. Each ends with one line, a non-zero exit and nothing
half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import run_cli, user_git
from test_update import snapshot

from kommo_scaffold.errors import ScaffoldError, UsageError
from kommo_scaffold.plumbing import transaction
from kommo_scaffold.scaffold import answers, update


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode not in (0, None), done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.fixture
def project(make_widget) -> Path:
    return make_widget(locations=["lcard", "settings"])


# --- the answers file -------------------------------------------------------------------

@pytest.mark.parametrize("key, value, message", [
    ("locations", "5", "locations must be a list"),
    ("locations", "lcard", "locations must be a list"),
    ("_commit", "123", "_commit must be text"),
    ("locations", "[lcard, nonsense]", "Unknown connection area 'nonsense'"),
    ("settings_fields", "7", "settings_fields must be a list"),
])
def test_answers_file_with_wrong_types(project, key, value, message):
    path = project / ".copier-answers.yml"
    recorded = yaml.safe_load(path.read_text("utf-8"))
    recorded[key] = yaml.safe_load(value)
    path.write_text(yaml.safe_dump(recorded), "utf-8")
    user_git(project, "commit", "-q", "-am", "Broken answers")
    before = snapshot(project)
    for args in (["add-area", "sms", "--defaults"], ["remove-area", "settings", "--yes"],
                 ["update", "--defaults"]):
        line = one_error_line(run_cli(*args, "-C", str(project)))
        assert message in line and "git checkout HEAD -- .copier-answers.yml" in line
    assert snapshot(project) == before


# --- writing into the project -----------------------------------------------------------

def test_failed_write_undoes_every_earlier_write(project, monkeypatch):
    """A write that fails half-way (read-only file, full disk) puts back what was written."""
    before = snapshot(project)
    real_replace = os.replace
    calls = {"n": 0}

    def failing_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 4:
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(transaction.os, "replace", failing_replace)
    with pytest.raises(ScaffoldError, match="Permission denied; nothing was changed"):
        update.add_area(project, ["digital_pipeline"], panel=None, data={}, interactive=False)
    assert calls["n"] == 4
    assert snapshot(project) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(project):
    images = project / "widget" / "images"
    before = snapshot(project)
    images.chmod(0o555)
    try:
        line = one_error_line(run_cli("add-area", "digital_pipeline", "--defaults",
                                      "-C", str(project)))
    finally:
        images.chmod(0o755)
    assert "nothing was changed" in line
    assert snapshot(project) == before


# --- HOME and the template store --------------------------------------------------------

@pytest.mark.parametrize("home", ["", "/dev/null", "/dev/null/nowhere"])
def test_unusable_home(tmp_path, home):
    done = run_cli("new", str(tmp_path / "w"), "--defaults", env={"HOME": home})
    line = one_error_line(done)
    assert "HOME" in line or "template store" in line
    assert not (tmp_path / "w").exists()


@pytest.fixture
def store_home(tmp_path, monkeypatch) -> Path:
    """A HOME of its own with a freshly synced template store."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert run_cli("sync-template").returncode == 0
    return home / ".kommo-scaffold" / "template"


def _truncate(repo: Path) -> None:
    for path in (repo / ".git" / "objects").rglob("*"):
        if path.is_file() and "info" not in path.parts:
            path.unlink()


def _broken_tag(repo: Path) -> None:
    for ref in (repo / ".git" / "refs" / "tags").iterdir():
        ref.write_text("0123456789abcdef0123456789abcdef01234567\n", "ascii")
    packed = repo / ".git" / "packed-refs"
    if packed.exists():
        packed.unlink()


def _lock_is_a_folder(repo: Path) -> None:
    (repo / ".git" / "kommo-scaffold-sync").unlink(missing_ok=True)
    (repo / ".git" / "kommo-scaffold.lock").unlink(missing_ok=True)
    (repo / ".git" / "kommo-scaffold.lock").mkdir()


def _a_file(repo: Path) -> None:
    shutil.rmtree(repo)
    repo.write_text("not a store\n", "utf-8")


@pytest.mark.parametrize("damage, message", [
    (_truncate, "mv "), (_broken_tag, "mv "), (_a_file, "mv "),
    (_lock_is_a_folder, "lock"),
])
def test_damaged_template_store(store_home, tmp_path, damage, message):
    damage(store_home)
    line = one_error_line(run_cli("new", str(tmp_path / "w"), "--defaults"))
    assert message in line
    assert not (tmp_path / "w").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kommo-new-")]


def test_missing_template_store_is_rebuilt(store_home, tmp_path):
    shutil.rmtree(store_home)
    done = run_cli("new", str(tmp_path / "w"), "--defaults")
    assert done.returncode == 0, done.stderr


# --- destinations -----------------------------------------------------------------------

def test_destination_symlinks(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name in ("link", "dangling"):
        line = one_error_line(run_cli("new", str(tmp_path / name), "--defaults"))
        assert "symbolic link" in line
    assert list(real.iterdir()) == [] and not (tmp_path / "nowhere").exists()


def test_destination_names_too_long_or_nested_too_deep(tmp_path):
    for dest in (tmp_path / ("n" * 300), tmp_path.joinpath(*["d"] * 3000)):
        line = one_error_line(run_cli("new", str(dest), "--defaults"))
        assert "too long" in line or "longer than the file system allows" in line
    assert list(tmp_path.iterdir()) == []


def test_non_utf8_destination_name(tmp_path):
    name = os.fsdecode(b"w\xff")
    line = one_error_line(run_cli("new", str(tmp_path / name), "--defaults"))
    assert "UTF-8" in line
    assert list(tmp_path.iterdir()) == []


def test_non_utf8_file_names_in_a_project(project):
    """A tracked file with a non-UTF-8 name is carried through; an untracked one is named."""
    odd = os.fsencode(project) + b"/notes-\xff.txt"
    with open(odd, "wb") as handle:
        handle.write(b"mine\n")
    line = one_error_line(run_cli("add-area", "sms", "--defaults", "-C", str(project)))
    assert "uncommitted changes" in line
    user_git(project, "add", "-A")
    user_git(project, "commit", "-q", "-m", "odd name")
    done = run_cli("add-area", "sms", "--defaults", "-C", str(project))
    assert done.returncode == 0, done.stderr
    with open(odd, "rb") as handle:
        assert handle.read() == b"mine\n"


def _nest(root: Path, depth: int) -> None:
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            new = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
            f.write("deep\n")
    finally:
        os.close(fd)


def _unnest(root: Path) -> None:
    """Remove a very deep tree without recursion (rmtree would exceed the recursion limit)."""
    subprocess.run(["rm", "-rf", str(root)], check=True)


def _leaf(root: Path, depth: int) -> str:
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            new = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        with open(os.open("leaf.txt", os.O_RDONLY, dir_fd=fd)) as handle:
            return handle.read()
    finally:
        os.close(fd)


def test_folder_nested_3000_levels(project):
    """A 3000-level folder (deeper than git lists or Python recurses): no traceback, and
    the folder is neither read into the command nor touched."""
    deep = project / "deep"
    deep.mkdir()
    _nest(deep, 3000)
    try:
        done = run_cli("add-area", "sms", "--defaults", "-C", str(project))
        if done.returncode:
            one_error_line(done)
        else:
            assert "deep" not in done.stdout
        assert _leaf(deep, 3000) == "deep\n"
    finally:
        _unnest(deep)


# --- answers ----------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    {"widget_code": "abc\n"}, {"mobile_color": "#5F43CF\n"},
    {"backend_url": "https://example.com\n"}, {"widget_name": "a\0b"},
    {"settings_fields": [{"code": "login\n", "type": "text"}]},
    {"locations": ["lcard"] * 20_000}, {"widget_name": "x" * 400_000},
])
def test_answers_refused(answer):
    with pytest.raises(UsageError):
        answers.validate(answer)


def test_trailing_newline_in_d_value_refused(tmp_path):
    line = one_error_line(run_cli("new", str(tmp_path / "w"), "--defaults",
                                  "-d", "widget_code=abc\n"))
    assert "Widget code" in line
    assert not (tmp_path / "w").exists()


def test_nul_byte_and_alias_bomb_in_data_file(tmp_path):
    data = tmp_path / "answers.yml"
    data.write_text('widget_name: "a\\0b"\n', "utf-8")
    line = one_error_line(run_cli("new", str(tmp_path / "w"), "--defaults",
                                  "--data-file", str(data)))
    assert "NUL" in line
    data.write_text("a: &a [x, x]\nb: &b [*a, *a]\nlocations: *b\n", "utf-8")
    line = one_error_line(run_cli("new", str(tmp_path / "w"), "--defaults",
                                  "--data-file", str(data)))
    assert "aliases" in line
    line = one_error_line(run_cli("new", str(tmp_path / "w"), "--defaults",
                                  "--data-file", "/dev/zero"))
    assert "larger than" in line
    assert not (tmp_path / "w").exists()
