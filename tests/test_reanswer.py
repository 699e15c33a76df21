"""kommo set KEY=VALUE...: change answers later, as add-area does for areas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import run_cli, user_git

from kommo_scaffold import generate, reanswer
from kommo_scaffold.errors import ScaffoldError, UsageError
from kommo_scaffold.gitutil import status_lines

BACKEND = ["lcard", "llist", "settings", "digital_pipeline", "sms", "salesbot_designer"]
USER_LINE = "        // USER EDIT: my render code\n"


def never(_: list[str]) -> bool:
    raise AssertionError("nothing edited should be deleted")


def make(dest: Path, **answers: object) -> Path:
    answers.setdefault("locations", BACKEND)
    answers.setdefault("backend_url", "https://old.example/kommo/")
    generate.create(dest, dict(answers), defaults=True)
    script = dest / "widget" / "script.js"
    text = script.read_text("utf-8")
    anchor = "      render: function () {\n"
    script.write_text(text.replace(anchor, anchor + USER_LINE, 1), "utf-8")
    user_git(dest, "commit", "-qam", "my render code")
    return dest


def manifest(project: Path) -> dict:
    return json.loads((project / "widget" / "manifest.json").read_text("utf-8"))


def recorded(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))


def head(project: Path) -> str:
    return user_git(project, "rev-parse", "HEAD").strip()


def test_backend_url_moves_every_derived_url(tmp_path: Path) -> None:
    project = make(tmp_path / "w")
    result = reanswer.set_answers(project, ["backend_url=https://new.example/api/"], never)
    assert result.answers_changed == {"backend_url": "https://new.example/api/"}
    data = manifest(project)
    assert data["dp"]["webhook_url"] == "https://new.example/api/dp"
    assert data["sms"]["endpoint"] == "https://new.example/api/sms"
    script = (project / "widget" / "script.js").read_text("utf-8")
    assert 'var SALESBOT_URL = "https://new.example/api/salesbot";' in script
    assert USER_LINE in script
    assert recorded(project)["_commit"] == result.version_from == result.version_to
    assert "Changed backend_url" in result.summary()


def test_explicit_endpoint_stays(tmp_path: Path) -> None:
    project = make(tmp_path / "w", dp_webhook_url="https://hooks.example/dp/s3cret")
    reanswer.set_answers(project, ["backend_url=https://new.example"], never)
    data = manifest(project)
    assert data["dp"]["webhook_url"] == "https://hooks.example/dp/s3cret"
    assert data["sms"]["endpoint"] == "https://new.example/sms"


def test_endpoint_recorded_at_the_old_derived_value_follows(tmp_path: Path) -> None:
    """Projects of the v0.1.0 template recorded <backend_url>/dp explicitly."""
    project = make(tmp_path / "w", backend_url="https://old.example",
                   dp_webhook_url="https://old.example/dp",
                   sms_endpoint="https://old.example/sms")
    reanswer.set_answers(project, ["backend_url=https://new.example"], never)
    data = manifest(project)
    assert data["dp"]["webhook_url"] == "https://new.example/dp"
    assert data["sms"]["endpoint"] == "https://new.example/sms"
    assert recorded(project)["dp_webhook_url"] == ""


def test_panel_and_locales_in_one_command_via_cli(tmp_path: Path) -> None:
    project = make(tmp_path / "w")
    done = run_cli("set", "panel_locations=[lcard, llist]", "locales=[en, ru]",
                   "-C", str(project))
    assert done.returncode == 0, done.stderr
    assert "Changed panel_locations, locales" in done.stdout
    assert manifest(project)["locations"][:2] == ["lcard-1", "llist-1"]
    assert (project / "widget" / "i18n" / "ru.json").is_file()
    assert USER_LINE in (project / "widget" / "script.js").read_text("utf-8")


def test_dropping_an_edited_locale_asks_first(tmp_path: Path) -> None:
    project = make(tmp_path / "w", locales=["en", "ru"])
    ru = project / "widget" / "i18n" / "ru.json"
    ru.write_text(ru.read_text("utf-8").replace("{", '{\n  "mine": "перевод",', 1), "utf-8")
    user_git(project, "commit", "-qam", "my translation")
    before = head(project)
    asked: list[list[str]] = []

    def refuse(edited: list[str]) -> bool:
        asked.append(edited)
        return False

    with pytest.raises(ScaffoldError, match="unchanged"):
        reanswer.set_answers(project, ["locales=[en]"], refuse)
    assert asked == [["widget/i18n/ru.json"]]
    assert ru.is_file() and not status_lines(project) and head(project) == before
    done = run_cli("set", "locales=[en]", "--yes", "-C", str(project))
    assert done.returncode == 0, done.stderr
    assert not ru.exists()


@pytest.mark.parametrize("pairs, message", [
    (["backend_url=ftp://x.example"], r"must be an http\(s\) URL"),
    (["backend_url=https://x.example//"], "empty path segments"),
    (["widget_code=Bad\n"], "Widget code"),
    (["nope=1"], "Unknown answer"),
    (["locations=[lcard]"], "kommo add-area"),
    (["mobile_color=#123456"], "mobile_card"),
    (["backend_url"], "KEY=VALUE"),
    (["panel_locations=[settings]"], "does not take a panel flag"),
    (["backend_url=https://old.example/kommo/"], "nothing to change"),
])
def test_refusals_leave_the_project_untouched(tmp_path: Path, pairs: list[str],
                                              message: str) -> None:
    project = make(tmp_path / "w")
    before = head(project)
    with pytest.raises(UsageError, match=message):
        reanswer.set_answers(project, pairs, never)
    assert not status_lines(project) and head(project) == before


def test_uncommitted_changes_are_refused_by_cli(tmp_path: Path) -> None:
    project = make(tmp_path / "w")
    (project / "NOTES.txt").write_text("mine\n", "utf-8")
    done = run_cli("set", "backend_url=https://new.example", "-C", str(project))
    assert done.returncode != 0
    assert "uncommitted" in done.stderr and "Traceback" not in done.stderr
    assert (project / "NOTES.txt").read_text("utf-8") == "mine\n"
    assert manifest(project)["dp"]["webhook_url"] == "https://old.example/kommo/dp"


def test_plain_copier_update_is_the_equivalent(tmp_path: Path) -> None:
    """`copier update --defaults -d backend_url=...` moves the derived URLs the same way."""
    import subprocess
    import sys

    project = make(tmp_path / "w")
    done = subprocess.run([sys.executable, "-c", "from copier._cli import CopierApp; "
                           "CopierApp.run()", "update", "--defaults", "--quiet",
                           "-d", "backend_url=https://new.example", "--vcs-ref",
                           str(recorded(project)["_commit"])],
                          cwd=project, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert manifest(project)["dp"]["webhook_url"] == "https://new.example/dp"
    assert USER_LINE in (project / "widget" / "script.js").read_text("utf-8")
