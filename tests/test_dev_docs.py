"""Every shell example in docs/dev-loop.md runs, in order, in a fresh folder."""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import subprocess
import threading
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
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        # A generous deadline: the machine may be busy; a silent, hung start still fails.
        deadline = time.monotonic() + 120
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if "Ctrl-C stops" in line:
                process.send_signal(signal.SIGINT)
                break
        assert any("Ctrl-C stops" in line for line in seen) or process.poll() is not None, (
            f"`{command}` neither got ready nor stopped:\n{''.join(seen)}")
        process.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    while not lines.empty():  # what came after the ready line, up to the end
        rest = lines.get_nowait()
        if rest is not None:
            seen.append(rest)
    text = "".join(seen)
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
