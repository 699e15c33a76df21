"""The command line as a user meets it: help, exit codes, projects found from any subfolder,
projects made inside an existing repository, shell-quoted paths."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli, shell, user_git

from kommo_scaffold.cli import app as cli
from kommo_scaffold.errors import EXIT_CODES

COMMANDS = ["new", "add-area", "remove-area", "update", "sync-template", "check", "pack"]


def run_new(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from kommo_scaffold.cli.app import new_main; "
                           "new_main()", *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)


# --- help --------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [[], *([name] for name in COMMANDS)], ids=["kommo", *COMMANDS])
def test_dash_h_is_help_and_usage_is_plain(args):
    long, short = run_cli(*args, "--help"), run_cli(*args, "-h")
    assert long.returncode == short.returncode == 0, short.stderr
    assert long.stdout == short.stdout
    for noise in ("{", "<list", "<path>", "<str>", "<bool>", "<int>"):
        assert noise not in short.stdout, (noise, short.stdout)


def test_usage_lines_name_what_to_give():
    usage = {name: run_cli(name, "-h").stdout.splitlines()[0] for name in COMMANDS}
    assert usage["add-area"].endswith("add-area [OPTIONS] AREA...")
    assert usage["remove-area"].endswith("remove-area [OPTIONS] AREA...")
    assert usage["new"].endswith("new [OPTIONS] PATH")
    assert usage["check"].endswith("check [OPTIONS] [PATH]")
    assert "--format [text|json]" in run_cli("check", "-h").stdout
    assert "--bump [patch|minor|major]" in run_cli("pack", "-h").stdout


def test_kommo_help_shows_whole_summaries():
    listing = re.sub(r"\s+", "", run_cli("--help").stdout)
    for name in COMMANDS:
        command = cli.app.registered_commands[[c.name for c in cli.app.registered_commands]
                                              .index(name)]
        summary = command.callback.__doc__.strip().split("\n\n")[0]
        assert re.sub(r"\s+", "", summary) in listing, name
    commands = run_cli("--help").stdout.split("Commands:")[1].split("Exit codes:")[0]
    assert "..." not in commands


def test_help_documents_the_exit_codes():
    text = run_cli("--help").stdout
    for code, meaning in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", text, re.M), code


def test_kommo_new_version_and_dash_h():
    version = run_new("--version")
    assert version.returncode == 0 and version.stdout.startswith("kommo-scaffold ")
    assert version.stdout == run_cli("--version").stdout
    help_text = run_new("-h")
    assert help_text.returncode == 0 and "Usage: " in help_text.stdout


def _cli_in_fresh_python(project: Path, args: list[str], report: str,
                         setup: str = "") -> subprocess.CompletedProcess[str]:
    """`kommo ARGS` in a new interpreter, in ``project``: ``setup`` runs first, ``report``
    after the command (with its exit status in ``code``)."""
    code = ("import sys\n" + setup + f"sys.argv = ['kommo', *{args!r}]\n"
            "from kommo_scaffold.cli import app as cli\n"
            "try:\n    cli.main()\nexcept SystemExit as done:\n    code = done.code\n"
            + report)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=project, check=False)


@pytest.mark.parametrize("args", [
    ["check", "."], ["check", ".", "--format", "json", "--strict"], ["check", "--explain", "KS302"],
    ["pack", ".", "-o", "dist/w.zip"], ["--help"], ["check", "-h"],
])
def test_check_and_pack_load_neither_pydantic_nor_copier(args, make_widget):
    """Typer 0.29 coerces values with pydantic; kommo_scaffold.cli.coerce does it without,
    so the commands that need neither pydantic nor copier start fast."""
    project = make_widget(locations=["lcard", "settings"])
    report = ("heavy = sorted({m.split('.')[0] for m in sys.modules} & {'copier', 'pydantic'})\n"
              "print('HEAVY', heavy, 'EXIT', code)\n")
    result = _cli_in_fresh_python(project, args, report)
    assert "HEAVY [] EXIT 0" in result.stdout, result.stdout + result.stderr


def test_without_typers_internals_typer_coerces(make_widget):
    """Another Typer release without the internals clicoerce uses: Typer's own coercion
    runs (pydantic loads), and the commands work the same."""
    project = make_widget(locations=["lcard", "settings"])
    setup = ("import builtins\n"
             "real = builtins.__import__\n"
             "def blocked(name, *args, **kwargs):\n"
             "    if name.startswith('typer._coercion'):\n"
             "        raise ImportError(name)\n"
             "    return real(name, *args, **kwargs)\n"
             "builtins.__import__ = blocked\n")
    result = _cli_in_fresh_python(project, ["check", ".", "--format", "json"],
                                  "print('PYDANTIC', 'pydantic' in sys.modules, 'EXIT', code)\n",
                                  setup)
    assert "PYDANTIC True EXIT 0" in result.stdout, result.stdout + result.stderr


def test_values_are_coerced_as_typer_does(make_widget):
    project = make_widget(locations=["lcard", "settings"])
    bad_choice = run_cli("check", "--format", "xml", cwd=project)
    assert bad_choice.returncode == 2
    assert "Invalid value for '--format': 'xml' is not one of 'text', 'json'." in bad_choice.stderr
    as_json = run_cli("check", str(project / "widget"), "--format", "json", cwd=project.parent)
    assert as_json.returncode == 0 and as_json.stdout.lstrip().startswith("{")
    packed = run_cli("pack", "-o", "out dir/ü.zip", cwd=project)
    assert packed.returncode == 0, packed.stderr
    assert (project / "out dir" / "ü.zip").is_file()
    added = run_cli("add-area", "llist", "--defaults", "--no-panel", cwd=project)
    assert added.returncode == 0, added.stderr


# --- exit codes ----------------------------------------------------------------------------

def test_usage_errors_exit_2(tmp_path):
    assert run_cli("add-area", "--nope", cwd=tmp_path).returncode == 2
    assert run_cli("check", "--format", "xml", cwd=tmp_path).returncode == 2
    assert run_cli("pack", "--bump", "huge", cwd=tmp_path).returncode == 2
    assert run_cli("frobnicate", cwd=tmp_path).returncode == 2
    outside = run_cli("add-area", "sms", cwd=tmp_path)
    assert outside.returncode == 2
    assert "is not inside a kommo-scaffold project" in outside.stderr
    assert len(outside.stderr.strip().splitlines()) == 1


def test_refusals_exit_1_and_usage_errors_2_in_a_project(make_widget):
    project = make_widget(locations=["lcard", "settings"])
    unknown = run_cli("add-area", "nope", cwd=project)
    assert unknown.returncode == 2 and "Unknown connection area" in unknown.stderr
    (project / "widget" / "style.css").write_text("/* mine */\n", "utf-8")
    dirty = run_cli("add-area", "sms", cwd=project)
    assert dirty.returncode == 1 and "uncommitted changes" in dirty.stderr


def test_bad_answers_file_exits_2_naming_it(make_widget):
    project = make_widget(locations=["lcard", "settings"])
    (project / ".copier-answers.yml").write_text("locations: [unclosed\n", "utf-8")
    user_git(project, "commit", "-qam", "broken")
    result = run_cli("add-area", "sms", cwd=project / "widget")
    assert result.returncode == 2
    assert ".copier-answers.yml is not valid YAML" in result.stderr


# --- commands from any folder of the project -------------------------------------------------

def test_pack_inside_widget_writes_the_projects_dist(make_widget):
    project = make_widget(locations=["lcard", "settings"])
    result = run_cli("pack", cwd=project / "widget" / "i18n")
    assert result.returncode == 0, result.stderr
    assert (project / "dist" / "widget.zip").is_file()
    assert not (project / "widget" / "dist").exists()
    assert not (project / "widget" / "i18n" / "dist").exists()
    again = run_cli("pack", ".", cwd=project / "widget")
    assert again.returncode == 0, again.stderr
    assert not (project / "widget" / "dist").exists()


def test_check_from_a_back_end_folder_checks_the_project(make_widget):
    project = make_widget(locations=["lcard", "settings", "digital_pipeline"])
    from_root = run_cli("check", "--format", "json", cwd=project)
    from_hooks = run_cli("check", "--format", "json", cwd=project / "backend" / "hooks")
    assert from_hooks.returncode == from_root.returncode == 0, from_hooks.stdout
    assert from_hooks.stdout == from_root.stdout


def test_project_commands_from_a_subfolder_and_with_dash_c(make_widget, tmp_path, cli_bin):
    project = make_widget(locations=["lcard", "settings"])
    added = run_cli("add-area", "digital_pipeline", "--defaults", cwd=project / "widget" / "i18n")
    assert added.returncode == 0, added.stderr
    assert (project / "backend" / "public" / "index.php").is_file()
    assert not (project / "widget" / "backend").exists()
    # The commit command the summary prints works as printed.
    printed = next(line.strip() for line in added.stdout.splitlines()
                   if line.strip().startswith("git add -A"))
    # From widget/i18n the project is ../..: the back end outside widget/ is staged too.
    assert printed == "git add -A ../.. && git commit -m 'Add digital_pipeline'"
    committed = shell(printed, cwd=project / "widget" / "i18n", cli_bin=cli_bin)
    assert committed.returncode == 0, committed.stderr
    assert user_git(project, "status", "--porcelain", "--untracked-files=all") == ""
    removed = run_cli("remove-area", "digital_pipeline", "--yes", "-C",
                      str(project / "widget" / "images"), cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert not (project / "backend").exists()
    user_git(project, "add", "-A")
    user_git(project, "commit", "-qm", "Remove digital_pipeline")
    updated = run_cli("update", "--defaults", cwd=project / "widget")
    assert updated.returncode == 0, updated.stderr
    assert "Already at template" in updated.stdout


def test_a_stand_alone_widget_folder_inside_a_project_is_taken_as_it_is(make_widget):
    """A folder with its own manifest.json (not the project's widget/) is packed by itself."""
    project = make_widget(locations=["lcard", "settings"])
    copy = project / "reference"
    subprocess.run(["cp", "-r", str(project / "widget"), str(copy)], check=True)
    result = run_cli("pack", "reference", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (copy / "dist" / "widget.zip").is_file()


# --- kommo-new inside an existing repository -------------------------------------------------

def test_new_inside_a_repository_is_a_folder_of_it(tmp_path, cli_bin):
    repo = tmp_path / "mono"
    repo.mkdir()
    user_git(repo, "init", "-q")
    (repo / "README.md").write_text("monorepo\n", "utf-8")
    user_git(repo, "add", "-A")
    user_git(repo, "commit", "-qm", "Start")
    (repo / "staged.txt").write_text("the user's own staged work\n", "utf-8")
    user_git(repo, "add", "staged.txt")
    result = shell("kommo-new widgets/crm --defaults", cwd=repo, cli_bin=cli_bin)
    assert result.returncode == 0, result.stderr
    project = repo / "widgets" / "crm"
    assert (project / "widget" / "manifest.json").is_file()
    assert not (project / ".git").exists(), "a nested repository"
    assert user_git(repo, "log", "--format=%s").splitlines() == ["Start"]
    commit_line = next(line.strip() for line in result.stdout.splitlines()
                       if line.strip().startswith("git -C"))
    committed = shell(commit_line, cwd=tmp_path, cli_bin=cli_bin)
    assert committed.returncode == 0, committed.stderr
    assert user_git(repo, "status", "--porcelain") == "A  staged.txt\n"
    assert "staged.txt" not in user_git(repo, "show", "--name-only", "--format=", "HEAD")
    # The subproject grows like any other, from a folder inside it.
    added = shell("kommo add-area sms --defaults && git add -A && git commit -qm 'Add sms'",
                  cwd=project / "widget", cli_bin=cli_bin)
    assert added.returncode == 0, added.stderr
    assert (project / "backend" / "public" / "index.php").is_file()


def test_printed_paths_are_shell_quoted(tmp_path, cli_bin):
    result = run_new("Мой виджет", "--defaults", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "git -C" not in result.stdout  # outside a repository: its own, committed
    assert len(user_git(tmp_path / "Мой виджет", "log", "--format=%H").split()) == 1
    next_line = result.stdout.strip().splitlines()[-1]
    assert next_line == "Next: cd 'Мой виджет' && kommo check && kommo pack"
    command = next_line.removeprefix("Next: ")
    followed = shell(command, cwd=tmp_path, cli_bin=cli_bin)
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert (tmp_path / "Мой виджет" / "dist" / "widget.zip").is_file()
    assert shlex.split(command)[1] == "Мой виджет"


# --- examples in --help and what commands print ------------------------------------------------

def help_examples(command: str) -> list[str]:
    text = run_cli(command, "-h").stdout
    return [line.strip() for line in text.split("Examples:")[1].splitlines()
            if line.strip().startswith("kommo ")]


@pytest.mark.parametrize("index", range(5))
def test_add_area_help_examples_work(index, make_widget, cli_bin):
    examples = help_examples("add-area")
    assert len(examples) == 5
    project = make_widget(locations=["lcard", "settings"])
    result = shell(examples[index], cwd=project, cli_bin=cli_bin)
    assert result.returncode == 0, result.stdout + result.stderr


def test_conflict_exits_3_and_prints_an_undo_that_works(make_widget, cli_bin):
    project = make_widget(locations=["lcard", "settings", "digital_pipeline"])
    script = project / "widget" / "script.js"
    line = "        .addClass(PROJECT_CODE + '-widget ' + PROJECT_CODE + '-dp');\n"
    text = script.read_text("utf-8")
    assert line in text  # the edit below must land in the dpSettings callback
    script.write_text(text.replace(line, "        .addClass('mine');\n"), "utf-8")
    user_git(project, "commit", "-qam", "My dpSettings")
    result = shell("kommo remove-area digital_pipeline --yes", cwd=project / "widget",
                   cli_bin=cli_bin)
    assert result.returncode == 3, result.stderr
    assert "conflict: widget/script.js" in result.stderr
    undo = result.stderr.split("in the project folder: ")[1].rstrip().removesuffix(")")
    undone = shell(undo, cwd=project, cli_bin=cli_bin)
    assert undone.returncode == 0, undone.stderr
    assert user_git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert "addClass('mine')" in script.read_text("utf-8")
