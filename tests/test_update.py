"""kommo add-area / remove-area / update and plain copier update on a project the user edited.

Real git, real copier, in temporary folders. Every area is added to a project whose
script.js, i18n, style.css, manifest.json and logo.png the user changed and committed: the
area must arrive and every edit must survive. Every refusal must be one line, exit non-zero
and leave the project byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import rendered, run_cli, run_copier, user_git
from PIL import Image
from widget_assertions import assert_valid_widget, load_json

from kommo_scaffold.catalog import areas
from kommo_scaffold.check.js.parser import parse_module
from kommo_scaffold.errors import ConflictError, ScaffoldError, UsageError
from kommo_scaffold.scaffold import logos, update

USER_JS = "        self.userReady = true; // USER EDIT: init\n"
USER_CSS = "\n/* USER EDIT */\n.user-rule {\n  color: #123456;\n}\n"
USER_NAME_RU = "Мой виджет"
USER_VERSION = "1.2.3"


def other_png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


USER_LOGO = other_png(areas.BASE_LOGOS["logo.png"])


def base_locations(code: str) -> list[str]:
    """A small starting widget that does not have ``code`` yet."""
    return {"lcard": ["ccard", "settings"], "settings": ["lcard"]}.get(code, ["lcard", "settings"])


def edit_like_a_user(project: Path) -> None:
    """The edits every test expects to survive, committed as the user."""
    widget = project / "widget"
    script = widget / "script.js"
    text = script.read_text("utf-8")
    assert text.count("        loadStyles();\n") == 1
    script.write_text(text.replace("        loadStyles();\n", "        loadStyles();\n" + USER_JS),
                      "utf-8")
    ru = widget / "i18n" / "ru.json"
    lines = ru.read_text("utf-8").splitlines(keepends=True)
    assert lines[2].startswith('    "name": ')
    lines[2] = f'    "name": {json.dumps(USER_NAME_RU, ensure_ascii=False)},\n'
    ru.write_text("".join(lines), "utf-8")
    with (widget / "style.css").open("a", encoding="utf-8") as css:
        css.write(USER_CSS)
    manifest = widget / "manifest.json"
    text = manifest.read_text("utf-8")
    assert text.count('"version": "1.0.0"') == 1
    manifest.write_text(text.replace('"version": "1.0.0"', f'"version": "{USER_VERSION}"'),
                        "utf-8")
    (widget / "images" / "logo.png").write_bytes(USER_LOGO)
    user_git(project, "add", "-A")
    user_git(project, "commit", "-q", "-m", "My edits")


def assert_edits_survived(project: Path) -> None:
    widget = project / "widget"
    assert USER_JS in (widget / "script.js").read_text("utf-8")
    assert load_json(widget / "i18n" / "ru.json")["widget"]["name"] == USER_NAME_RU
    assert (widget / "style.css").read_text("utf-8").endswith(USER_CSS)
    assert load_json(widget / "manifest.json")["widget"]["version"] == USER_VERSION
    assert (widget / "images" / "logo.png").read_bytes() == USER_LOGO


def recorded_answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))


def assert_area_arrived(project: Path, code: str, panel: bool | None = None) -> None:
    """The area's manifest location, block, callbacks, i18n keys, logos and back end
    (``panel`` None: the default, -1 for cards and -0 for lists)."""
    assert_valid_widget(project)  # checks everything the catalog says about the locations
    answers = recorded_answers(project)
    area = areas.AREA_BY_CODE[code]
    assert code in answers["locations"]
    manifest = load_json(project / "widget" / "manifest.json")
    if area.takes_panel_flag:
        flag = area.panel_by_default if panel is None else panel
        assert f"{code}-{1 if flag else 0}" in manifest["locations"]
    else:
        assert code in manifest["locations"]
    if area.manifest_block:
        assert area.manifest_block in manifest
    script = (project / "widget" / "script.js").read_text("utf-8")
    callbacks = parse_module(script).callbacks
    assert callbacks is not None
    for callback in area.callbacks:
        assert callback in callbacks.entries, callback
    for locale in answers["locales"]:
        data = load_json(project / "widget" / "i18n" / f"{locale}.json")
        for key in area.i18n_keys:
            node = data
            for part in key.split("."):
                node = node[part]
            assert node, (locale, key)
    for name, size in areas.logos_for([code]).items():
        with Image.open(project / "widget" / "images" / name) as image:
            assert image.size == size
    backend = project / "backend"
    if area.backend_route and backend.is_dir():  # the back end is being built in parallel
        sources = "".join(p.read_text("utf-8") for p in backend.rglob("*.php"))
        assert area.backend_route in sources


def snapshot(project: Path) -> tuple[str, str]:
    """A hash of every file outside .git, and git's view of the project."""
    digest = hashlib.sha256()
    for path in sorted(project.rglob("*")):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        digest.update(path.relative_to(project).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    status = ""
    if (project / ".git").exists():
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                                cwd=project, capture_output=True, text=True).stdout
        status += subprocess.run(["git", "rev-parse", "HEAD"], cwd=project,
                                 capture_output=True, text=True).stdout
    return digest.hexdigest(), status


@pytest.fixture(scope="module")
def _edited_bases(tmp_path_factory) -> dict[tuple[str, ...], Path]:
    return {}


@pytest.fixture
def edited_widget(_edited_bases, tmp_path_factory, tmp_path):
    """edited_widget(locations): a committed project with the user's edits, in tmp_path.

    Generating is the slow part, so each set of locations is generated and edited once per
    module and copied (with its git history) for every test.
    """

    def make(locations: list[str]) -> Path:
        key = tuple(locations)
        if key not in _edited_bases:
            base = rendered(tmp_path_factory.mktemp("edited-base") / "widget",
                            {"locations": locations, "locales": ["en", "ru"]})
            edit_like_a_user(base)
            _edited_bases[key] = base
        project = tmp_path / "widget"
        shutil.copytree(_edited_bases[key], project, symlinks=True)
        return project

    return make


@pytest.mark.parametrize("code", areas.AREA_CODES)
def test_add_each_area_keeps_user_edits(edited_widget, code):
    """Each area arrives in an edited project; every edit and the template version stay."""
    project = edited_widget(base_locations(code))
    before = recorded_answers(project)["_commit"]
    result = update.add_area(project, [code], panel=None, data={}, interactive=False)
    assert_area_arrived(project, code)
    assert_edits_survived(project)
    assert recorded_answers(project)["_commit"] == before
    assert result.areas_added == [code]
    assert result.version_from == result.version_to == before
    assert ".copier-answers.yml" in result.modified
    assert code in result.summary() and "git commit" in result.summary()


def test_add_area_panel_defaults_follow_new_projects(edited_widget):
    """Without --panel/--no-panel, cards get the right-hand panel (-1) and lists -0, as in
    a new project's default panel_locations; --panel puts a list in the panel too."""
    project = edited_widget(["lcard", "settings"])
    done = run_cli("add-area", "ccard", "llist", "--defaults", "-C", str(project))
    assert done.returncode == 0, done.stderr
    assert_area_arrived(project, "ccard", panel=True)
    assert_area_arrived(project, "llist", panel=False)
    assert recorded_answers(project)["panel_locations"] == ["lcard", "ccard"]
    user_git(project, "add", "-A")
    user_git(project, "commit", "-qm", "ccard and llist")
    paneled = run_cli("add-area", "clist", "--panel", "--defaults", "-C", str(project))
    assert paneled.returncode == 0, paneled.stderr
    assert_area_arrived(project, "clist", panel=True)
    assert recorded_answers(project)["panel_locations"] == ["lcard", "ccard", "clist"]
    assert_edits_survived(project)


def test_add_area_cli_no_panel_data_and_personalised_logo(edited_widget):
    """kommo add-area -C PATH: --no-panel gives area-0, -d answers the new area's questions."""
    project = edited_widget(["lcard", "settings"])
    done = run_cli("add-area", "llist", "digital_pipeline", "--no-panel", "--defaults",
                   "-d", "dp_webhook_url=https://hooks.example.com/dp", "-C", str(project))
    assert done.returncode == 0, done.stderr
    assert "Added llist, digital_pipeline" in done.stdout
    assert_area_arrived(project, "llist", panel=False)
    assert_area_arrived(project, "digital_pipeline")
    assert_edits_survived(project)
    answers = recorded_answers(project)
    assert answers["panel_locations"] == ["lcard"]
    assert answers["dp_webhook_url"] == "https://hooks.example.com/dp"
    # The new logo is personalised like the others kommo-new drew, not the grey placeholder.
    logo_dp = (project / "widget" / "images" / "logo_dp.png").read_bytes()
    assert logo_dp != logos.placeholder("logo_dp.png")
    with Image.open(io.BytesIO(logo_dp)) as image:
        assert image.getpixel((0, 0)) == logos.color_for(answers["widget_code"])
    # Left for the user to review, like plain copier update leaves it.
    assert user_git(project, "status", "--porcelain").strip()


def test_add_area_in_current_directory(edited_widget):
    """Without -C the command works on the current directory."""
    project = edited_widget(["lcard", "settings"])
    done = run_cli("add-area", "sms", "--defaults", cwd=project)
    assert done.returncode == 0, done.stderr
    assert_area_arrived(project, "sms")
    assert_edits_survived(project)


def test_plain_copier_update_adds_an_area(edited_widget):
    """Plain `copier update` (no --trust, no kommo) adds an area and keeps every edit."""
    project = edited_widget(["lcard", "settings"])
    done = run_copier("update", "--defaults",
                      "-d", "locations=[lcard, settings, digital_pipeline]", cwd=project)
    assert done.returncode == 0, done.stderr
    assert_area_arrived(project, "digital_pipeline")
    assert_edits_survived(project)


@pytest.fixture
def dp_widget(make_widget):
    """A widget with the digital pipeline, edited by the user, logo_dp.png replaced."""
    project = make_widget(locations=["lcard", "settings", "digital_pipeline"],
                          locales=["en", "ru"])
    edit_like_a_user(project)
    (project / "widget" / "images" / "logo_dp.png").write_bytes(other_png((174, 109)))
    user_git(project, "commit", "-q", "-am", "My DP logo")
    return project


def test_remove_area_asks_about_edited_files_then_deletes(dp_widget):
    """remove-area lists the edited files it deletes; the area's files go, the rest stays."""
    asked: list[list[str]] = []
    result = update.remove_area(dp_widget, ["digital_pipeline"],
                                confirm=lambda edited: asked.append(edited) or True)
    assert asked == [["widget/images/logo_dp.png"]]
    assert not (dp_widget / "widget" / "images" / "logo_dp.png").exists()
    assert not (dp_widget / "backend").exists()
    assert "widget/images/logo_dp.png" in result.deleted
    manifest = load_json(dp_widget / "widget" / "manifest.json")
    assert "dp" not in manifest and "digital_pipeline" not in manifest["locations"]
    assert "dpSettings" not in (dp_widget / "widget" / "script.js").read_text("utf-8")
    for locale in ("en", "ru"):
        assert "dp" not in load_json(dp_widget / "widget" / "i18n" / f"{locale}.json")
    answers = recorded_answers(dp_widget)
    assert answers["locations"] == ["lcard", "settings"]
    assert "dp_webhook_url" not in answers
    assert_edits_survived(dp_widget)
    assert_valid_widget(dp_widget)
    assert result.areas_removed == ["digital_pipeline"]


def test_remove_area_refused_leaves_project_unchanged(dp_widget):
    """Answering no to the confirmation changes nothing."""
    before = snapshot(dp_widget)
    with pytest.raises(ScaffoldError, match="unchanged"):
        update.remove_area(dp_widget, ["digital_pipeline"], confirm=lambda edited: False)
    assert snapshot(dp_widget) == before


def test_remove_untouched_area_does_not_ask(edited_widget):
    """Nothing edited among the files to delete: no question, the files go."""
    project = edited_widget(["lcard", "settings", "salesbot_designer", "widget_page"])
    result = update.remove_area(project, ["salesbot_designer", "widget_page"],
                                confirm=lambda edited: pytest.fail(f"asked about {edited}"))
    assert not (project / "widget" / "images" / "menu_icon.svg").exists()
    assert "widget/images/menu_icon.svg" in result.deleted
    assert_valid_widget(project)
    assert_edits_survived(project)


def test_remove_area_cli_needs_yes_without_terminal(dp_widget):
    """Without a terminal, remove-area refuses to delete edited files unless --yes."""
    before = snapshot(dp_widget)
    refused = run_cli("remove-area", "digital_pipeline", "-C", str(dp_widget))
    assert refused.returncode != 0
    assert "widget/images/logo_dp.png" in refused.stdout
    assert snapshot(dp_widget) == before
    done = run_cli("remove-area", "digital_pipeline", "--yes", "-C", str(dp_widget))
    assert done.returncode == 0, done.stderr
    assert "Removed digital_pipeline" in done.stdout
    assert not (dp_widget / "widget" / "images" / "logo_dp.png").exists()


def test_conflict_lists_files_and_exits_3(make_widget):
    """A user edit right where the area's code goes: exit 3, files listed, markers left."""
    project = make_widget(locations=["lcard", "settings"])
    script = project / "widget" / "script.js"
    text = script.read_text("utf-8")
    # The header line that lists the areas: adding one changes it too. (Area blocks are
    # self-contained, so an edit next to where a block goes merges without a conflict.)
    anchor = " * in these areas: lcard, settings.\n"
    assert text.count(anchor) == 1
    script.write_text(text.replace(anchor, " * in these areas: lcard, settings.\n"
                                   " * self.userCleanup(); // USER EDIT\n"), "utf-8")
    user_git(project, "commit", "-q", "-am", "My destroy()")
    done = run_cli("add-area", "digital_pipeline", "--defaults", "-C", str(project))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "conflict: widget/script.js" in done.stderr
    merged = script.read_text("utf-8")
    assert "<<<<<<< before updating" in merged and ">>>>>>> after updating" in merged
    assert "self.userCleanup(); // USER EDIT" in merged
    assert "UU widget/script.js" in user_git(project, "status", "--porcelain")


def test_upgrade_when_already_current_changes_nothing(edited_widget):
    """kommo update on a project at the installed template: nothing to do."""
    project = edited_widget(["lcard", "settings"])
    before = snapshot(project)
    done = run_cli("update", "--defaults", "-C", str(project))
    assert done.returncode == 0, done.stderr
    assert "nothing to update" in done.stdout
    assert snapshot(project) == before


def test_failure_mid_update_restores_the_project(edited_widget, monkeypatch):
    """An exception after copier started writing puts every file back."""
    project = edited_widget(["lcard", "settings"])
    before = snapshot(project)
    real_update = update.runner.update

    def crash(path, **kwargs):
        real_update(path, **kwargs)
        (path / "stray.txt").write_text("half-done", "utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(update.runner, "update", crash)
    with pytest.raises(KeyboardInterrupt):
        update.add_area(project, ["digital_pipeline"], panel=None, data={}, interactive=False)
    assert snapshot(project) == before


# --- pre-flight: one line, non-zero exit, project untouched -------------------------------

def _set_answer(project: Path, key: str, value: str) -> None:
    path = project / ".copier-answers.yml"
    lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line
             for line in path.read_text("utf-8").splitlines()]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    user_git(project, "commit", "-q", "-am", f"Set {key}")


def _no_git(project: Path) -> None:
    shutil.rmtree(project / ".git")


def _modified(project: Path) -> None:
    with (project / "widget" / "style.css").open("a", encoding="utf-8") as css:
        css.write("/* not committed */\n")


def _untracked(project: Path) -> None:
    (project / "notes.txt").write_text("mine", "utf-8")


PREFLIGHT = {
    "not-a-git-repo": (_no_git, ["add-area", "sms"], "not in a git repository"),
    "uncommitted-change": (_modified, ["add-area", "sms"], "commit or stash your changes"),
    "untracked-file": (_untracked, ["update"], "commit or stash your changes"),
    "newer-project": (lambda p: _set_answer(p, "_commit", "v99.0.0"), ["update"],
                      "upgrade kommo-scaffold: install it the way you installed"),
    "missing-tag": (lambda p: _set_answer(p, "_commit", "v0.0.1"), ["add-area", "sms"],
                    "has no v0.0.1"),
    "dev-tag-of-another-machine": (lambda p: _set_answer(p, "_commit", "v0.1.0+dev.999"),
                                   ["update"], "development checkout"),
    "foreign-template": (lambda p: _set_answer(p, "_src_path", "gh:someone/template"),
                         ["update"], "plain `copier update`"),
    "unknown-area": (lambda p: None, ["add-area", "bogus"], "Unknown connection area 'bogus'"),
    "remove-absent-area": (lambda p: None, ["remove-area", "sms"], "has no sms area"),
    "add-present-area": (lambda p: None, ["add-area", "lcard"], "already has lcard"),
    "card-sdk-without-card": (lambda p: None, ["remove-area", "lcard"], "card_sdk needs"),
    "no-panel-on-other-area": (lambda p: None, ["add-area", "sms", "--no-panel"],
                               "--no-panel applies to card and list areas"),
    "panel-on-other-area": (lambda p: None, ["add-area", "digital_pipeline", "--panel"],
                            "--panel applies to card and list areas"),
}


@pytest.mark.parametrize("case", PREFLIGHT)
def test_preflight_refusals(make_widget, case):
    """Each refusal: one line saying what to do, non-zero exit, project byte-for-byte as was."""
    setup, args, message = PREFLIGHT[case]
    project = make_widget(locations=["lcard", "settings", "card_sdk"])
    setup(project)
    before = snapshot(project)
    done = run_cli(*args, "--defaults" if args[0] != "remove-area" else "--yes",
                   "-C", str(project))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert message in lines[0]
    assert snapshot(project) == before


def test_preflight_broken_template_store(make_widget, tmp_path, monkeypatch):
    """A store that cannot be used (not a git repo) is a one-line error; nothing changes."""
    project = make_widget(locations=["lcard", "settings"])
    home = tmp_path / "broken-home"
    (home / ".kommo-scaffold" / "template").mkdir(parents=True)
    (home / ".kommo-scaffold" / "template" / "something").write_text("x", "utf-8")
    monkeypatch.setenv("HOME", str(home))
    before = snapshot(project)
    done = run_cli("add-area", "sms", "--defaults", "-C", str(project))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a git repository" in lines[0], done.stderr
    assert snapshot(project) == before


def test_not_a_project(tmp_path):
    """A folder without .copier-answers.yml is refused with a hint."""
    done = run_cli("update", "-C", str(tmp_path))
    assert done.returncode == 2
    assert "is not inside a kommo-scaffold project" in done.stderr


def test_add_area_rejects_locations_in_data(edited_widget):
    project = edited_widget(["lcard", "settings"])
    with pytest.raises(UsageError, match="name the areas as arguments"):
        update.add_area(project, ["sms"], panel=None, data={"locations": ["sms"]},
                        interactive=False)


def test_subproject_in_a_bigger_repository(edited_widget, tmp_path):
    """A project folder inside a larger repo: only the project folder must be clean."""
    project = edited_widget(["lcard", "settings"])
    shutil.rmtree(project / ".git")
    mono = tmp_path / "mono"
    (mono / "apps").mkdir(parents=True)
    shutil.move(project, mono / "apps" / "widget")
    user_git(mono, "init", "-q")
    user_git(mono, "add", "-A")
    user_git(mono, "commit", "-q", "-m", "Monorepo")
    (mono / "elsewhere.txt").write_text("not committed, not ours", "utf-8")
    sub = mono / "apps" / "widget"
    result = update.add_area(sub, ["digital_pipeline"], panel=None, data={}, interactive=False)
    assert_area_arrived(sub, "digital_pipeline")
    assert_edits_survived(sub)
    assert "widget/images/logo_dp.png" in result.created  # relative to the project
    assert (mono / "elsewhere.txt").read_text("utf-8") == "not committed, not ours"


def test_copier_error_mid_update_restores_the_project(edited_widget):
    """copier failing inside the update (here: no terminal to ask on) changes nothing."""
    project = edited_widget(["lcard", "settings"])
    before = snapshot(project)
    with pytest.raises(UsageError, match="No terminal"):
        update.add_area(project, ["digital_pipeline"], panel=None, data={}, interactive=True)
    assert snapshot(project) == before


def test_remove_area_with_edited_callback_is_a_conflict(make_widget):
    """Code the user wrote inside the area's callback is shown in a conflict, not dropped."""
    project = make_widget(locations=["lcard", "settings", "digital_pipeline"])
    script = project / "widget" / "script.js"
    line = "        .addClass(PROJECT_CODE + '-widget ' + PROJECT_CODE + '-dp');\n"
    text = script.read_text("utf-8")
    assert text.count(line) == 1
    script.write_text(text.replace(line, "        .addClass('mine'); // USER EDIT\n"), "utf-8")
    user_git(project, "commit", "-q", "-am", "My dpSettings")
    with pytest.raises(ConflictError) as caught:
        update.remove_area(project, ["digital_pipeline"], confirm=lambda edited: True)
    assert caught.value.files == ["widget/script.js"]
    merged = script.read_text("utf-8")
    assert "<<<<<<< before updating" in merged and "// USER EDIT" in merged
    assert not (project / "widget" / "images" / "logo_dp.png").exists()
