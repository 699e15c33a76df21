"""`kommo pack`: build the widget.zip Kommo expects, byte for byte reproducible.

The widget is read once, by the checker's reader: the zip holds exactly the bytes `check`
judged, so a file changed or a link swapped in between cannot slip into the upload. Files
sit at the archive root; editor, OS and VCS junk, the back end and the answers file stay out.
Entries are sorted and carry a fixed date and fixed permissions, so the same widget always
gives the same bytes. Pack refuses on errors (and on endpoints Kommo cannot reach) unless
forced. `--bump` raises widget.version only once the check has passed (a refused pack
changes nothing), and the new manifest is written only after the archive is built. `-o`
only ever replaces an earlier archive: never a source file or anything git tracks.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kommo_scaffold import check
from kommo_scaffold.catalog import version
from kommo_scaffold.check.reader import SKIP_TOP_DIRS
from kommo_scaffold.check.report import printable
from kommo_scaffold.errors import ScaffoldError, UsageError
from kommo_scaffold.plumbing import interrupt, lock

BUMP_PARTS = version.BUMP_PARTS
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class PackError(ScaffoldError):
    """The widget cannot be packed, or pack refuses to; the message says why. Exit 1."""


class PackUsageError(UsageError):
    """The command line asks for something pack cannot do (a bad --bump, a zip). Exit 2."""


@dataclass
class PackResult:
    archive: Path
    files: list[tuple[str, int]]
    size: int
    version: str | None = None
    bumped_from: str | None = None
    report: check.Report | None = None
    forced: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Packed {len(self.files)} files into {self.archive} "
                 f"({_human(self.size)})"]
        for name, size in self.files:
            lines.append(f"  {printable(name)}  {_human(size)}")
        if self.bumped_from is not None:
            lines.append(f"widget.version {self.bumped_from} -> {self.version}")
        elif self.version:
            lines.append(f"widget.version {self.version}")
        if self.report is not None:
            despite = "errors" if self.report.errors else "warnings"
            prefix = f"packed despite {despite} (--force): " if self.forced else "check: "
            lines.append(prefix + check.summary_line(self.report))
        return "\n".join(lines)


def _human(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB"


def widget_root(path: Path) -> tuple[Path, Path]:
    """(widget folder, project folder) for a kommo-new project or a plain widget folder."""
    kind, root, _ = check.locate(path)
    if kind == "archive":
        raise PackUsageError(f"{path} is an archive; pack a widget folder or a kommo-new "
                             "project")
    return root, (root.parent if kind == "widget project" else root)


def bump_version(old: str, part: str) -> str:
    try:
        return version.bump(old, part)
    except ValueError as error:
        raise PackError(f"cannot bump: {error}") from None


def bumped_manifest(text: str, part: str) -> tuple[str, str, str]:
    """(new manifest text, old version, new version); only the version value changes."""
    try:
        manifest = json.loads(text.removeprefix("\ufeff"))
    except ValueError as error:
        raise PackError(f"cannot bump: manifest.json is not valid JSON ({error})") from None
    widget = manifest.get("widget") if isinstance(manifest, dict) else None
    old = widget.get("version") if isinstance(widget, dict) else None
    if not isinstance(old, str):
        raise PackError("cannot bump: manifest.json has no widget.version string")
    new = bump_version(old, part)
    pattern = re.compile(r'("version"\s*:\s*")' + re.escape(old) + '"')
    start = text.find('"widget"')
    match = pattern.search(text, max(start, 0)) or pattern.search(text)
    if match is None:
        raise PackError("cannot bump: widget.version is written in a form pack cannot edit")
    updated = text[:match.start()] + match.group(1) + new + '"' + text[match.end():]
    check_widget = json.loads(updated.removeprefix("\ufeff")).get("widget", {})
    if check_widget.get("version") != new:
        raise PackError("cannot bump: widget.version is written in a form pack cannot edit")
    return updated, old, new


def _tracked_by_git(path: Path) -> bool:
    try:
        result = subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", path.name], cwd=path.parent,
            capture_output=True, check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"})
    except (FileNotFoundError, NotADirectoryError):
        return False
    return result.returncode == 0


def check_output(target: Path, chosen: bool = True) -> None:
    """Refuse an output path that would overwrite anything but an earlier archive (and,
    for a path the user chose with -o, anything git tracks)."""
    if target.is_symlink():
        raise PackError(f"{target} is a symbolic link; give the archive a path of its own")
    if not target.exists():
        return
    if target.is_dir():
        raise PackError(f"{target} is a folder; give a file name such as widget.zip")
    if not target.is_file():
        raise PackError(f"{target} is not a regular file; give a file name such as widget.zip")
    try:
        with target.open("rb") as stream:
            head = stream.read(4)
    except OSError as error:
        raise PackError(f"cannot write {target}: {error.strerror}") from None
    if head and head not in _ZIP_MAGIC:
        raise PackError(f"{target} exists and is not a zip archive; pack never overwrites "
                        "other files (give another -o path)")
    if chosen and _tracked_by_git(target):
        raise PackError(f"{target} is tracked by git; pack never overwrites a tracked file "
                        "(give another -o path)")


def _relative_to(path: Path, folder: Path) -> str | None:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def zip_to(target: Path, data: dict[str, bytes]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=9) as archive:
        for name in sorted(data):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr means the same everywhere
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, data[name], compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=9)


def _write_atomic(path: Path, data: bytes) -> None:
    with interrupt.temporary_file(path.parent, f".{path.name}.") as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)


def _refusal(report: check.Report, blockers: list[check.Finding]) -> str:
    first = blockers[0]
    return (f"check found {check.summary_line(report)}; first: {first.where()}: {first.rule} "
            f"{printable(first.message)} (run `kommo check`, or pack with --force)")


def pack(path: Path, output: Path | None = None, force: bool = False,
         bump: str | None = None, exclude: frozenset[str] = frozenset(),
         before: Callable[[], object] | None = None) -> PackResult:
    """Check, optionally bump widget.version, then write a deterministic widget.zip.
    ``exclude``: widget-relative files that stay out; ``before``: runs under the project's
    lock before the files are read (a TypeScript project's build)."""
    if bump is not None and bump not in BUMP_PARTS:
        raise PackUsageError(f"--bump must be one of {', '.join(BUMP_PARTS)}, not {bump!r}")
    root, project = widget_root(Path(path))
    with lock.lock_if_in_repository(project):
        if before is not None:
            before()
        return _pack(Path(path), root, project, output, force, bump, exclude)


def _pack(path: Path, root: Path, project: Path, output: str | Path | None, force: bool,
          bump: str | None, exclude: frozenset[str]) -> PackResult:
    archive_path = Path(output) if output is not None else project / "dist" / "widget.zip"
    check_output(archive_path, chosen=output is not None)
    inside = _relative_to(archive_path, root)
    if inside is not None and not inside.startswith(tuple(f"{d}/" for d in SKIP_TOP_DIRS)):
        raise PackError(f"{archive_path} is inside the widget folder, so the next pack would "
                        "ship it; write it to dist/ or outside the widget")
    widget = check.read(Path(path), exclude=exclude | frozenset({inside} if inside else ()))
    report = check.check_widget(widget, str(path))
    blockers = report.pack_blockers
    if blockers and not force:
        raise PackError(_refusal(report, blockers))
    unread = sorted(name for name in widget.sizes if name not in widget.data)
    if unread:
        raise PackError(f"cannot pack {printable(unread[0])}: it could not be read "
                        "(see `kommo check`)")
    if "manifest.json" not in widget.data:
        raise PackError(f"{root} has no manifest.json")
    data = dict(widget.data)
    found = None
    old: str | None = None
    if bump is not None:
        try:
            text = data["manifest.json"].decode("utf-8")
        except UnicodeDecodeError:
            raise PackError("cannot bump: manifest.json is not UTF-8") from None
        updated, old, found = bumped_manifest(text, bump)
        data["manifest.json"] = updated.encode("utf-8")
    else:
        try:
            manifest = json.loads(data["manifest.json"].decode("utf-8-sig"))
            value = manifest.get("widget", {}).get("version") if isinstance(manifest, dict) \
                else None
            found = value if isinstance(value, str) else None
        except (ValueError, AttributeError):
            found = None
    _write(archive_path, data, root / "manifest.json" if bump is not None else None)
    return PackResult(archive=archive_path, files=[(name, len(data[name])) for name in
                                                   sorted(data)],
                      size=archive_path.stat().st_size, version=found, bumped_from=old,
                      report=report, forced=bool(blockers))


def _write(archive_path: Path, data: dict[str, bytes], manifest_path: Path | None) -> None:
    """The archive, then (with --bump) the manifest; nothing half-written on any failure."""
    try:
        archive_path.parent.mkdir(parents=True, exist_ok=True)
        with interrupt.temporary_file(archive_path.parent, f".{archive_path.name}.") as tmp:
            zip_to(tmp, data)
            os.chmod(tmp, 0o644)
            with interrupt.critical():  # Ctrl-C cannot split a bumped manifest from its archive
                if manifest_path is not None:
                    _write_atomic(manifest_path, data["manifest.json"])
                    interrupt.pause("pack-mid-write")
                os.replace(tmp, archive_path)
                interrupt.changed()
    except OSError as error:
        raise PackError(f"cannot write {archive_path}: {error.strerror or error}") from None
