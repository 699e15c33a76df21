"""Project commands under git set-ups that change git's answers: nothing of the user's is lost.

Each test arranges what a real user has (a git setting, an ignore rule, a flag on a file, a
bigger repository, CRLF files) and checks that add-area / remove-area / update either do
their job touching only what they own, or refuse in one line and leave every byte as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import JS_SCRIPT, REPO, run_cli, user_git
from test_update import assert_area_arrived, snapshot

from kommo_scaffold.engine import store
from kommo_scaffold.errors import ScaffoldError
from kommo_scaffold.scaffold import generate, update

USER_NOTE = "my notes, never committed\n"


def one_error_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.fixture
def project(make_widget) -> Path:
    return make_widget(locations=["lcard", "settings", "sms"], locales=["en", "ru"])


def test_hidden_untracked_files_refused_and_kept(project):
    """status.showUntrackedFiles=no hides NOTES.txt from plain `git status`: still refused.

    A bad -d value afterwards fails too; neither run deletes the user's untracked files.
    """
    user_git(project, "config", "status.showUntrackedFiles", "no")
    (project / "NOTES.txt").write_text(USER_NOTE, "utf-8")
    (project / "widget" / "wip").mkdir()
    (project / "widget" / "wip" / "feature.js").write_text("// wip\n", "utf-8")
    assert user_git(project, "status", "--porcelain") == ""  # git hides them
    before = snapshot(project)
    done = run_cli("add-area", "digital_pipeline", "--defaults", "-C", str(project))
    assert done.returncode != 0
    line = one_error_line(done)
    assert "NOTES.txt" in line and "uncommitted" in line
    bad = run_cli("add-area", "digital_pipeline", "--defaults", "-d",
                  "dp_webhook_url=not a url", "-C", str(project))
    assert bad.returncode != 0
    one_error_line(bad)
    assert snapshot(project) == before
    assert (project / "widget" / "wip" / "feature.js").read_text("utf-8") == "// wip\n"


def test_ignored_user_files_never_listed_or_undone(project):
    """An ignored file of the user's (info/exclude) is neither "created" nor in the undo."""
    (project / ".git" / "info" / "exclude").write_text("NOTES.txt\n", "utf-8")
    (project / "NOTES.txt").write_text(USER_NOTE, "utf-8")
    result = update.add_area(project, ["digital_pipeline"], panel=None, data={},
                             interactive=False)
    assert "NOTES.txt" not in result.created
    assert "NOTES.txt" not in result.summary()
    assert "clean" not in result.undo_command()
    assert (project / "NOTES.txt").read_text("utf-8") == USER_NOTE


def test_undo_command_undoes_exactly_this_run(project):
    """The summary's undo line puts the project back as it was, and nothing more."""
    before = snapshot(project)
    result = update.add_area(project, ["digital_pipeline"], panel=None, data={},
                             interactive=False)
    assert result.created and result.modified
    (project / "later.txt").write_text("made after the run\n", "utf-8")
    import subprocess

    subprocess.run(result.undo_command(), shell=True, cwd=project, check=True)
    (project / "later.txt").unlink()
    assert snapshot(project) == before


def _untrack_backend(project: Path, rule_file: str) -> None:
    """The user takes backend/ out of git and keeps editing it."""
    sms = project / "backend" / "hooks" / "sms.php"
    sms.write_text(sms.read_text("utf-8") + "// USER EDIT: my SMS gateway\n", "utf-8")
    user_git(project, "rm", "-r", "-q", "--cached", "backend")
    if rule_file == ".gitignore":
        with (project / ".gitignore").open("a", encoding="utf-8") as rules:
            rules.write("\nbackend/\n")
    else:
        (project / ".git" / "info" / "exclude").write_text("backend/\n", "utf-8")
    user_git(project, "add", "-A")
    user_git(project, "commit", "-q", "-m", "backend/ out of git")


@pytest.mark.parametrize("rule_file", [".gitignore", "info/exclude"])
def test_ignored_generated_folder_is_refused(project, rule_file):
    """add-area digital_pipeline would write into the ignored backend/: one line, no change."""
    _untrack_backend(project, rule_file)
    before = snapshot(project)
    done = run_cli("add-area", "digital_pipeline", "--defaults", "-C", str(project))
    assert done.returncode == 1
    line = one_error_line(done)
    assert "backend/" in line and "ignored" in line and "nothing was written" in line
    assert snapshot(project) == before
    assert "USER EDIT" in (project / "backend" / "hooks" / "sms.php").read_text("utf-8")


@pytest.mark.parametrize("flag", ["--skip-worktree", "--assume-unchanged"])
def test_flagged_file_with_local_edits_is_refused(project, flag):
    """A file whose local edits git hides (skip-worktree, assume-unchanged) is not written."""
    script = project / "widget" / "script.js"
    user_git(project, "update-index", flag, "widget/script.js")
    script.write_text(script.read_text("utf-8") + "// LOCAL EDIT hidden from git status\n",
                      "utf-8")
    assert user_git(project, "status", "--porcelain") == ""
    before = snapshot(project)
    with pytest.raises(ScaffoldError, match=r"widget/script\.js \((skip-worktree|assume-un)"):
        update.add_area(project, ["digital_pipeline"], panel=None, data={}, interactive=False)
    assert snapshot(project) == before
    assert "LOCAL EDIT" in script.read_text("utf-8")


def test_user_git_config_does_not_matter(project):
    """Colour, pager, quoted paths, signing and hooks of the user's config change nothing."""
    for key, value in (("color.ui", "always"), ("core.pager", "false"),
                       ("core.quotepath", "true"), ("commit.gpgsign", "true"),
                       ("gpg.program", "/bin/false"), ("status.short", "true"),
                       ("status.branch", "true"), ("diff.noprefix", "true"),
                       ("core.hooksPath", str(project / "no-hooks"))):
        user_git(project, "config", key, value)
    result = update.add_area(project, ["digital_pipeline"], panel=None, data={},
                             interactive=False)
    assert "widget/images/logo_dp.png" in result.created
    assert_area_arrived(project, "digital_pipeline")


def test_private_copy_settings_win_over_the_users_global_ones(project, tmp_path, monkeypatch):
    """The copy copier merges in has its own settings, whatever the user's global config."""
    from kommo_scaffold.plumbing.gitutil import git
    from kommo_scaffold.plumbing.transaction import _COPY_CONFIG, Snapshot

    hostile = tmp_path / "gitconfig"
    hostile.write_text("[core]\n\tautocrlf = true\n\teol = crlf\n\tsymlinks = false\n"
                       "[status]\n\tshowUntrackedFiles = no\n[commit]\n\tgpgsign = true\n",
                       "utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(hostile))
    with Snapshot.take(project) as snapshot:
        for key, value in _COPY_CONFIG.items():
            assert git("config", "--get", key, cwd=snapshot.copy).strip() == value, key


def test_no_git_process_leaves_background_work(tmp_path):
    """kommo-new and add-area (copier's git and ours) never start `git maintenance`, which
    git commit runs as a child that outlives an interrupted command."""
    trace = tmp_path / "trace"
    env = {"GIT_TRACE": str(trace)}
    made = run_cli("new", str(tmp_path / "w"), "--defaults", env=env)
    assert made.returncode == 0, made.stderr
    added = run_cli("add-area", "sms", "--defaults", "-C", str(tmp_path / "w"), env=env)
    assert added.returncode == 0, added.stderr
    log = trace.read_text("utf-8")
    assert "commit" in log and "maintenance" not in log


def test_subproject_failure_leaves_the_rest_of_the_repository(make_widget, tmp_path,
                                                             monkeypatch):
    """Inside a bigger repo: an unstaged deletion and an untracked file elsewhere survive a
    failed run and a successful one, and nothing outside the project is listed."""
    made = make_widget(locations=["lcard", "settings"])
    shutil.rmtree(made / ".git")
    mono = tmp_path / "mono"
    (mono / "apps").mkdir(parents=True)
    (mono / "lib.py").write_text("x = 1\n", "utf-8")
    shutil.move(made, mono / "apps" / "widget")
    user_git(mono, "init", "-q")
    user_git(mono, "add", "-A")
    user_git(mono, "commit", "-q", "-m", "Monorepo")
    (mono / "lib.py").unlink()  # an unstaged deletion elsewhere
    (mono / "elsewhere.txt").write_text("mine", "utf-8")
    sub = mono / "apps" / "widget"

    real_update = update.runner.update

    def crash(path, **kwargs):
        real_update(path, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(update.runner, "update", crash)
    before = snapshot(sub)
    with pytest.raises(KeyboardInterrupt):
        update.add_area(sub, ["sms"], panel=None, data={}, interactive=False)
    assert snapshot(sub) == before
    assert not (mono / "lib.py").exists()
    monkeypatch.undo()

    result = update.add_area(sub, ["sms"], panel=None, data={}, interactive=False)
    assert not (mono / "lib.py").exists()
    assert (mono / "elsewhere.txt").read_text("utf-8") == "mine"
    assert all(not name.startswith("..") and "elsewhere" not in name and name != "lib.py"
               for name in result.created + result.modified + result.deleted)
    assert_area_arrived(sub, "sms")


def _to_crlf(project: Path) -> None:
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" not in data and b"\n" in data:
            path.write_bytes(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


@pytest.mark.parametrize("setup", ["committed-crlf", "autocrlf"])
def test_crlf_project_merges_like_an_lf_one(make_widget, setup):
    """CRLF files (committed so, or made by core.autocrlf) merge cleanly and stay CRLF."""
    project = make_widget(locations=["lcard", "settings"], locales=["en", "ru"])
    script = project / "widget" / "script.js"
    text = script.read_text("utf-8")
    assert text.count("        loadStyles();\n") == 1
    script.write_text(text.replace("        loadStyles();\n",
                                   "        loadStyles();\n        self.mine = 1; // USER\n"),
                      "utf-8")
    if setup == "autocrlf":
        user_git(project, "config", "core.autocrlf", "true")
        user_git(project, "commit", "-q", "-am", "My edit")
        for path in project.rglob("*"):  # check out again: CRLF in the work tree
            if ".git" not in path.parts and path.is_file():
                path.unlink()
        user_git(project, "checkout", "-q", "--", ".")
    else:
        _to_crlf(project)
        user_git(project, "add", "-A")
        user_git(project, "commit", "-q", "-m", "Windows editor: CRLF everywhere")
    assert b"\r\n" in script.read_bytes()
    assert user_git(project, "status", "--porcelain") == ""
    result = update.add_area(project, ["digital_pipeline"], panel=None, data={},
                             interactive=False)
    merged = script.read_bytes()
    assert b"<<<<<<<" not in merged
    assert b"self.mine = 1; // USER\r\n" in merged and b"dpSettings" in merged
    assert merged.count(b"\n") == merged.count(b"\r\n")  # still all CRLF
    assert "widget/script.js" in result.modified
    # Files the run did not need to change are not rewritten with other line endings.
    assert "widget/style.css" not in result.modified


# --- update: a file the newer template drops ------------------------------------------------

CHANGED_LINE = "    // Inside callbacks `this` is not the widget: always go through `self`.\n"
OLD_LINE = "    // A line the older template had.\n"

@pytest.fixture
def project_with_dropped_file(tmp_path, monkeypatch) -> Path:
    """A project made by an older kommo-scaffold whose template had OLD.md; the user edited
    it. The installed (working-tree) template has no OLD.md."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    older = tmp_path / "older" / "templates"
    shutil.copytree(REPO / "templates", older,
                    ignore=shutil.ignore_patterns("__pycache__", store.HISTORY_BUNDLE_NAME))
    (older / "widget" / "project" / "OLD.md").write_text("# Old notes\n", "utf-8")
    (older / "widget" / "project" / "OLD-UNTOUCHED.md").write_text("# Same\n", "utf-8")
    script = older / "widget" / "project" / JS_SCRIPT
    text = script.read_text("utf-8")
    assert CHANGED_LINE in text
    script.write_text(text.replace(CHANGED_LINE, OLD_LINE), "utf-8")
    monkeypatch.setattr(store, "templates_dir", lambda: older)
    monkeypatch.setattr(store, "installed_version", lambda: "0.0.9")
    project = tmp_path / "widget"
    generate.create(project, {"locations": ["lcard", "settings"]}, defaults=True)
    (project / "OLD.md").write_text("# Old notes\nMY OWN NOTES\n", "utf-8")
    user_git(project, "commit", "-q", "-am", "My notes")
    monkeypatch.undo()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return project


def test_update_asks_before_deleting_an_edited_file(project_with_dropped_file):
    project = project_with_dropped_file
    before = snapshot(project)
    asked: list[list[str]] = []
    with pytest.raises(ScaffoldError, match="unchanged"):
        update.upgrade(project, interactive=False,
                       confirm=lambda edited: asked.append(edited) or False)
    assert asked == [["OLD.md"]]  # the untouched file is deleted without asking
    assert snapshot(project) == before
    refused = run_cli("update", "--defaults", "-C", str(project))
    assert refused.returncode == 1 and "OLD.md" in refused.stdout
    assert "pass --yes" in one_error_line(refused)
    assert snapshot(project) == before
    done = run_cli("update", "--defaults", "--yes", "-C", str(project))
    assert done.returncode == 0, done.stderr
    assert not (project / "OLD.md").exists() and not (project / "OLD-UNTOUCHED.md").exists()
    assert "deleted files you had edited (still in git history): OLD.md" in done.stdout


def test_update_lists_deleted_edits_also_on_conflict(project_with_dropped_file):
    """A conflict elsewhere: the exit-3 message still names the edited file it deleted."""
    project = project_with_dropped_file
    script = project / "widget" / "script.js"
    text = script.read_text("utf-8")
    assert OLD_LINE in text
    script.write_text(text.replace(OLD_LINE, "    // USER LINE\n"), "utf-8")
    user_git(project, "commit", "-q", "-am", "My line")
    done = run_cli("update", "--defaults", "--yes", "-C", str(project))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "OLD.md" in done.stderr and "conflict: widget/script.js" in done.stderr
    assert "UU widget/script.js" in user_git(project, "status", "--porcelain")
    assert not (project / "OLD.md").exists()


def test_generated_file_that_is_a_symlink_is_never_written_through(project, tmp_path):
    """script.js committed as a link to a file outside the project: refused, and the file
    outside is never written (copier only ever sees the link's text)."""
    outside = tmp_path / "outside.js"
    script = project / "widget" / "script.js"
    outside.write_bytes(script.read_bytes())
    script.unlink()
    script.symlink_to(outside)
    user_git(project, "add", "-A")
    user_git(project, "commit", "-q", "-m", "script.js lives elsewhere")
    before, outside_before = snapshot(project), outside.read_bytes()
    with pytest.raises(ScaffoldError, match=r"widget/script\.js \(a symbolic link\)"):
        update.add_area(project, ["digital_pipeline"], panel=None, data={}, interactive=False)
    assert snapshot(project) == before
    assert outside.read_bytes() == outside_before
    assert script.is_symlink()
