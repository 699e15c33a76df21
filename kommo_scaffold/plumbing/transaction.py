"""Change a project all-or-nothing: work on a private copy, write back only what changed.

``Snapshot.take`` copies the project's tracked files (as they are on disk) into a private
git repository in a temporary folder; copier runs there, never in the project, so nothing
outside the project is read and a failure or signal mid-way leaves the project untouched.
``Snapshot.write_back`` then, with signals held:

1. checks that no file of the project changed since the snapshot (an editor's save while the
   command ran), and that git still sees the project as it did;
2. refuses paths it would write that git does not fully track (ignored by .gitignore or
   .git/info/exclude, skip-worktree, assume-unchanged) or that lie behind a symlink;
3. writes each changed file atomically (temporary file + rename), remembering the original,
   and undoes exactly those writes if any of them fails.

Files committed with CRLF line endings are handed to copier with LF (the template's) and get
their CRLF back on the way out, so they merge like LF files instead of conflicting whole.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kommo_scaffold.errors import ScaffoldError
from kommo_scaffold.plumbing import interrupt
from kommo_scaffold.plumbing.gitutil import (
    git,
    git_bytes,
    ignored_among,
    project_prefix,
    split_z,
    status,
    tracked_files,
)

# Local configuration of the private copy: whatever the user's global config says, git must
# not convert line endings or hide files there.
_COPY_CONFIG = {"core.autocrlf": "false", "core.safecrlf": "false", "core.eol": "lf",
                "core.filemode": "true", "core.symlinks": "true", "core.ignorecase": "false",
                "status.showUntrackedFiles": "all", "commit.gpgsign": "false"}
_COPY_ENV = {"GIT_AUTHOR_NAME": "kommo-scaffold", "GIT_AUTHOR_EMAIL": "kommo@localhost",
             "GIT_COMMITTER_NAME": "kommo-scaffold", "GIT_COMMITTER_EMAIL": "kommo@localhost"}


@dataclass(frozen=True)
class _Original:
    digest: str
    mode: int
    link: bool


def _digest(path: Path) -> _Original | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return _Original(hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest(),
                         info.st_mode, True)
    if not stat.S_ISREG(info.st_mode):
        return _Original("", info.st_mode, False)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return _Original(digest.hexdigest(), info.st_mode, False)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_crlf(data: bytes) -> bool:
    """Text whose every line ends with CRLF."""
    return b"\r\n" in data and b"\0" not in data and data.count(b"\n") == data.count(b"\r\n")


def to_crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@dataclass
class Changes:
    """What copier changed in the private copy, relative to the project folder."""

    created: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[str]:
        return sorted({*self.created, *self.modified, *self.deleted})


@dataclass
class Snapshot:
    """The project as it was when the command started, and its private working copy."""

    project: Path
    copy: Path
    head: str
    originals: dict[str, _Original]
    flags: dict[str, str]
    crlf: set[str]
    mostly_crlf: bool

    @classmethod
    @contextlib.contextmanager
    def take(cls, project: Path) -> Iterator[Snapshot]:
        """Copy the tracked files into a private repository; removed again on any exit."""
        with interrupt.temporary_folder("kommo-scaffold-") as root:
            yield cls._fill(project, root / "project")

    @classmethod
    def _fill(cls, project: Path, copy: Path) -> Snapshot:
        head = git("rev-parse", "--verify", "--quiet", "HEAD", cwd=project, check=False).strip()
        flags = tracked_files(project)
        originals: dict[str, _Original] = {}
        crlf: set[str] = set()
        text_files = 0
        copy.mkdir()
        for name in flags:
            source, target = project / name, copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            original = _digest(source)
            if original is None:  # skip-worktree files may be absent: take the index's
                data = git_bytes("cat-file", "blob", f":./{name}", cwd=project)
                target.write_bytes(data)
                continue
            originals[name] = original
            if not _utf8(name):
                continue  # never a template file, and copier cannot read such names
            if original.link:
                # As git stores a link: its target as text. copier can then never write
                # through it to a file outside the project.
                target.write_bytes(os.fsencode(os.readlink(source)))
                continue
            if not stat.S_ISREG(original.mode):
                continue  # a submodule or a folder where git has a file: not ours
            data = source.read_bytes()
            if b"\0" not in data:
                text_files += 1
            if _is_crlf(data):
                crlf.add(name)
                data = data.replace(b"\r\n", b"\n")
            target.write_bytes(data)
            target.chmod(0o755 if original.mode & 0o111 else 0o644)
        git("init", "--quiet", "--initial-branch=main", cwd=copy)
        # Appended in one write, not one `git config` process each: for a key set twice the
        # last value counts (git-config(1), "CONFIGURATION FILE").
        with open(copy / ".git" / "config", "a", encoding="utf-8") as config:
            for key, value in _COPY_CONFIG.items():
                section, name = key.split(".")
                config.write(f"[{section}]\n\t{name} = {value}\n")
        # Highest-precedence attributes: no end-of-line or filter conversion in the copy.
        (copy / ".git" / "info").mkdir(exist_ok=True)
        (copy / ".git" / "info" / "attributes").write_text(
            "* -text -filter -ident -working-tree-encoding\n", "utf-8")
        git("add", "--all", "--force", "--", ".", cwd=copy)
        git("commit", "--quiet", "--no-verify", "--allow-empty", "-m", "snapshot", cwd=copy,
            env=_COPY_ENV)
        return cls(project=project, copy=copy, head=head, originals=originals, flags=flags,
                   crlf=crlf, mostly_crlf=bool(crlf) and len(crlf) * 2 >= text_files)

    # --- after copier ran in the copy --------------------------------------------------

    def changes(self) -> Changes:
        result = Changes()
        entries = []
        for entry in status(self.copy, ignored=True):  # copier may write ignored paths too
            folder = self.copy / entry.path
            if entry.path.endswith("/") and folder.is_dir() and not folder.is_symlink():
                # git lists an ignored folder once: take every file in it
                entries += [(entry.code, (Path(top) / file).relative_to(self.copy).as_posix())
                            for top, _, files in os.walk(folder) for file in files]
            else:
                entries.append((entry.code, entry.path.rstrip("/")))
        for code, name in entries:
            if "U" in code or code in ("AA", "DD"):
                result.conflicts.append(name)
            if not os.path.lexists(self.copy / name):
                result.deleted.append(name)
            elif name in self.flags:
                result.modified.append(name)
            else:
                result.created.append(name)
        for names in (result.created, result.modified, result.deleted, result.conflicts):
            names[:] = sorted(set(names))
        return result

    def _new_bytes(self, name: str) -> bytes | None:
        path = self.copy / name
        if path.is_symlink() or not path.is_file():
            return None
        data = path.read_bytes()
        if (name in self.crlf or (name not in self.flags and self.mostly_crlf)) \
                and b"\0" not in data:
            data = to_crlf(data)
        return data

    def changed_since(self) -> list[str]:
        """Project files that differ from the snapshot (edited while the command ran)."""
        changed = [name for name, original in self.originals.items()
                   if _digest(self.project / name) != original]
        changed += [name for name in tracked_files(self.project) if name not in self.flags]
        head = git("rev-parse", "--verify", "--quiet", "HEAD", cwd=self.project,
                   check=False).strip()
        if head != self.head:
            changed.append("HEAD (a commit, checkout or reset)")
        return sorted(set(changed))

    def refusals(self, changes: Changes) -> list[str]:
        """Why some path to be written is not safe to write (one phrase per path)."""
        problems = []
        written = changes.written
        for name in written:
            tag = self.flags.get(name, "H")
            if tag == "S":
                problems.append(f"{name} (skip-worktree)")
            elif tag.islower():
                problems.append(f"{name} (assume-unchanged)")
            elif name in self.originals and self.originals[name].link:
                problems.append(f"{name} (a symbolic link)")
            elif name not in self.flags and os.path.lexists(self.project / name):
                problems.append(f"{name} (exists but is not tracked)")
            else:
                for parent in Path(name).parents:
                    if str(parent) != "." and (self.project / parent).is_symlink():
                        problems.append(f"{name} (inside the symlink {parent.as_posix()})")
                        break
        problems += [f"{name} (ignored by git)"
                     for name in ignored_among(self.project, changes.created)]
        return sorted(set(problems))

    def write_back(self, changes: Changes) -> None:
        """Write the copy's changes into the project: all of them or, on failure, none."""
        with interrupt.critical():
            interrupt.pause("before-verify")
            changed = self.changed_since()
            if changed:
                raise ScaffoldError(
                    f"{', '.join(changed[:5])}{' and more' if len(changed) > 5 else ''} "
                    "changed while the command ran; nothing was written: save your work, "
                    "commit it and run the command again")
            refused = self.refusals(changes)
            if refused:
                raise ScaffoldError(
                    f"Not safe to write {', '.join(refused[:5])}"
                    f"{' and more' if len(refused) > 5 else ''}: git does not protect these "
                    "paths, so your copy could be lost; commit them (git add -f), undo the flag "
                    "(git update-index --no-skip-worktree / --no-assume-unchanged) or move "
                    "them away, then run the command again; nothing was written")
            try:
                with interrupt.temporary_folder(".kommo-write-", self.project) as staging:
                    journal = _Journal(self.project, staging)
                    try:
                        for name in changes.written:
                            journal.write(name, self._new_bytes(name), self.copy / name)
                            interrupt.pause("mid-write")
                        self._stage_conflicts(changes.conflicts)
                    except BaseException:
                        journal.undo()
                        if changes.conflicts:
                            git("reset", "--quiet", "--", *changes.conflicts, cwd=self.project,
                                check=False)
                        raise
            except OSError as error:
                raise ScaffoldError(f"Cannot write {error.filename or 'the project'}: "
                                    f"{error.strerror}; nothing was changed") from error
            if changes.written or changes.conflicts:
                interrupt.changed()

    def _stage_conflicts(self, conflicts: list[str]) -> None:
        """Give conflicted files the index stages copier gave them (git status shows UU)."""
        if not conflicts:
            return
        prefix = project_prefix(self.project)
        stages = []
        for item in split_z(git_bytes("ls-files", "-u", "-z", "--", *conflicts, cwd=self.copy)):
            info, _, name = item.partition("\t")
            mode, sha, stage = info.split()
            blob = git_bytes("cat-file", "blob", sha, cwd=self.copy)
            if name in self.crlf:
                blob = to_crlf(blob)
            stages.append((name, f"{mode} {_hash_object(self.project, name, blob)} {stage}"))
        # A mode-0 entry first removes the stage-0 entry, as update-index requires.
        lines = [f"0 {'0' * 40} 0\t{prefix}{name}\0" for name in sorted({n for n, _ in stages})]
        lines += [f"{entry}\t{prefix}{name}\0" for name, entry in stages]
        git_bytes("update-index", "-z", "--index-info", cwd=self.project,
                  input_bytes=os.fsencode("".join(lines)))


def _hash_object(project: Path, name: str, blob: bytes) -> str:
    return git_bytes("hash-object", "-w", "--stdin", f"--path={name}", cwd=project,
                     input_bytes=blob).decode().strip()


class _Journal:
    """Writes into the project, each one undoable.

    Each new file is written in STAGING (a private folder at the project root) and renamed
    over its target, so no temporary ever appears next to the target: a watcher of widget/
    (`kommo dev`) or an editor sees only the finished file.
    """

    def __init__(self, project: Path, staging: Path) -> None:
        self.project = project
        self.staging = staging
        self.undo_steps: list[tuple[Path, bytes | str | None, int]] = []
        self.made_dirs: list[Path] = []

    def _mkdirs(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self.made_dirs.append(path)

    def write(self, name: str, data: bytes | None, source: Path) -> None:
        target = self.project / name
        before: bytes | str | None = None
        mode = 0
        if target.is_symlink():
            before, mode = os.readlink(target), -1
        elif target.is_file():
            before, mode = target.read_bytes(), stat.S_IMODE(target.stat().st_mode)
        self.undo_steps.append((target, before, mode))
        if not os.path.lexists(source):
            if os.path.lexists(target):
                target.unlink()
            self._remove_empty_parents(target)
            return
        if not source.is_symlink() and not source.is_file():
            raise ScaffoldError(f"{name} is not a file in the result; nothing was changed")
        self._mkdirs(target.parent)
        try:
            self._place(self.staging / str(len(self.undo_steps)), target, data, source)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            # The target's folder is another file system (a mount inside the project):
            # only a temporary beside it can be renamed over it.
            self._place(target.with_name(f".{target.name}.kommo-{os.getpid()}"), target,
                        data, source)

    @staticmethod
    def _place(temp: Path, target: Path, data: bytes | None, source: Path) -> None:
        """Write the new content to TEMP and rename it over TARGET (atomic)."""
        try:
            if source.is_symlink():
                os.symlink(os.readlink(source), temp)
            else:
                temp.write_bytes(data or b"")
                temp.chmod(stat.S_IMODE(source.stat().st_mode))
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise

    def _remove_empty_parents(self, target: Path) -> None:
        for parent in target.parents:
            if parent == self.project or self.project not in parent.parents:
                break
            try:
                parent.rmdir()  # undo recreates it with the file
            except OSError:
                break

    def undo(self) -> None:
        for target, before, mode in reversed(self.undo_steps):
            with contextlib.suppress(OSError):
                target.parent.mkdir(parents=True, exist_ok=True)
                if os.path.lexists(target):
                    target.unlink()
                if isinstance(before, str):
                    os.symlink(before, target)
                elif before is not None:
                    target.write_bytes(before)
                    target.chmod(mode)
        for folder in reversed(self.made_dirs):
            with contextlib.suppress(OSError):
                if folder.is_dir():
                    folder.rmdir()
