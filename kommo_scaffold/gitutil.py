"""Running git: quietly, without prompts, with one-line errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kommo_scaffold.errors import ScaffoldError

# Used when the machine has no git identity, so generating a project never fails on commit.
FALLBACK_IDENTITY = ("kommo-scaffold", "kommo-scaffold@localhost")


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        input_text: str | None = None, check: bool = True) -> str:
    """Run git and return its stdout; raise ScaffoldError with git's last message line."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, env=full_env, input=input_text,
            capture_output=True, text=True, check=False,
        )
    except FileNotFoundError as error:
        raise ScaffoldError("git is not installed; kommo-scaffold needs it "
                            "(e.g. apt-get install git)") from error
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ScaffoldError(f"git {args[0]} failed: {detail[-1] if detail else 'no output'}")
    return result.stdout


def identity_args(cwd: Path) -> list[str]:
    """-c options giving git an identity only where the user has none configured."""
    configured = git("config", "--get-regexp", r"^user\.(name|email)$", cwd=cwd, check=False)
    keys = {line.split(" ", 1)[0] for line in configured.splitlines()}
    args = []
    if "user.name" not in keys:
        args += ["-c", f"user.name={FALLBACK_IDENTITY[0]}"]
    if "user.email" not in keys:
        args += ["-c", f"user.email={FALLBACK_IDENTITY[1]}"]
    return args


def commit_all(cwd: Path, message: str) -> None:
    git("add", "-A", cwd=cwd)
    git(*identity_args(cwd), "commit", "--quiet", "--no-verify", "-m", message, cwd=cwd)


def is_repo_root(path: Path) -> bool:
    top = git("rev-parse", "--show-toplevel", cwd=path, check=False).strip()
    return bool(top) and Path(top).resolve() == path.resolve()


def status_lines(path: Path) -> list[str]:
    """`git status --porcelain` lines for the project folder (untracked files included)."""
    return git("status", "--porcelain", "--", ".", cwd=path).splitlines()


def conflicted_files(path: Path) -> list[str]:
    """Unmerged files under ``path``, relative to it (the project may be a subproject)."""
    return git("diff", "--name-only", "--diff-filter=U", "--relative", cwd=path).splitlines()
