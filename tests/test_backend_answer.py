"""The `backend` answer: any widget may have the PHP back end, added at creation or later
with plain `copier update` or `kommo set`, keeping the user's edits; refused where an area
needs the back end anyway."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import USER_GIT_ENV, rendered, run_cli, run_copier, user_git

from kommo_scaffold.catalog import areas
from kommo_scaffold.errors import UsageError
from kommo_scaffold.scaffold import answers, prompts, reanswer
from kommo_scaffold.scaffold.answers import validate

USER_LINE = "        // USER EDIT: my render code\n"
HOOK_EDIT = "    // USER EDIT: my ping\n"


def never(_: list[str]) -> bool:
    raise AssertionError("nothing edited should be deleted")


def edited_project(dest: Path, **answers_: object) -> Path:
    """A committed project whose script.js the user edited."""
    rendered(dest, {"widget_code": "grow", **answers_})
    script = dest / "widget" / "script.js"
    anchor = "      render: function () {\n"
    script.write_text(script.read_text("utf-8").replace(anchor, anchor + USER_LINE, 1), "utf-8")
    user_git(dest, "commit", "-qam", "my render code")
    return dest


def commit(project: Path, message: str) -> None:
    user_git(project, "add", "-A")
    user_git(project, "commit", "-qm", message)


def recorded(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))


def assert_has_backend(project: Path) -> None:
    assert (project / "backend" / "hooks" / "widget.php").is_file()
    assert (project / "backend" / "src" / "Widget.php").is_file()
    script = (project / "widget" / "script.js").read_text("utf-8")
    assert USER_LINE in script
    assert 'var BACKEND_URL = "https://' in script and "callBackend('ping')" in script
    assert recorded(project)["backend"] is True


# --- the question --------------------------------------------------------------------------

def test_asked_only_without_a_back_end_area(tmp_path: Path) -> None:
    from conftest import TEMPLATE

    base = {"widget_name": "W", "widget_code": "w", "widget_description": "d",
            "short_description": "s", "panel_locations": [], "installation": False,
            "settings_fields": [], "widget_version": "1.0.0", "locales": ["en"],
            "support_email": "", "support_link": "", "init_once": False,
            "language": "javascript"}
    asked = prompts.missing_answers({**base, "locations": ["llist"]}, TEMPLATE)
    assert asked == ["backend"]
    asked = prompts.missing_answers({**base, "locations": ["llist"], "backend": True}, TEMPLATE)
    assert asked == ["backend_url"]
    for code in areas.BACKEND_AREAS:
        asked = prompts.missing_answers({**base, "locations": [code]}, TEMPLATE)
        assert "backend" not in asked and "backend_url" in asked, code


@pytest.mark.parametrize(("given", "message"), [
    ({"backend": "maybe", "locations": ["lcard"]}, "backend must be true or false"),
    ({"backend": False, "locations": ["lcard", "sms"]},
     "backend=false: sms cannot work without the back end"),
    ({"backend": False, "locations": ["digital_pipeline", "salesbot_designer"]},
     "backend=false: digital_pipeline, salesbot_designer cannot work"),
])
def test_contradictions_are_refused(given: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        validate(given)


def test_the_catalog_decides() -> None:
    assert areas.has_backend(["lcard"], True) and not areas.has_backend(["lcard"])
    assert all(areas.has_backend([code]) for code in areas.BACKEND_AREAS)
    assert areas.backend_needed_by(["lcard", "sms"]) == ["sms"]


# --- kommo-new ---------------------------------------------------------------------------------

def test_kommo_new_with_backend_true(tmp_path: Path) -> None:
    result = run_cli("new", "w", "--defaults", "-d", "backend=true", "-d", "locations=[llist]",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "w"
    assert (project / "backend" / "hooks" / "widget.php").is_file()
    assert recorded(project)["backend"] is True
    assert "backend_url" in recorded(project)


def test_kommo_new_refuses_backend_false_with_a_back_end_area(tmp_path: Path) -> None:
    result = run_cli("new", "w", "--defaults", "-d", "backend=false", "-d", "locations=[sms]",
                     cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sms cannot work without the back end" in lines[0], lines
    assert not (tmp_path / "w").exists()


# --- later ----------------------------------------------------------------------------------

def test_plain_copier_update_adds_it(tmp_path: Path) -> None:
    project = edited_project(tmp_path / "w", locations=["lcard", "settings"])
    assert not (project / "backend").exists()
    result = run_copier("update", "--defaults", "-d", "backend=true", cwd=project,
                        env=USER_GIT_ENV)
    assert result.returncode == 0, result.stderr
    assert_has_backend(project)


def test_kommo_set_adds_it_and_takes_it_away(tmp_path: Path) -> None:
    project = edited_project(tmp_path / "w", locations=["advanced_settings", "clist"])
    with pytest.raises(UsageError, match="backend_url belongs to the back end"):
        reanswer.set_answers(project, ["backend_url=https://api.example/w"], never)
    result = reanswer.set_answers(project, ["backend=true", "backend_url=https://api.example/w"],
                                  never)
    assert result.answers_changed == {"backend": True, "backend_url": "https://api.example/w"}
    assert_has_backend(project)
    assert 'var BACKEND_URL = "https://api.example/w";' in (
        project / "widget" / "script.js").read_text("utf-8")
    assert "addBackendButton($content);" in (project / "widget" / "script.js").read_text("utf-8")
    commit(project, "back end")
    with pytest.raises(UsageError, match="already has these answers"):
        reanswer.set_answers(project, ["backend=true"], never)

    # The user's own action survives a later change of the answers, and is asked about
    # before `backend=false` deletes it.
    hook = project / "backend" / "hooks" / "widget.php"
    anchor = "function widget_ping(WidgetRequest $r): array\n{\n"
    hook.write_text(hook.read_text("utf-8").replace(anchor, anchor + HOOK_EDIT), "utf-8")
    commit(project, "my ping")
    reanswer.set_answers(project, ["backend_url=https://api2.example/w"], never)
    assert HOOK_EDIT in hook.read_text("utf-8")
    commit(project, "moved")
    asked: list[list[str]] = []
    reanswer.set_answers(project, ["backend=false"], lambda files: asked.append(files) or True)
    assert asked == [["backend/hooks/widget.php"]]
    assert not (project / "backend").exists()
    script = (project / "widget" / "script.js").read_text("utf-8")
    assert USER_LINE in script and "BACKEND_URL" not in script
    assert recorded(project)["backend"] is False


def test_kommo_set_refuses_what_an_area_decides(tmp_path: Path) -> None:
    project = edited_project(tmp_path / "w", locations=["lcard", "sms"])
    before = user_git(project, "rev-parse", "HEAD")
    result = run_cli("set", "backend=false", "-C", str(project))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sms cannot work without the back end" in lines[0], lines
    with pytest.raises(UsageError, match=r"already has the back end \(sms needs it\)"):
        reanswer.set_answers(project, ["backend=true"], never)
    assert user_git(project, "rev-parse", "HEAD") == before
    assert user_git(project, "status", "--porcelain") == ""
    assert "backend" not in recorded(project)  # never asked, never recorded


def test_parse_types_the_answer() -> None:
    from kommo_scaffold.engine import store

    questions = answers.load_questions(store.templates_dir() / store.TEMPLATE_NAME)
    assert answers.parse_data(["backend=yes"], None, questions) == {"backend": True}
    with pytest.raises(UsageError, match="expected true or false"):
        answers.parse_data(["backend=sometimes"], None, questions)


def test_removing_the_last_back_end_area_keeps_the_users_actions(tmp_path: Path) -> None:
    """While sms decided, copier recorded no `backend` answer; removing sms would take the
    back end with the user's own actions in hooks/widget.php: it stays (backend=true)."""
    from kommo_scaffold.scaffold import update

    project = edited_project(tmp_path / "w", locations=["lcard", "sms"])
    hook = project / "backend" / "hooks" / "widget.php"
    anchor = "function widget_ping(WidgetRequest $r): array\n{\n"
    hook.write_text(hook.read_text("utf-8").replace(anchor, anchor + HOOK_EDIT), "utf-8")
    commit(project, "my ping")
    result = update.remove_area(project, ["sms"], never)
    assert HOOK_EDIT in hook.read_text("utf-8")
    assert not (project / "backend" / "src" / "Sms.php").exists()
    assert recorded(project)["backend"] is True
    assert "kept the back end (backend=true)" in result.summary()
    commit(project, "no sms")

    # Without actions of the user's, the back end goes with its last area, as before.
    plain = edited_project(tmp_path / "p", locations=["lcard", "sms"])
    update.remove_area(plain, ["sms"], never)
    assert not (plain / "backend").exists()
