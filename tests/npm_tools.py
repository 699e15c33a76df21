"""npm tools the tests run for real (tsc, DefinitelyTyped types), installed once per test
run with `npm ci` from tests/npm/package-lock.json, shared by the pytest-xdist workers."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_folder

LOCK = Path(__file__).parent / "npm"


@pytest.fixture(scope="session")
def npm_tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder whose node_modules holds the tools (one npm ci per run, under a lock)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: scripts/test.sh installs it")
    folder = run_folder(tmp_path_factory) / "test-npm"
    folder.mkdir(exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "installed").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(LOCK / name, folder / name)
            subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                            "--loglevel=error"], cwd=folder, check=True, timeout=300)
            (folder / "installed").touch()
    return folder


def tsc(tools: Path) -> Path:
    return tools / "node_modules" / ".bin" / "tsc"


def linked(project: Path, tools: Path) -> Path:
    """``project`` with the test run's npm tools as its node_modules (a link)."""
    (project / "node_modules").symlink_to(tools / "node_modules", target_is_directory=True)
    return project
