"""Shared fixtures.

Every test session gets its own HOME, so the template store (~/.kommo-scaffold/template) is
built from the working-tree template, never from whatever a developer's machine holds, and
git sees no global identity (the generator must cope with that).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "templates" / "widget"
# Identity for commits the tests make as "the user"; the generator itself must not need it.
USER_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "user@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "user@example.com",
}


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    keys = ("HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM", "PYTHONPATH")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["HOME"] = str(home)
    # CLI subprocesses import this checkout too, not some other installed copy.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved["PYTHONPATH"]]))
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def user_git(project: Path, *args: str) -> str:
    """Run git in ``project`` as the user would (with an identity)."""
    result = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True,
                            env={**os.environ, **USER_GIT_ENV}, check=True)
    return result.stdout


def run_cli(*args: str, cwd: Path | None = None, input_text: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `kommo` CLI in a subprocess (as a user would)."""
    return subprocess.run(
        [sys.executable, "-c", "from kommo_scaffold.cli import main; main()", *args],
        cwd=cwd, input=input_text, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, check=False,
    )


@pytest.fixture
def make_widget(tmp_path: Path) -> Callable[..., Path]:
    """Generate a widget project in-process: make_widget(locations=[...], **answers)."""
    from kommo_scaffold import generate

    counter = {"n": 0}

    def make(name: str | None = None, **answers: Any) -> Path:
        counter["n"] += 1
        dest = tmp_path / (name or f"widget-{counter['n']}")
        generate.create(dest, answers, defaults=True)
        return dest

    return make


def tool(name: str) -> str | None:
    return shutil.which(name)
