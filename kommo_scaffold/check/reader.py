"""The widget reader shared by `kommo check` and `kommo pack`: what is in the widget.

`check` judges exactly the bytes `pack` ships: both read the widget here, once. A folder is
read without ever following a symbolic link: every directory and file is opened relative to
its parent's descriptor with O_NOFOLLOW, and what was opened is checked with fstat, so a link
swapped in while the command runs cannot pull a file from outside the widget into the zip. A
zip is refused from its central directory's end record when it declares more entries than any
widget has, before a single entry is read.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from kommo_scaffold.check.registry import rule
from kommo_scaffold.check.report import Finding, kb
from kommo_scaffold.errors import UsageError

# Reading limits: a widget is a few hundred KB; anything far bigger is a mistake or a bomb.
MAX_ENTRY_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_FILES = 5000
MAX_DEPTH = 32
# Directories and files that are never part of a widget (neither checked nor packed).
JUNK_DIRS = frozenset((".git", ".hg", ".svn", "node_modules", "__MACOSX", ".idea", ".vscode",
                       "__pycache__", ".pytest_cache"))
JUNK_FILES = frozenset((".DS_Store", "Thumbs.db", "desktop.ini", ".gitignore", ".gitattributes",
                        ".editorconfig", ".copier-answers.yml", ".env", ".npmrc",
                        # build tooling: never loaded by Kommo
                        "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
                        "composer.json", "composer.lock", "tsconfig.json"))
JUNK_SUFFIXES = (".swp", ".swo", "~", ".bak", ".orig", ".tmp", ".pyc")
# Top-level folders of a widget folder that are never shipped: the default output (dist/)
# and a back end, which runs on your server, not in Kommo.
SKIP_TOP_DIRS = frozenset(("dist", "backend"))

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

KS604 = rule("KS604", "warning", "Junk file in the archive",
             "Kommo's checklist says to remove unused files; editor, OS and VCS files do not "
             "belong in a widget.", "Build the archive with `kommo pack`, which leaves them out.",
             example="widget.zip holds .DS_Store and script.js~: rebuild it with kommo pack")
KS605 = rule("KS605", "error", "Unsafe path in the archive",
             "An entry with `..` or an absolute path could write outside its folder.",
             "Rebuild the archive from the widget folder (`kommo pack`).",
             example="../../etc/cron.d/x inside widget.zip")
KS606 = rule("KS606", "error", "File too large",
             "A file is far beyond any widget file (a zip bomb or a wrong file); it was not "
             "read, so it can be neither checked nor packed.", "Remove it from the widget.",
             example="a 20 MB video in images/: link to it instead")
KS607 = rule("KS607", "error", "Files inside a wrapping folder",
             "Kommo needs manifest.json at the root of the zip, not inside a folder.",
             "Zip the contents of the widget folder (`kommo pack` does).",
             example="my-widget/manifest.json in the zip; Kommo wants manifest.json")
KS608 = rule("KS608", "error", "File cannot be read",
             "The file or archive entry is damaged, encrypted, compressed with an unsupported "
             "method, not a regular file, or not readable by you.",
             "Fix the file's permissions, or rebuild the archive with `kommo pack`.",
             example="chmod 000 script.js")
KS611 = rule("KS611", "error", "Symbolic link in the widget",
             "check and pack never follow links (a link could pull files from outside the "
             "widget into the upload), so the linked file is not in the zip.",
             "Copy the file into the widget instead of linking to it.",
             example="style.css -> ../shared/style.css: copy the file into the widget")


class CheckUsageError(UsageError):
    """PATH cannot be checked at all (missing, not a widget, not a readable zip). Exit 2."""


@dataclass
class Widget:
    """The widget's files, however they were stored, keyed by posix path from its root."""

    kind: str  # "widget project", "widget folder" or "archive"
    root: Path  # the widget folder, or the zip file
    prefix: str  # shown before file names: "widget/" in a project, "" otherwise
    data: dict[str, bytes] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def label(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def add(self, rule_id: str, message: str, name: str | None = None) -> None:
        label = self.label(name) if name is not None else None
        self.findings.append(Finding(rule_id, message, label))

    @property
    def project(self) -> Path:
        """The folder that holds the project's own files (the widget folder's parent in a
        kommo-new project)."""
        return self.root.parent if self.kind == "widget project" else self.root


def is_junk(parts: tuple[str, ...]) -> bool:
    name = parts[-1]
    return (any(p in JUNK_DIRS for p in parts[:-1]) or name in JUNK_FILES
            or name.endswith(JUNK_SUFFIXES) or name.startswith("._"))


def _open_dir(root_fd: int, parts: list[str]) -> int:
    """Open root/parts... one component at a time, never following a link."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_file(dir_fd: int, name: str, limit: int) -> tuple[int, bytes | None]:
    """(size, bytes or None if over ``limit``) of a regular file, opened without following a
    link; OSError(ELOOP) for a link, ValueError if what was opened is not a regular file."""
    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > limit:
            return info.st_size, None
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        content = b"".join(chunks)
        return len(content), (content if len(content) <= limit else None)
    finally:
        os.close(fd)


def _read_folder(widget: Widget, exclude: frozenset[str]) -> None:
    try:
        root_fd = os.open(widget.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        raise CheckUsageError(f"cannot read {widget.root}: {error.strerror}") from None
    total = 0
    try:
        stack: list[list[str]] = [[]]
        while stack:
            parts = stack.pop()
            rel_dir = "".join(f"{p}/" for p in parts)
            try:
                dir_fd = _open_dir(root_fd, parts)
            except OSError as error:
                widget.add(KS611 if error.errno in _LINK_ERRNOS else KS608,
                           f"folder changed or unreadable while reading: {error.strerror}",
                           rel_dir.rstrip("/") or ".")
                continue
            try:
                names = sorted(os.listdir(dir_fd))
                for name in names:
                    rel = rel_dir + name
                    try:
                        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                    except OSError:
                        continue  # removed while we read: it is not in the widget
                    if stat.S_ISDIR(info.st_mode):
                        if name in JUNK_DIRS or (not parts and name in SKIP_TOP_DIRS):
                            continue
                        if len(parts) >= MAX_DEPTH:
                            widget.add(KS608, f"nested deeper than {MAX_DEPTH} folders; not "
                                       "read", rel)
                            continue
                        stack.append([*parts, name])
                        continue
                    if is_junk(tuple(rel.split("/"))) or rel in exclude:
                        continue
                    if stat.S_ISLNK(info.st_mode):
                        widget.add(KS611, "is a symbolic link; it is neither checked nor "
                                   "packed", rel)
                        continue
                    if not stat.S_ISREG(info.st_mode):
                        widget.add(KS608, "not a regular file (a pipe, socket or device)", rel)
                        continue
                    if len(widget.sizes) >= MAX_FILES:
                        raise CheckUsageError(f"{widget.root} holds more than {MAX_FILES} "
                                              "files: not a widget")
                    total = _take(widget, dir_fd, name, rel, total)
            finally:
                os.close(dir_fd)
    finally:
        os.close(root_fd)


# O_NOFOLLOW on a link gives ELOOP; O_DIRECTORY on a link to a file gives ENOTDIR.
_LINK_ERRNOS = frozenset((errno.ELOOP, errno.ENOTDIR))


def _take(widget: Widget, dir_fd: int, name: str, rel: str, total: int) -> int:
    limit = min(MAX_ENTRY_BYTES, max(MAX_TOTAL_BYTES - total, 0))
    try:
        size, content = _read_file(dir_fd, name, limit)
    except OSError as error:
        if error.errno in _LINK_ERRNOS:
            widget.add(KS611, "became a symbolic link while being read; not read", rel)
        else:
            widget.add(KS608, f"cannot read: {error.strerror}", rel)
        return total
    except ValueError:
        widget.add(KS608, "changed into something other than a file while being read", rel)
        return total
    widget.sizes[rel] = size
    if content is None:
        widget.add(KS606, f"{kb(size)}: not read", rel)
        return total
    widget.data[rel] = content
    return total + size


def _unsafe(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[\\/]", name)


def zip_entry_count(path: Path) -> int:
    """The entry count the zip's end-of-central-directory record declares (zip64 too),
    read from the file's tail without parsing the central directory."""
    with path.open("rb") as stream:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        tail_size = min(size, 22 + 0xFFFF + 20)
        stream.seek(size - tail_size)
        tail = stream.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise CheckUsageError(f"cannot read {path}: not a valid zip archive")
        count = struct.unpack("<H", tail[at + 10:at + 12])[0]
        locator = at - 20
        if count == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
            offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
            stream.seek(offset)
            record = stream.read(56)
            if record[:4] == b"PK\x06\x06" and len(record) == 56:
                count = struct.unpack("<Q", record[32:40])[0]
        return int(count)


def _read_zip(widget: Widget) -> None:
    path = widget.root
    count = zip_entry_count(path)
    if count > MAX_FILES:
        raise CheckUsageError(f"{path} declares {count} entries (a widget has at most "
                              f"{MAX_FILES}): not read")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise CheckUsageError(f"cannot read {path}: not a valid zip archive ({error})") from None
    total = 0
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_FILES:
            raise CheckUsageError(f"{path} holds {len(infos)} entries: not a widget")
        for info in infos:
            name = info.filename
            if _unsafe(name):
                widget.add(KS605, f"entry {name!r} escapes the archive root; not read",
                           path.name)
                continue
            if info.is_dir():
                continue
            parts = tuple(p for p in name.split("/") if p not in ("", "."))
            if not parts:
                continue
            rel = "/".join(parts)
            if is_junk(parts):
                widget.add(KS604, "editor, OS or VCS file in the archive", rel)
                continue
            if stat.S_ISLNK(info.external_attr >> 16) and info.create_system == 3:
                widget.add(KS611, "is a symbolic link entry; Kommo gets no file", rel)
                continue
            widget.sizes[rel] = info.file_size
            limit = min(MAX_ENTRY_BYTES, max(MAX_TOTAL_BYTES - total, 0))
            if info.file_size > limit:
                widget.add(KS606, f"declares {kb(info.file_size)} uncompressed; not read", rel)
                continue
            try:
                with archive.open(info) as stream:
                    # Do not trust the declared size: read at most one byte past the limit.
                    content = stream.read(limit + 1)
            except Exception as error:  # zlib, CRC, encryption, unsupported methods, ...
                widget.add(KS608, f"{type(error).__name__}: {error}", rel)
                continue
            if len(content) > limit:
                widget.add(KS606, "inflates past the size it declares; not read", rel)
                continue
            total += len(content)
            widget.data[rel] = content
    _unwrap(widget)


def _unwrap(widget: Widget) -> None:
    """A single wrapping folder: report it, then check what is inside."""
    if "manifest.json" in widget.sizes:
        return
    tops = {name.split("/", 1)[0] for name in widget.sizes}
    if len(tops) != 1:
        return
    top = tops.pop()
    if f"{top}/manifest.json" in widget.sizes:
        widget.add(KS607, f"everything is inside {top}/; Kommo needs manifest.json at the "
                   "root of the zip", widget.root.name)
        cut = len(top) + 1
        widget.data = {k[cut:]: v for k, v in widget.data.items()}
        widget.sizes = {k[cut:]: v for k, v in widget.sizes.items()}


def locate(path: Path) -> tuple[str, Path, str]:
    """(kind, widget root or zip file, label prefix) for PATH; CheckUsageError if none."""
    if not path.exists():
        raise CheckUsageError(f"{path}: no such file or directory")
    if path.is_file():
        if path.name == "manifest.json":
            return "widget folder", path.parent, ""
        if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
            return "archive", path, ""
        raise CheckUsageError(f"{path} is neither a widget folder nor a .zip archive")
    if not path.is_dir():
        raise CheckUsageError(f"{path} is neither a widget folder nor a .zip archive")
    widget_dir = path / "widget"
    if widget_dir.is_symlink() and not (path / "manifest.json").exists():
        raise CheckUsageError(f"{widget_dir} is a symbolic link; check and pack do not follow "
                              "links")
    if (widget_dir / "manifest.json").exists() and not (path / "manifest.json").exists():
        return "widget project", widget_dir, "widget/"
    if (path / "manifest.json").exists() or (path / "manifest.json").is_symlink():
        return "widget folder", path, ""
    if (path / ".copier-answers.yml").is_file() and widget_dir.is_dir():
        return "widget project", widget_dir, "widget/"
    raise CheckUsageError(f"{path} is not a widget: no manifest.json there nor in "
                          f"{widget_dir}")


def read(path: Path, exclude: frozenset[str] = frozenset()) -> Widget:
    """Read the widget at PATH (a project, a widget folder or a zip); ``exclude`` names
    widget-relative files to leave out (pack's own output)."""
    kind, root, prefix = locate(Path(path))
    widget = Widget(kind=kind, root=root, prefix=prefix)
    if kind == "archive":
        try:
            _read_zip(widget)
        except OSError as error:
            raise CheckUsageError(f"cannot read {root}: {error.strerror or error}") from None
    else:
        _read_folder(widget, exclude)
    return widget
