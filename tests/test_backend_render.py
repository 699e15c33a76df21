"""The back end is generated for exactly the chosen back-end areas, always lints, carries
user text safely, and grows with plain `copier update`."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import USER_GIT_ENV, run_copier, user_git
from test_backend import SECRET, PhpServer, dp_body, make_project

from kommo_scaffold.catalog.areas import AREA_BY_CODE, AREA_CODES, BACKEND_AREAS

needs_php = pytest.mark.skipif(shutil.which("php") is None,
                               reason="php is not installed (CI installs php-cli)")

CARD_AREAS = [code for code in AREA_CODES if AREA_BY_CODE[code].kind == "card"]
ROUTES = {code: AREA_BY_CODE[code].backend_route for code in BACKEND_AREAS}
# PHP files each back-end area adds, on top of the front controller and the framework.
AREA_PHP = {
    "digital_pipeline": {"src/Dp.php", "hooks/dp.php"},
    "sms": {"src/Sms.php", "hooks/sms.php"},
    "salesbot_designer": {"src/Salesbot.php", "hooks/salesbot.php"},
}
# Every back end: the front controller, the framework, the one token check and the widget's
# own /widget/<action> route with its hook.
BASE_PHP = {"public/index.php", "src/App.php", "src/config.php", "bin/dev-token.php",
            "src/Jwt.php", "src/Widget.php", "hooks/widget.php", "src/Kommo.php",
            "src/OAuth.php"}


def valid_locations(locations: list[str]) -> list[str]:
    """Add a card area where the catalog demands one (card_sdk)."""
    needs = {n for code in locations for n in AREA_BY_CODE[code].requires_any}
    if needs and not needs & set(locations):
        locations = [*locations, "lcard"]
    return locations


def random_combinations(count: int, seed: int = 5) -> list[list[str]]:
    rng = random.Random(seed)
    combos = []
    for _ in range(count):
        picked = rng.sample(AREA_CODES, rng.randint(1, 6))
        if not set(picked) & set(BACKEND_AREAS):
            picked.append(rng.choice(BACKEND_AREAS))  # these tests are about the back end
        combos.append(valid_locations(picked))
    return combos


COMBINATIONS = ([valid_locations([code]) for code in AREA_CODES] + [list(AREA_CODES)]
                + random_combinations(6))
# The `backend` answer on widgets without a back-end area (each kind of area, and where the
# script's call button goes: card panel, advanced page, settings modal).
WITH_BACKEND = [["lcard"], ["llist"], ["advanced_settings", "clist"],
                ["widget_page", "everywhere"]]


def php_files(project: Path) -> set[str]:
    backend = project / "backend"
    if not backend.exists():
        return set()
    return {p.relative_to(backend).as_posix() for p in backend.rglob("*.php")}


def expected_php(locations: list[str], backend: bool = False) -> set[str]:
    chosen = [code for code in locations if code in BACKEND_AREAS]
    if not chosen and not backend:
        return set()
    return BASE_PHP.union(*(AREA_PHP[code] for code in chosen))


def php_lint(path: Path) -> None:
    result = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"


def php_eval(project: Path, code: str) -> str:
    result = subprocess.run(["php", "-r", code], cwd=project, capture_output=True, text=True,
                            check=True)
    return result.stdout


@pytest.mark.parametrize("locations", COMBINATIONS, ids=lambda ls: "areas:" + "+".join(ls))
def test_backend_matches_the_areas_and_lints(make_widget, locations: list[str]) -> None:
    project = make_widget(locations=locations)
    assert php_files(project) == expected_php(locations)
    if not expected_php(locations):
        # Nothing of the back end exists without a back-end area.
        assert not (project / "backend").exists()
        return
    assert (project / "backend" / "README.md").is_file()
    assert (project / "backend" / ".env.example").is_file()
    if shutil.which("php") is None:
        pytest.skip("php is not installed (CI installs php-cli)")
    for name in sorted(php_files(project)):
        php_lint(project / "backend" / name)
    config = json.loads(php_eval(project, "echo json_encode(require 'backend/src/config.php');"))
    assert list(config["routes"]) == [ROUTES[c] for c in BACKEND_AREAS if c in locations] + [
        "/widget", "/oauth"]


@pytest.mark.parametrize("locations", WITH_BACKEND, ids=lambda ls: "areas:" + "+".join(ls))
def test_backend_answer_gives_any_widget_the_back_end(make_widget, locations: list[str]) -> None:
    project = make_widget(locations=locations, backend=True)
    assert php_files(project) == BASE_PHP
    config = (project / "backend" / "src" / "config.php").read_text("utf-8")
    assert "'/widget' => 'Widget'" in config
    script = (project / "widget" / "script.js").read_text("utf-8")
    assert 'var BACKEND_URL = "https://example.com/widget_1";' in script
    assert script.count("addBackendButton(") == 2  # defined once, drawn in one place
    if shutil.which("php") is not None:
        for name in sorted(php_files(project)):
            php_lint(project / "backend" / name)


def test_no_leftover_template_syntax(make_widget) -> None:
    project = make_widget(locations=["lcard", *BACKEND_AREAS])
    for path in (project / "backend").rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8")
            assert "{%" not in text and "{#" not in text, path
            # Only README documents Salesbot's {{json.<key>}} placeholders.
            if "{{" in text:
                assert path.name in {"README.md", "salesbot.php", "Salesbot.php"}, path


def test_readme_documents_routes_and_settings(make_widget) -> None:
    project = make_widget(locations=["lcard", "digital_pipeline", "sms"])
    readme = (project / "backend" / "README.md").read_text("utf-8")
    for needle in ("POST /dp", "POST /sms", "KOMMO_CLIENT_SECRET", "KOMMO_DP_ACCOUNT_IDS",
                   "KOMMO_BACKEND_LOG",
                   "php -d display_errors=0 -S 127.0.0.1:8000 -t backend/public",
                   "KOMMO_DP_SECRET", "php backend/bin/dev-token.php", "does not authenticate",
                   "cloudflared", "ngrok", "ssh -R", "hooks/dp.php", "hooks/sms.php"):
        assert needle in readme, needle
    assert "/salesbot" not in readme
    for needle in ("GET /oauth/callback", "Kommo::forAccount", "KOMMO_CLIENT_ID",
                   "KOMMO_REDIRECT_URI", "KOMMO_ACCESS_TOKEN", "KOMMO_API_BASE_URL"):
        assert needle in readme, needle
    env = (project / "backend" / ".env.example").read_text("utf-8")
    assert env.count("KOMMO_ACCESS_TOKEN=") == 1 and "KOMMO_DP_ACCOUNT_IDS=" in env
    with_bot = make_widget(locations=["lcard", "salesbot_designer"])
    env = (with_bot / "backend" / ".env.example").read_text("utf-8")
    assert env.count("KOMMO_ACCESS_TOKEN=") == 1, env


HOSTILE = ("Q\"uote' back\\slash\\' \\\\ end\nsecond line <?php echo 1; ?> ?> */ "
           "Привет 日本 ✓ {{ 7*7 }} `x` #")


@needs_php
def test_user_text_lands_safely_in_php(make_widget) -> None:
    project = make_widget(widget_name=HOSTILE, widget_code="hostile",
                          locations=["lcard", *BACKEND_AREAS])
    for name in php_files(project):
        php_lint(project / "backend" / name)
    config = json.loads(php_eval(project, "echo json_encode(require 'backend/src/config.php');"))
    assert config["widget_name"] == HOSTILE
    assert config["widget_code"] == "hostile"
    php = PhpServer(project, {"KOMMO_CLIENT_SECRET": SECRET}).start()
    try:
        assert php.request("GET", "/").json()["widget_name"] == HOSTILE
    finally:
        php.stop()
    title = (project / "backend" / "README.md").read_text("utf-8").splitlines()[0]
    # Markdown: one line (the newline folded), tags escaped so they render as text.
    assert title.startswith("# Back end of ") and "second line \\<?php" in title


@needs_php
def test_copier_update_adds_the_dp_route(tmp_path: Path) -> None:
    """Plain `copier update` adds /dp later, keeping the developer's edited hooks."""
    project = make_project(tmp_path / "grow", locations=["lcard", "sms"])
    assert not (project / "backend" / "src" / "Dp.php").exists()
    sms_hook = project / "backend" / "hooks" / "sms.php"
    edited = sms_hook.read_text("utf-8").replace(
        "    // Replace with your provider's API call.", "    // my provider: Acme SMS\n"
        "    // Replace with your provider's API call.")
    sms_hook.write_text(edited, "utf-8")
    user_git(project, "commit", "-qam", "My SMS provider")

    result = run_copier("update", "--defaults", "--skip-answered",
                        "-d", "locations=[lcard, sms, digital_pipeline]",
                        cwd=project, env=USER_GIT_ENV)
    assert result.returncode == 0, result.stderr

    assert {"src/Dp.php", "hooks/dp.php"} <= php_files(project)
    assert sms_hook.read_text("utf-8") == edited
    assert "<<<<<<<" not in (project / "backend" / "src" / "config.php").read_text("utf-8")
    for name in php_files(project):
        php_lint(project / "backend" / name)
    manifest = json.loads((project / "widget" / "manifest.json").read_text("utf-8"))
    assert manifest["dp"]["webhook_url"].endswith("/dp")
    php = PhpServer(project, {"KOMMO_CLIENT_SECRET": SECRET}).start()
    try:
        assert php.request("GET", "/").json()["routes"] == ["/dp", "/sms", "/widget", "/oauth"]
        assert php.request("POST", "/dp", dp_body()).status == 200
    finally:
        php.stop()
