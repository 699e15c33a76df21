"""kommo-new as a user runs it: bad input, help, git identity, interactive prompts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_cli

BAD_INPUT = {
    "bad widget code": ["-d", "widget_code=9bad"],
    "upper-case first letter": ["-d", "widget_code=Deal"],
    "unknown area": ["-d", "locations=[lcard, nope]"],
    "suffix in locations": ["-d", "locations=[lcard-1, settings]"],
    "card_sdk without a card area": ["-d", "locations=[card_sdk, settings]"],
    "panel flag on settings": ["-d", "locations=[lcard, settings]",
                               "-d", "panel_locations=[settings]"],
    "panel flag on everywhere": ["-d", "locations=[everywhere]",
                                 "-d", "panel_locations=[everywhere]"],
    "panel flag on an area not chosen": ["-d", "locations=[lcard]",
                                         "-d", "panel_locations=[ccard]"],
    "locations not a list": ["-d", "locations=lcard"],
    "unknown answer key": ["-d", "locatons=[lcard]"],
    "unknown locale": ["-d", "locales=[en, xx]"],
    "bad settings field type": ["-d", "settings_fields=[{code: a, type: checkbox}]"],
    "custom field without settings area": [
        "-d", "locations=[lcard]", "-d", "settings_fields=[{code: c, type: custom}]"],
    "bad version (copier validator)": ["-d", "widget_version=one"],
    "bad colour": ["-d", "locations=[mobile_card]", "-d", "mobile_color=purple"],
    "bad bool": ["-d", "init_once=maybe"],
    "broken YAML list": ["-d", "locations=[lcard"],
    "empty widget name": ["-d", "widget_name= "],
}


def assert_clean_failure(result: subprocess.CompletedProcess[str], workdir: Path) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert not list(workdir.glob(".kommo-new-*")), "staging folder left behind"
    return lines[0]


@pytest.mark.parametrize("args", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_fails_cleanly(tmp_path, args):
    result = run_cli("new", "w", "--defaults", *args, cwd=tmp_path)
    assert_clean_failure(result, tmp_path)
    assert not (tmp_path / "w").exists()


def test_existing_non_empty_destination_is_untouched(tmp_path):
    dest = tmp_path / "w"
    dest.mkdir()
    (dest / "mine.txt").write_text("my work")
    result = run_cli("new", "w", "--defaults", cwd=tmp_path)
    message = assert_clean_failure(result, tmp_path)
    assert "not empty" in message
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]
    assert (dest / "mine.txt").read_text() == "my work"


def test_existing_empty_destination_is_used(tmp_path):
    (tmp_path / "w").mkdir()
    result = run_cli("new", "w", "--defaults", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "w" / "widget" / "manifest.json").is_file()


def test_missing_parent_folders_are_created(tmp_path):
    result = run_cli("new", "a/b/w", "--defaults", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a" / "b" / "w" / "widget" / "script.js").is_file()


def test_data_file_and_data_flags(tmp_path):
    answers = tmp_path / "answers.yml"
    answers.write_text("locations: [lcard, digital_pipeline]\nwidget_name: From File\n")
    result = run_cli("new", "w", "--defaults", "--data-file", str(answers),
                     "-d", "widget_name=From Flag", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "w" / "widget" / "manifest.json").read_text())
    assert manifest["locations"] == ["lcard-1", "digital_pipeline"]
    i18n = json.loads((tmp_path / "w" / "widget" / "i18n" / "en.json").read_text())
    assert i18n["widget"]["name"] == "From Flag"


@pytest.mark.parametrize("content", ["- a\n- b\n", "key: [unclosed\n"])
def test_bad_data_file(tmp_path, content):
    answers = tmp_path / "answers.yml"
    answers.write_text(content)
    result = run_cli("new", "w", "--defaults", "--data-file", str(answers), cwd=tmp_path)
    assert_clean_failure(result, tmp_path)


def test_no_terminal_without_defaults(tmp_path):
    result = run_cli("new", "w", cwd=tmp_path, input_text="")
    message = assert_clean_failure(result, tmp_path)
    assert "--defaults" in message


def test_help_does_not_import_copier_or_pillow():
    """`kommo-new --help` stays fast: copier and Pillow load only inside commands."""
    code = (
        "import sys\n"
        "sys.argv = ['kommo-new', '--help']\n"
        "from kommo_scaffold import cli\n"
        "try:\n    cli.new_main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'copier', 'PIL', 'yaml'})\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert "HEAVY []" in result.stdout
    assert "--defaults" in result.stdout and "--data-file" in result.stdout


def test_console_scripts_and_version():
    for args in (["--version"], ["new", "--help"]):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
    assert run_cli("--version").stdout.startswith("kommo-scaffold ")


def test_works_without_git_identity(tmp_path):
    """A fresh machine with no git identity still gets its initial commit."""
    home = tmp_path / "fresh-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1")
    result = subprocess.run(
        [sys.executable, "-c", "from kommo_scaffold.cli import new_main; new_main()",
         "w", "--defaults"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    log = subprocess.run(["git", "log", "--format=%an"], cwd=tmp_path / "w", env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert log == ["kommo-scaffold"]


def test_interactive_prompts(tmp_path):
    """kommo-new asks copier's questions on a terminal; Enter takes each default."""
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable, ["-c", "from kommo_scaffold.cli import new_main; new_main()", "w"],
        cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": str(REPO)},
        encoding="utf-8", timeout=30, dimensions=(40, 200),
    )
    prompts = 0
    while True:
        # copier marks each question with a microphone, then its help text
        index = child.expect(["\U0001f3a4", "Created widget", pexpect.EOF])
        if index == 0:
            prompts += 1
            child.send("\r")
        else:
            break
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert prompts >= 13  # every question of a default widget was asked
    assert (tmp_path / "w" / "widget" / "manifest.json").is_file()


def test_ctrl_c_at_a_prompt_leaves_nothing_but_the_answers_to_resume_from(tmp_path):
    """Ctrl-C while answering: exit 130, no project, and a data file to go on from."""
    pexpect = pytest.importorskip("pexpect")
    work, spool = tmp_path / "work", tmp_path / "spool"
    work.mkdir()
    spool.mkdir()
    child = pexpect.spawn(
        sys.executable, ["-c", "from kommo_scaffold.cli import new_main; new_main()", "w"],
        cwd=str(work), env={**os.environ, "TMPDIR": str(spool)}, encoding="utf-8",
        timeout=30, dimensions=(40, 200),
    )
    child.expect("\U0001f3a4")
    child.send("\x15Resumed Widget\r")  # Ctrl-U clears the default first
    child.expect("\U0001f3a4")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "interrupted; nothing was created" in child.before
    assert "Traceback" not in child.before
    assert list(work.iterdir()) == []
    saved = list(spool.glob("kommo-new-answers-*.yml"))
    assert len(saved) == 1
    assert f"kommo-new w --data-file {saved[0]}" in " ".join(child.before.split())
    assert yaml.safe_load(saved[0].read_text("utf-8")) == {"widget_name": "Resumed Widget"}
    # Passing the file back keeps the answer given before the interruption.
    resumed = run_cli("new", "w", "--data-file", str(saved[0]), "--defaults", cwd=work)
    assert resumed.returncode == 0, resumed.stderr
    i18n = json.loads((work / "w" / "widget" / "i18n" / "en.json").read_text("utf-8"))
    assert i18n["widget"]["name"] == "Resumed Widget"


def test_warns_about_names_too_long_for_public_listing(tmp_path):
    """A name over Kommo's 30 characters still makes a widget, with a warning at once."""
    result = run_cli("new", "w", "--defaults", "-d",
                     "widget_name=A Very Long Widget Name For Deal Pipelines", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: widget_name: 42 characters; the limit is 30" in result.stderr
    assert (tmp_path / "w" / "widget" / "manifest.json").is_file()
    quiet = run_cli("new", "w2", "--defaults", cwd=tmp_path)
    assert "warning" not in quiet.stderr
