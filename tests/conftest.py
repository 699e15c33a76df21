"""Shared fixtures.

Every test session gets its own HOME, so the template store (~/.kommo-scaffold/template) is
built from the working-tree template, never from whatever a developer's machine holds, and
git sees no global identity (the generator must cope with that).

Rendering a project is the slow part of most tests, so `make_widget` renders each set of
answers once per run (shared by the pytest-xdist workers, under a lock) and hands every test
its own copy, git history included.

`run_cli`, `python_c` and the `kommo`/`kommo-new` commands of `cli_bin` run the CLI in a
process forked from one that has already imported kommo_scaffold and copier
(tests/forked_cli.py, which says what a fork cannot reproduce and where real interpreters
are used instead).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import forked_cli
import pytest
from http_helpers import Stub

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "templates" / "widget"
# The JavaScript flavour's script.js in the template's project folder (a conditional name).
JS_SCRIPT = Path("widget") / "{% if is_javascript %}script.js{% endif %}.jinja"
# Identity for commits the tests make as "the user"; the generator itself must not need it.
USER_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "user@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "user@example.com",
}


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test run's folder, shared by all pytest-xdist workers (each has a folder in it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    keys = ("HOME", "XDG_CONFIG_HOME", "KOMMO_SCAFFOLD_CACHE", "GIT_CONFIG_NOSYSTEM",
            "PYTHONPATH", "PROMPT_TOOLKIT_NO_CPR")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["HOME"] = str(home)
    # CLI subprocesses import this checkout too, not some other installed copy.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved["PYTHONPATH"]]))
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    # kommo's cache (compiled templates, the preview's libraries) is shared by the
    # pytest-xdist workers: it is in the run's folder.
    os.environ["KOMMO_SCAFFOLD_CACHE"] = str(run_folder(tmp_path_factory) / "kommo-cache")
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    # pexpect is no terminal emulator: it never answers the cursor-position request that
    # prompt_toolkit sends, which then waits a second for the answer after every question.
    os.environ["PROMPT_TOOLKIT_NO_CPR"] = "1"
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


_forked_cli: forked_cli.Server | None = None


@pytest.fixture(scope="session", autouse=True)
def forked_cli_server(isolated_home: Path, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[None]:
    """The worker's forked-CLI server (tests/forked_cli.py), started on first use."""
    global _forked_cli
    _forked_cli = forked_cli.Server(tmp_path_factory.mktemp("forked-cli"))
    try:
        yield
    finally:
        _forked_cli.stop()
        _forked_cli = None


def python_c(code: str, *args: str, cwd: Path | None = None, input_text: str | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -c CODE ARGS...` with output captured, as a process forked from one that has
    already imported kommo_scaffold and copier (see tests/forked_cli.py)."""
    assert _forked_cli is not None, "the forked_cli_server fixture is session-wide and autouse"
    return _forked_cli.run(code, list(args), cwd, {**os.environ, **(env or {})}, input_text)


COPIER = "from copier.__main__ import CopierApp\nCopierApp.run()\n"  # its console script


def run_copier(*args: str, cwd: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    """Run plain copier's CLI (no kommo code runs) in a process of its own."""
    return python_c(COPIER, *args, cwd=cwd, env=env)


def run_cli(*args: str, cwd: Path | None = None, input_text: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `kommo` CLI in a process of its own (as a user would)."""
    return python_c("from kommo_scaffold.cli.app import main; main()", *args, cwd=cwd,
                    input_text=input_text, env=env)


_render: Callable[[str, dict[str, Any]], Path] | None = None


@pytest.fixture(scope="session", autouse=True)
def render_cache(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """render_cache(name, answers): a cached render of a project, to copy, never to edit."""
    global _render
    from kommo_scaffold.engine import store
    from kommo_scaffold.scaffold import generate

    cache = run_folder(tmp_path_factory) / "render-cache"
    cache.mkdir(exist_ok=True)

    def render(name: str, answers: dict[str, Any]) -> Path:
        # The folder name is part of the key: it is the default widget name.
        key = json.dumps([name, answers, str(store.templates_dir()), store.installed_version()],
                         sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        ready = cache / digest / name
        with open(cache / f"{digest}.lock", "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be rendering it right now
            if not ready.is_dir():
                staging = cache / f"{digest}.staging"
                shutil.rmtree(staging, ignore_errors=True)
                generate.create(staging / name, answers, defaults=True)
                ready.parent.mkdir(exist_ok=True)
                (staging / name).rename(ready)
                shutil.rmtree(staging)
        return ready

    _render = render
    return render


def rendered(dest: Path, answers: dict[str, Any]) -> Path:
    """A project of these answers at ``dest`` (whose name is the widget's default name): a
    copy of the run's cached render, so module fixtures of every worker share one render."""
    assert _render is not None, "the render_cache fixture is session-wide and autouse"
    return copy_project(_render(dest.name, answers), dest)


def copy_project(source: Path, dest: Path) -> Path:
    """A copy of a rendered project, git repository included."""
    shutil.copytree(source, dest, symlinks=True)
    return dest


@pytest.fixture
def make_widget(tmp_path: Path, render_cache: Callable[..., Path]) -> Callable[..., Path]:
    """A widget project of the given answers: make_widget(locations=[...], **answers)."""
    counter = {"n": 0}

    def make(name: str | None = None, **answers: Any) -> Path:
        counter["n"] += 1
        name = name or f"widget-{counter['n']}"
        return copy_project(render_cache(name, answers), tmp_path / name)

    return make


@pytest.fixture(scope="session")
def cli_bin(tmp_path_factory: pytest.TempPathFactory, forked_cli_server: None) -> Path:
    """A folder with `kommo` and `kommo-new` running this checkout, and `copier`, for PATH.

    Each runs as a fork of the worker's forked-CLI server (see tests/forked_cli.py); real/
    holds the same commands as plain scripts, which they fall back to.
    """
    assert _forked_cli is not None
    _forked_cli.start()
    folder = tmp_path_factory.mktemp("bin")
    (folder / "real").mkdir()
    # As the installed console scripts run them (kommo's pyproject.toml, copier's).
    commands = {name: f"from kommo_scaffold.cli.entry import {function}\n{function}()\n"
                for name, function in (("kommo", "main"), ("kommo-new", "new_main"))}
    commands["copier"] = COPIER
    for name, code in commands.items():
        real = folder / "real" / name
        real.write_text(f"#!{sys.executable}\n{code}", "utf-8")
        forked = folder / name
        forked.write_text(forked_cli.client_script(_forked_cli, code, real), "utf-8")
        for script in (real, forked):
            script.chmod(0o755)
    return folder


def user_path(cli_bin: Path) -> str:
    """PATH as a user of this installation has it: this checkout's kommo first, then the
    interpreter's own scripts (copier), as in a virtual environment, ahead of any version
    manager's shims, which would start a shell and a resolver before each of them."""
    return os.pathsep.join([str(cli_bin), str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])


def shell(command: str, cwd: Path, cli_bin: Path, env: dict[str, str] | None = None,
          timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command line as a user would type it, with this checkout's kommo on PATH."""
    path = user_path(cli_bin)
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **USER_GIT_ENV, "PATH": path, **(env or {})},
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)


def tool(name: str) -> str | None:
    return shutil.which(name)


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    """Kommo's return_url stand-in (records every POST), one per test module."""
    server = Stub()
    try:
        yield server
    finally:
        server.close()
