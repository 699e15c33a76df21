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
        "from kommo_scaffold.cli import app as cli\n"
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
        [sys.executable, "-c", "from kommo_scaffold.cli.app import new_main; new_main()",
         "w", "--defaults"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    log = subprocess.run(["git", "log", "--format=%an"], cwd=tmp_path / "w", env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert log == ["kommo-scaffold"]


def test_interactive_prompts(tmp_path):
    """kommo-new asks copier's questions on a terminal; Enter takes each default."""
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable, ["-c", "from kommo_scaffold.cli.app import new_main; new_main()", "w"],
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
        sys.executable, ["-c", "from kommo_scaffold.cli.app import new_main; new_main()", "w"],
        cwd=str(work), env={**os.environ, "TMPDIR": str(spool)}, encoding="utf-8",
        timeout=30, dimensions=(40, 200),
    )
    # The widget's name comes first; each reply waits for its own question's help text.
    child.expect("Widget name")
    child.send("\x15Resumed Widget\r")  # Ctrl-U clears the default
    child.expect("Your project's code")
    child.send("\r")
    child.expect("Description shown")
    child.send("\r")
    child.expect("Short description")
    child.send("\r")
    child.expect("Connection areas")
    child.send("\r")  # the default areas: lcard, settings
    child.expect("right-hand panel")
    child.send("\r")
    child.expect("server of yours")
    child.send("\r")  # no back end
    child.expect("installs the widget")
    child.send("\r")
    child.expect("Field 1 code")
    child.send("\x15\r")  # no fields
    child.expect("widget.version")
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
    assert yaml.safe_load(saved[0].read_text("utf-8")) == {
        "widget_name": "Resumed Widget", "widget_code": "resumed_widget",
        "widget_description": "Resumed Widget widget for Kommo.",
        "short_description": "Resumed Widget",
        "locations": ["lcard", "settings"], "panel_locations": ["lcard"], "backend": False,
        "installation": True, "settings_fields": []}
    # Passing the file back keeps the answer given before the interruption.
    (work / "taken").mkdir()
    (work / "taken" / "mine.txt").write_text("not empty\n", "utf-8")
    failed = run_cli("new", "taken", "--data-file", str(saved[0]), "--defaults", cwd=work)
    assert failed.returncode != 0 and saved[0].is_file(), "kept while it is still needed"
    resumed = run_cli("new", "w", "--data-file", str(saved[0]), "--defaults", cwd=work)
    assert resumed.returncode == 0, resumed.stderr
    i18n = json.loads((work / "w" / "widget" / "i18n" / "en.json").read_text("utf-8"))
    assert i18n["widget"]["name"] == "Resumed Widget"
    assert not saved[0].exists(), "the answers file to resume from is left behind"


def test_a_users_own_answers_file_is_kept(tmp_path):
    """Even one named like a resume file: only kommo-new's own (its header) is removed."""
    for name in ("answers.yml", "kommo-new-answers-mine.yml"):
        data = tmp_path / name
        data.write_text("widget_name: Mine\n", "utf-8")
        result = run_cli("new", f"w-{name}", "--data-file", str(data), "--defaults",
                         cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert data.read_text("utf-8") == "widget_name: Mine\n"


def test_area_defaults_follow_the_typed_widget_name(tmp_path):
    """The name is asked before the areas' details, so their defaults derive from what the
    user typed, not from the folder name."""
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable, ["-c", "from kommo_scaffold.cli.app import new_main; new_main()",
                         "folder-name", "-d", "locations=[lcard, advanced_settings]"],
        cwd=str(tmp_path), env=dict(os.environ), encoding="utf-8", timeout=30,
        dimensions=(40, 200),
    )
    child.expect("Widget name")
    child.send("\x15Typed Name\r")
    for question in ("Your project's code", "Description shown", "Short description",
                     "right-hand panel", "server of yours"):
        child.expect(question)
        child.send("\r")
    child.expect("Title of the widget's own page under Settings")
    shown = child.expect(["Typed Name", "Folder Name"])  # the default, ready to edit
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert shown == 0


def test_warns_about_names_too_long_for_public_listing(tmp_path):
    """A name over Kommo's 30 characters still makes a widget, with a warning at once."""
    result = run_cli("new", "w", "--defaults", "-d",
                     "widget_name=A Very Long Widget Name For Deal Pipelines", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: widget_name: 42 characters; the limit is 30" in result.stderr
    assert (tmp_path / "w" / "widget" / "manifest.json").is_file()
    quiet = run_cli("new", "w2", "--defaults", cwd=tmp_path)
    assert "warning" not in quiet.stderr


# --- non-interactive runs ---------------------------------------------------------------------

COMPLETE_ANSWERS = {
    "widget_name": "Crm Tool", "widget_code": "crm_tool",
    "widget_description": "Tools for the CRM.", "short_description": "CRM tools",
    "widget_version": "1.0.0", "locales": ["en"], "support_email": "", "support_link": "",
    "installation": True,
    "settings_fields": [{"code": "api_key", "name": "API key", "type": "pass",
                         "required": True}],
    "locations": ["lcard", "settings"], "panel_locations": ["lcard"], "backend": False,
    "init_once": False, "language": "javascript",
}


def write_answers(path: Path, answers: dict) -> Path:
    path.write_text(yaml.safe_dump(answers, sort_keys=False), "utf-8")
    return path


def test_complete_data_file_never_prompts_without_a_terminal(tmp_path):
    answers = write_answers(tmp_path / "answers.yml", COMPLETE_ANSWERS)
    result = run_cli("new", "crm-tool", "--data-file", str(answers), cwd=tmp_path,
                     input_text="")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "crm-tool" / "widget" / "manifest.json").read_text())
    assert manifest["settings"]["api_key"]["type"] == "pass"


def test_complete_data_file_never_prompts_on_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    answers = write_answers(tmp_path / "answers.yml", COMPLETE_ANSWERS)
    child = pexpect.spawn(
        sys.executable, ["-c", "from kommo_scaffold.cli.app import new_main; new_main()",
                         "crm-tool", "--data-file", str(answers)],
        cwd=str(tmp_path), env=dict(os.environ), encoding="utf-8", timeout=60,
        dimensions=(24, 80))
    index = child.expect(["\U0001f3a4", pexpect.EOF])
    child.close()
    assert index == 1, f"asked a question: {child.before}"
    assert child.exitstatus == 0, child.before
    assert (tmp_path / "crm-tool" / "widget" / "manifest.json").is_file()


def test_missing_answers_without_a_terminal_are_named(tmp_path):
    partial = {key: value for key, value in COMPLETE_ANSWERS.items()
               if key not in ("widget_code", "init_once", "backend")}
    partial["locations"] = ["lcard", "settings", "digital_pipeline"]
    answers = write_answers(tmp_path / "answers.yml", partial)
    result = run_cli("new", "w", "--data-file", str(answers), cwd=tmp_path, input_text="")
    message = assert_clean_failure(result, tmp_path)
    assert result.returncode == 2
    named = message.split("missing answers: ")[1].split(": give them")[0].split(", ")
    # copier.yml order: the widget's name and code, the areas' details, the rest
    assert named == ["widget_code", "backend_url", "dp_webhook_url", "dp_action_multiple",
                     "init_once"]
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("problem", ["missing", "folder", "not yaml", "not utf-8", "a list"])
def test_unusable_data_file_is_named(tmp_path, problem):
    path = tmp_path / "answers.yml"
    if problem == "folder":
        path.mkdir()
    elif problem == "not yaml":
        path.write_text("locations: [lcard\n", "utf-8")
    elif problem == "not utf-8":
        path.write_bytes(b"widget_name: \xff\xfe\n")
    elif problem == "a list":
        path.write_text("- lcard\n", "utf-8")
    result = run_cli("new", "w", "--defaults", "--data-file", str(path), cwd=tmp_path)
    message = assert_clean_failure(result, tmp_path)
    assert result.returncode == 2
    assert str(path) in message


# --- settings fields, one by one ----------------------------------------------------------------

def spawn_new(tmp_path, answers: dict):
    pexpect = pytest.importorskip("pexpect")
    data = write_answers(tmp_path / "answers.yml", answers)
    return pexpect, pexpect.spawn(
        sys.executable, ["-c", "from kommo_scaffold.cli.app import new_main; new_main()", "w",
                         "--data-file", str(data)],
        cwd=str(tmp_path), env=dict(os.environ), encoding="utf-8", timeout=60,
        dimensions=(24, 80))


def test_settings_fields_are_asked_one_by_one(tmp_path):
    answers = {k: v for k, v in COMPLETE_ANSWERS.items() if k != "settings_fields"}
    pexpect, child = spawn_new(tmp_path, answers)
    child.expect("Field 1 code")
    child.send("\x15api_key\r")
    child.expect("Label")
    child.send("\r")  # default label from the code
    child.expect("Type")
    child.send("\x1b[B\r")  # one down from text: pass
    child.expect("Required")
    child.send("n")
    child.expect("Add another field")
    child.send("y")
    child.expect("Field 2 code")
    child.send("region\r")
    child.expect("Label")
    child.send("\x15Sales region\r")
    child.expect("Type")
    child.send("\r")
    child.expect("Required")
    child.send("\r")
    child.expect("Add another field")
    child.send("\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    manifest = json.loads((tmp_path / "w" / "widget" / "manifest.json").read_text())
    assert manifest["settings"] == {
        "api_key": {"name": "settings.api_key", "type": "pass", "required": False},
        "region": {"name": "settings.region", "type": "text", "required": True},
    }
    recorded = yaml.safe_load((tmp_path / "w" / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["settings_fields"][1]["name"] == "Sales region"


def test_custom_field_type_is_offered_only_with_the_settings_area(tmp_path):
    answers = {k: v for k, v in COMPLETE_ANSWERS.items() if k != "settings_fields"}
    answers.update(locations=["lcard"], panel_locations=["lcard"])
    pexpect, child = spawn_new(tmp_path, answers)
    child.expect("Field 1 code")
    child.send("\r")
    child.expect("Label")
    child.send("\r")
    child.expect("Type")
    child.expect("users_lp")  # the last choice is drawn
    assert "custom" not in child.before
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_no_settings_fields_at_all(tmp_path):
    answers = {k: v for k, v in COMPLETE_ANSWERS.items() if k != "settings_fields"}
    pexpect, child = spawn_new(tmp_path, answers)
    child.expect("Field 1 code")
    child.send("\x15\r")  # empty code: no fields
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    recorded = yaml.safe_load((tmp_path / "w" / ".copier-answers.yml").read_text("utf-8"))
    assert recorded["settings_fields"] == []
