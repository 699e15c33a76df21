"""What docs/updating.md says plain `copier update` prints for a wrong answer or version:
each documented command fails with exit code 1, ends with the documented line, and leaves
the project as it was."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, rendered, run_copier

from kommo_scaffold.engine import store


def documented() -> list[tuple[str, str]]:
    """(command, last line of copier's output) pairs of the docs' text block."""
    text = (REPO / "docs" / "updating.md").read_text("utf-8")
    block = re.search(r"A wrong answer stops plain copier.*?```text\n(.*?)```", text, re.S)
    assert block, "docs/updating.md lost its block of plain copier errors"
    lines = block[1].splitlines()
    return list(zip(lines[::2], lines[1::2], strict=True))


@pytest.mark.parametrize(("command", "last_line"), documented())
def test_plain_copier_fails_as_documented(tmp_path: Path, command: str, last_line: str) -> None:
    project = rendered(tmp_path / "w", {"locations": ["lcard", "settings"]})
    store.sync()  # plain copier finds the template in this HOME's store (the render is cached)
    args = shlex.split(command)
    assert args[0] == "copier"
    done = run_copier(*args[1:], cwd=project)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1] == last_line
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True,
                            text=True, check=True)
    assert status.stdout == ""
