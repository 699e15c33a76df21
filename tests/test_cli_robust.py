"""No traceback, ever: closed standard streams, bugs reported as bugs, and diagnoses that
lead somewhere (git's ownership check, git missing, a mistyped area)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import python_c, run_cli, shell

ENTRY = "from kommo_scaffold.cli.entry import {0}\n{0}()\n"


# --- closed standard streams -----------------------------------------------------------------

@pytest.mark.parametrize("command, code", [
    ("kommo-new w", 2),                # no terminal, nothing answered: the usage error
    ("kommo-new w --defaults", 0),
    ("kommo add-area ccard", 0),       # asks nothing without a terminal
    ("kommo update", 0),               # already up to date
])
def test_a_closed_stdin_is_no_terminal(command, code, tmp_path, make_widget, cli_bin):
    """cron starts jobs with stdin closed: Python's sys.stdin is None then. The commands
    as installed (real/: a real interpreter; the forked client would open a socket as its
    fd 0 and hand that over)."""
    cwd = make_widget("w") if command.startswith("kommo ") else tmp_path
    name, _, args = command.partition(" ")
    result = shell(f"{cli_bin / 'real' / name} {args} <&-", cwd=cwd, cli_bin=cli_bin)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stdout + result.stderr
    if code == 2:
        assert result.stderr.startswith("error: No terminal to ask the questions on")


@pytest.mark.parametrize("args, code", [(["w"], 2), (["w", "--defaults"], 0)])
def test_closed_stdin_stdout_and_stderr(args, code, tmp_path):
    """All three closed: the usage error is still the exit code, and a project is made
    (its git children get /dev/null, not a file kommo opened)."""

    def close_all() -> None:
        for fd in (0, 1, 2):
            os.close(fd)

    result = subprocess.run([sys.executable, "-c", ENTRY.format("new_main"), *args],
                            cwd=tmp_path, preexec_fn=close_all, check=False, timeout=120)
    assert result.returncode == code
    assert (tmp_path / "w" / "widget" / "manifest.json").is_file() == (code == 0)


# --- a bug is reported as a bug --------------------------------------------------------------

def _bug_env(tmp_path: Path) -> dict[str, str]:
    return {"KOMMO_SCAFFOLD_CACHE": str(tmp_path / "cache"), "TMPDIR": str(tmp_path / "tmp")}


def _logged(stderr: str) -> Path:
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("error: internal error (a bug in kommo-scaffold): "), stderr
    assert stderr.rstrip().endswith("; please report it"), stderr
    return Path(stderr.split("; details in ")[1].split("; please report it")[0])


def test_an_unexpected_exception_is_one_line_naming_its_log(tmp_path):
    (tmp_path / "tmp").mkdir()
    code = ("import kommo_scaffold.check as check\n"
            "def broken(*args, **kwargs):\n"
            "    return {}['no such key']\n"
            "check.check_path = broken\n" + ENTRY.format("main"))
    result = python_c(code, "check", cwd=tmp_path, env=_bug_env(tmp_path))
    assert result.returncode == 1
    assert "KeyError: 'no such key'" in result.stderr
    log = _logged(result.stderr)
    assert log.parent == tmp_path / "cache" / "logs"
    text = log.read_text("utf-8")
    assert "Traceback (most recent call last)" in text and "in broken" in text
    assert "command: " in text and " check" in text


def test_a_bug_inside_a_copier_run_is_no_usage_error(tmp_path):
    """copier's ValueError/TypeError are answers it rejects (exit 2); one that kommo's own
    code raises while copier runs is a bug (exit 1), whatever its type."""
    (tmp_path / "tmp").mkdir()
    code = ("from kommo_scaffold.engine import templateclones\n"
            "templateclones.kept_clone = None\n" + ENTRY.format("new_main"))
    result = python_c(code, "w", "--defaults", cwd=tmp_path, env=_bug_env(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "TypeError: 'NoneType' object is not callable" in result.stderr
    assert _logged(result.stderr).is_file()
    assert not (tmp_path / "w").exists()
    # A rejected answer stays a usage error.
    rejected = run_cli("new", str(tmp_path / "v"), "--defaults", "-d", "widget_code=Not OK")
    assert rejected.returncode == 2, rejected.stderr


def test_a_bug_outside_a_commands_run_is_reported_too(tmp_path):
    """--version runs before any command (an eager option's callback)."""
    (tmp_path / "tmp").mkdir()
    code = ("from kommo_scaffold.engine import store\n"
            "store.installed_version = None\n" + ENTRY.format("main"))
    result = python_c(code, "--version", cwd=tmp_path, env=_bug_env(tmp_path))
    assert result.returncode == 1
    assert "TypeError" in result.stderr and _logged(result.stderr).is_file()


def test_without_a_usable_cache_the_log_is_a_temporary_file(tmp_path):
    (tmp_path / "tmp").mkdir()
    (tmp_path / "cache").write_text("a file, not a folder", "utf-8")
    code = ("import kommo_scaffold.check as check\n"
            "check.check_path = None\n" + ENTRY.format("main"))
    result = python_c(code, "check", cwd=tmp_path, env=_bug_env(tmp_path))
    assert result.returncode == 1
    log = _logged(result.stderr)
    assert log.parent == tmp_path / "tmp" and log.is_file()


# --- git: ownership, and git missing ---------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")
def test_a_repository_owned_by_another_user_names_gits_fix(make_widget, tmp_path, cli_bin):
    project = make_widget("w")
    for path in [project, *project.rglob("*")]:
        os.lchown(path, 12345, 12345)
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}
    for command in ("kommo add-area ccard --defaults", "kommo set support_link=",
                    "kommo update --defaults", "kommo remove-area lcard --yes"):
        result = shell(command, cwd=project, cli_bin=cli_bin, env=env)
        assert result.returncode == 1, result.stderr
        assert "not in a git repository" not in result.stderr
        assert "owned by another user" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    # Reading and packing need no git (a CI container's checkout is often another uid's).
    assert shell("kommo check && kommo pack", cwd=project, cli_bin=cli_bin,
                 env=env).returncode == 0
    fix = result.stderr.split("if you trust it, run: ")[1].strip()
    assert fix == f"git config --global --add safe.directory {project}"
    # The advice works: after it, the command does.
    assert shell(fix, cwd=tmp_path, cli_bin=cli_bin, env=env).returncode == 0
    added = shell("kommo add-area ccard --defaults", cwd=project, cli_bin=cli_bin, env=env)
    assert added.returncode == 0, added.stderr


def test_without_git_a_fresh_home_is_told_to_install_git(tmp_path):
    """Not that its template store is damaged (it does not even exist yet)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    assert shutil.which("git", path=str(bin_dir)) is None
    home = tmp_path / "home"
    result = python_c(ENTRY.format("new_main"), "w", "--defaults", cwd=tmp_path,
                      env={"HOME": str(home), "PATH": str(bin_dir),
                           "KOMMO_SCAFFOLD_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 1
    assert result.stderr.startswith("error: git is not installed"), result.stderr
    assert "damaged" not in result.stderr and "move it away" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- a mistyped area -------------------------------------------------------------------------

@pytest.mark.parametrize("typed, suggested", [
    ("contacts", ["clist", "ccard"]),    # by the titles "Contacts list", "Contact card"
    ("lcrad", ["lcard"]),                # a typo of the code
    ("lead_card", ["lcard"]),
    ("salesbot", ["salesbot_designer"]),
])
def test_an_unknown_area_suggests_the_nearest(typed, suggested):
    from kommo_scaffold.catalog.suggest import nearest_areas

    assert nearest_areas(typed)[:len(suggested)] == suggested


def test_a_word_like_no_area_suggests_nothing():
    from kommo_scaffold.catalog.suggest import nearest_areas

    assert nearest_areas("zzzzqqq") == []


def test_add_remove_and_new_say_did_you_mean(make_widget, tmp_path):
    project = make_widget(locations=["lcard", "settings"])
    for args in (["add-area", "contacts"], ["remove-area", "contacts"]):
        result = run_cli(*args, cwd=project)
        assert result.returncode == 2
        assert "did you mean clist (Contacts list) or ccard (Contact card)?" in result.stderr
        assert "digital_pipeline" not in result.stderr  # not the whole catalog
    new = run_cli("new", str(tmp_path / "w"), "--defaults", "-d", "locations=[lcard, contacts]")
    assert new.returncode == 2
    assert "did you mean clist (Contacts list) or ccard (Contact card)?" in new.stderr
    panel = run_cli("new", str(tmp_path / "p"), "--defaults", "-d", "panel_locations=[lcrad]")
    assert panel.returncode == 2 and "did you mean lcard (Lead card)?" in panel.stderr
    nothing_near = run_cli("add-area", "zzzzqqq", cwd=project)
    assert nothing_near.returncode == 2 and "known areas: lcard, " in nothing_near.stderr
