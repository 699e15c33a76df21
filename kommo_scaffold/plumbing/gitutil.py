"""Running git: quietly, without prompts, with one-line errors, whatever the user's config.

Every call passes options that make git's answers independent of the user's configuration
(no pager, no colour, unquoted paths, no fsmonitor, no hooks), and every listing we parse is
NUL-separated (``-z``) and read as bytes, so no file name can be misread or crash decoding.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kommo_scaffold.errors import ScaffoldError

# Used when the machine has no git identity, so generating a project never fails on commit.
FALLBACK_IDENTITY = ("kommo-scaffold", "kommo-scaffold@localhost")
# Configuration that would change what git prints or does for the commands we run. The last
# two: `git commit` starts `git maintenance run --auto` (and gc may go on in the background);
# a command interrupted while such a child runs kills git, not the child, which then writes
# into a folder the command is removing ("Directory not empty").
_STABLE = ("--no-pager", "-c", "core.quotepath=off", "-c", "color.ui=false",
           "-c", "core.fsmonitor=false", "-c", f"core.hooksPath={os.devnull}",
           "-c", "advice.detachedHead=false", "-c", "maintenance.auto=false", "-c", "gc.auto=0")
# The same two settings for the git processes copier starts (GIT_CONFIG_COUNT, git-config(1)).
NO_BACKGROUND_WORK_ENV = {"GIT_CONFIG_COUNT": "2",
                          "GIT_CONFIG_KEY_0": "maintenance.auto", "GIT_CONFIG_VALUE_0": "false",
                          "GIT_CONFIG_KEY_1": "gc.auto", "GIT_CONFIG_VALUE_1": "0"}


class GitUnusable(ScaffoldError):
    """git itself cannot work here (not installed, or it refuses the repository): no
    repository or store kommo uses is at fault, and the message says what fixes it."""


# git >= 2.35.2 refuses a repository owned by another user (safe.directory, git-config(1)).
_DUBIOUS = re.compile(r"detected dubious ownership in repository at '(?P<path>[^\n]*)'")


def _run(args: tuple[str, ...], cwd: Path | None, env: dict[str, str] | None,
         input_bytes: bytes | None) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
                "LC_ALL": "C", **(env or {})}
    try:
        result = subprocess.run(["git", *_STABLE, *args], cwd=cwd, env=full_env,
                                input=input_bytes, capture_output=True, check=False)
    except FileNotFoundError as error:
        if cwd is not None and not Path(cwd).is_dir():
            raise ScaffoldError(f"No folder {cwd}") from error
        raise GitUnusable("git is not installed (no git on PATH); kommo-scaffold needs it: "
                          "install git (e.g. apt-get install git) and run the command "
                          "again") from error
    except NotADirectoryError as error:
        raise ScaffoldError(f"{cwd} is not a folder") from error
    if result.returncode != 0:
        _refuse_dubious_ownership(result.stderr)
    return result


def _refuse_dubious_ownership(stderr: bytes) -> None:
    """git's ownership refusal, whatever the caller expected: git gives no answer in such a
    repository (it is not "no repository"), and only the user can decide to trust it."""
    match = _DUBIOUS.search(os.fsdecode(stderr))
    if match:
        path = match["path"]
        raise GitUnusable(f"git refuses to work in {path}: the repository is owned by another "
                          "user (git's safe.directory check); if you trust it, run: git config "
                          f"--global --add safe.directory {shlex.quote(path)}")


def _failure(args: tuple[str, ...], result: subprocess.CompletedProcess[bytes]) -> ScaffoldError:
    text = os.fsdecode(result.stderr or result.stdout).strip().splitlines()
    return ScaffoldError(f"git {args[0]} failed: {text[-1] if text else 'no output'}")


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        input_text: str | None = None, check: bool = True) -> str:
    """Run git and return its stdout; raise ScaffoldError with git's last message line."""
    result = _run(args, cwd, env, os.fsencode(input_text) if input_text is not None else None)
    if check and result.returncode != 0:
        raise _failure(args, result)
    return os.fsdecode(result.stdout)


def git_bytes(*args: str, cwd: Path | None = None, input_bytes: bytes | None = None,
              check: bool = True) -> bytes:
    """Run git and return its raw stdout (for -z listings and blob contents)."""
    result = _run(args, cwd, None, input_bytes)
    if check and result.returncode != 0:
        raise _failure(args, result)
    return result.stdout


def split_z(output: bytes) -> list[str]:
    """A NUL-separated git listing as file-system strings (non-UTF-8 names survive)."""
    return [os.fsdecode(item) for item in output.split(b"\0") if item]


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
    """Commit everything in a repository we just created (signing and hooks off)."""
    git("-c", "core.autocrlf=false", "add", "-A", cwd=cwd)
    git(*identity_args(cwd), "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify",
        "-m", message, cwd=cwd)


def is_repo_root(path: Path) -> bool:
    top = git("rev-parse", "--show-toplevel", cwd=path, check=False).strip()
    return bool(top) and Path(top).resolve() == path.resolve()


def project_prefix(path: Path) -> str:
    """The project folder relative to the repository root ('' or 'apps/widget/')."""
    return git("rev-parse", "--show-prefix", cwd=path).strip()


@dataclass(frozen=True)
class StatusEntry:
    code: str  # porcelain v1 XY, e.g. "??", " M", "UU", "!!"
    path: str  # relative to the project folder


def status(path: Path, ignored: bool = False) -> list[StatusEntry]:
    """Every change under the project folder, untracked files always included.

    ``--untracked-files=all`` overrides status.showUntrackedFiles=no (which would hide
    untracked files); ``ignored`` adds ignored files ("!!") too.
    """
    prefix = project_prefix(path)
    args = ["status", "--porcelain=v1", "-z", "--untracked-files=all",
            "--ignore-submodules=none", "--no-renames"]
    if ignored:
        args.append("--ignored=matching")
    items = split_z(git_bytes(*args, "--", ".", cwd=path))
    return [StatusEntry(item[:2], item[3:].removeprefix(prefix)) for item in items
            if len(item) > 3]


def status_lines(path: Path) -> list[str]:
    """`git status --porcelain` lines for the project folder (untracked files included)."""
    return [f"{entry.code} {entry.path}" for entry in status(path)]


def conflicted_files(path: Path) -> list[str]:
    """Unmerged files under ``path``, relative to it (the project may be a subproject)."""
    prefix = project_prefix(path)
    names = split_z(git_bytes("diff", "--name-only", "-z", "--diff-filter=U", "--no-renames",
                              "--", ".", cwd=path))
    return sorted({name.removeprefix(prefix) for name in names})


def tracked_files(path: Path) -> dict[str, str]:
    """Tracked files under the project: path (relative to it) -> ls-files -v tag.

    The tag is "H" for an ordinary file, "S" for skip-worktree and a lower-case letter for
    assume-unchanged: both hide local edits from `git status`.
    """
    prefix = project_prefix(path)
    files = {}
    for item in split_z(git_bytes("ls-files", "-v", "-z", "--", ".", cwd=path)):
        tag, name = item[:1], item[2:]
        files[name.removeprefix(prefix)] = tag
    return files


def ignored_among(path: Path, names: list[str]) -> list[str]:
    """Those of ``names`` (relative to the project) that git ignores (.gitignore, exclude)."""
    if not names:
        return []
    stdin = b"".join(os.fsencode(name) + b"\0" for name in names)
    out = git_bytes("check-ignore", "-z", "--stdin", "--no-index", cwd=path,
                    input_bytes=stdin, check=False)
    return split_z(out)
