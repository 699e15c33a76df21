"""One project-changing kommo command at a time per repository.

``kommo pack`` takes the lock too: it must not zip a widget half-way through another
command's write step, nor bump a manifest.json that command is writing.

The lock is a file inside the repository's git folder (never in the work tree, so it is
never committed, listed or ignored by mistake), held with ``flock``: the kernel releases it
when the process ends in any way, so a lock left by a killed command is never in the way.
The file records the holder's pid, so a second command can say who holds it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from kommo_scaffold.errors import ScaffoldError
from kommo_scaffold.plumbing.gitutil import GitUnusable, git

LOCK_NAME = "kommo-scaffold.lock"
# How long a second command waits for the first before refusing (seconds).
WAIT_ENV = "KOMMO_SCAFFOLD_LOCK_WAIT"
DEFAULT_WAIT = 10.0
_held: set[Path] = set()  # locks this process holds: nested commands reuse them


def lock_path(project: Path) -> Path:
    git_dir = git("rev-parse", "--absolute-git-dir", cwd=project).strip()
    return Path(git_dir) / LOCK_NAME


@contextlib.contextmanager
def lock_if_in_repository(folder: Path) -> Iterator[None]:
    """The project lock where ``folder`` is in a git repository; a bare widget folder (a
    download, an unzipped archive) has no other kommo command to wait for, and neither has
    a checkout git will not work in (no git installed, or owned by another user, as in a
    CI container): no kommo command that changes a project runs there."""
    try:
        in_repository = git("rev-parse", "--absolute-git-dir", cwd=folder, check=False).strip()
    except GitUnusable:
        in_repository = ""
    if not in_repository:
        yield
        return
    with project_lock(folder, optional=True):
        yield


def _holder(handle_path: Path) -> str:
    try:
        pid = handle_path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return "another kommo command"
    return f"another kommo command (pid {pid})" if pid.isdigit() else "another kommo command"


@contextlib.contextmanager
def project_lock(project: Path, wait: float | None = None,
                 optional: bool = False) -> Iterator[None]:
    """Hold the project's lock; wait up to ``wait`` seconds for it, then refuse.

    ``optional``: where the lock file cannot be created (a read-only checkout, another
    user's repository), go on without it rather than refuse to read the project.
    """
    if wait is None:
        try:
            wait = float(os.environ.get(WAIT_ENV, DEFAULT_WAIT))
        except ValueError:
            wait = DEFAULT_WAIT
    path = lock_path(project)
    if path in _held:
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if optional and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            yield
            return
        raise ScaffoldError(f"Cannot open the lock file {path}: "
                            f"{error.strerror or error}; remove it if it is not a "
                            "file") from error
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise ScaffoldError(f"Cannot lock {path}: {error.strerror}") from error
            if time.monotonic() >= deadline:
                raise ScaffoldError(f"{_holder(path)} is changing this project right now; "
                                    "wait for it to finish and run the command again")
            time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
