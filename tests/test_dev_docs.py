"""Every shell example in docs/dev-loop.md runs, in order, in a fresh folder."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time

import pytest
from conftest import REPO, tool

DOC = REPO / "docs" / "dev-loop.md"


def shell_lines() -> list[str]:
    text = DOC.read_text("utf-8")
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines.extend(line.strip() for line in block.splitlines() if line.strip())
    return lines


def _run_dev(command: str, cwd) -> str:
    """Start a documented `kommo dev`, wait until it is ready, Ctrl-C it; its output."""
    process = subprocess.Popen(shlex.split(command), cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops" in line:
                process.send_signal(signal.SIGINT)
                break
        out, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    text = "".join(lines) + out
    if "is in use; try kommo dev --port" in text:
        assert process.returncode == 2 and len(text.strip().splitlines()) == 1, text
    else:
        assert process.returncode == 0 and "kommo dev stopped" in text, text
    return text


@pytest.mark.skipif(tool("node") is None or tool("kommo") is None,
                    reason="needs node and the installed kommo command")
def test_every_shell_example_runs(tmp_path):
    lines = shell_lines()
    assert any(line.startswith("kommo dev") for line in lines)
    cwd = tmp_path
    for line in lines:
        command = line.split("  #")[0].strip()
        if command.startswith("cd "):
            cwd = cwd / command[3:]
            assert cwd.is_dir(), command
        elif command.startswith("kommo dev"):
            _run_dev(command, cwd)
        elif command == "npm test" and tool("npm") is None:
            continue
        else:
            done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True,
                                  text=True, timeout=300, check=False)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
