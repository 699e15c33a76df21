"""The code is ruff and mypy --strict clean (settings in pyproject.toml).

They run as tests so that the one test command checks everything, in parallel with the rest.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          text=True, check=False)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "kommo_scaffold", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing():
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
