"""`kommo pack`: build the widget.zip Kommo expects, byte for byte reproducible.

Files sit at the archive root; editor, OS and VCS junk, the back end and the answers file
stay out. Entries are sorted and carry a fixed date and fixed permissions, so the same
widget always gives the same bytes. `check` runs first and pack refuses on errors unless
forced. `--bump` raises widget.version only once the check has passed (a refused pack changes
nothing), and the new manifest is written only after the archive is built.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from kommo_scaffold import check
from kommo_scaffold.errors import ScaffoldError

BUMP_PARTS = ("patch", "minor", "major")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
# Folders that never go into the archive from a widget folder (the default output lives in
# dist/; back ends run on your server, not in Kommo).
SKIP_TOP_DIRS = frozenset(("dist", "backend"))


class PackError(ScaffoldError):
    """The widget cannot be packed; the message says why."""


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
            lines.append(f"  {name}  {_human(size)}")
        if self.bumped_from is not None:
            lines.append(f"widget.version {self.bumped_from} -> {self.version}")
        elif self.version:
            lines.append(f"widget.version {self.version}")
        if self.report is not None:
            prefix = "packed despite errors (--force): " if self.forced else "check: "
            lines.append(prefix + check.summary_line(self.report))
        return "\n".join(lines)


def _human(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB"


def widget_root(path: Path) -> tuple[Path, Path]:
    """(widget folder, project folder) for a kommo-new project or a plain widget folder."""
    try:
        kind, root, _ = check.locate(path)
    except check.CheckUsageError as error:
        raise PackError(str(error)) from None
    if kind == "archive":
        raise PackError(f"{path} is an archive; pack a widget folder or a kommo-new project")
    return root, (root.parent if kind == "widget project" else root)


def collect(root: Path, exclude: Path | None = None) -> list[str]:
    """Posix paths of the files to pack, sorted; junk, links and the output left out."""
    names: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel_dir = here.relative_to(root)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in check.JUNK_DIRS and not (here / d).is_symlink()
            and not (rel_dir == Path(".") and d in SKIP_TOP_DIRS))
        for filename in filenames:
            full = here / filename
            rel = full.relative_to(root).as_posix()
            if full.is_symlink() or not full.is_file():
                continue
            if check._is_junk(tuple(rel.split("/"))):
                continue
            if exclude is not None and full.resolve() == exclude.resolve():
                continue
            names.append(rel)
    return sorted(names)


def bump_version(version: str, part: str) -> str:
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version.strip())
    if not match:
        raise PackError(f"cannot bump widget.version {version!r}: it is not like 1.2.3")
    major, minor, patch = (int(x or 0) for x in match.groups())
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


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


def _zip_bytes_to(target: Path, root: Path, names: list[str],
                  overrides: dict[str, bytes]) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=9) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr means the same everywhere
            info.external_attr = FILE_MODE << 16
            data = overrides.get(name)
            if data is None:
                data = (root / name).read_bytes()
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pack(path: Path, output: Path | None = None, force: bool = False,
         bump: str | None = None) -> PackResult:
    """Check, optionally bump widget.version, then write a deterministic widget.zip."""
    if bump is not None and bump not in BUMP_PARTS:
        raise PackError(f"--bump must be one of {', '.join(BUMP_PARTS)}, not {bump!r}")
    root, project = widget_root(Path(path))
    archive_path = Path(output) if output is not None else project / "dist" / "widget.zip"
    if archive_path.exists() and archive_path.is_dir():
        raise PackError(f"{archive_path} is a folder; give a file name such as widget.zip")

    report = check.check_path(Path(path))
    if report.errors and not force:
        first = report.errors[0]
        raise PackError(f"check found {check.summary_line(report)}; first: {first.where()}: "
                        f"{first.rule} {first.message} (run `kommo check`, or pack with "
                        "--force)")

    names = collect(root, exclude=archive_path)
    if "manifest.json" not in names:
        raise PackError(f"{root} has no manifest.json")
    overrides: dict[str, bytes] = {}
    version: str | None = None
    old: str | None = None
    manifest_path = root / "manifest.json"
    if bump is not None:
        try:
            text = manifest_path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise PackError("cannot bump: manifest.json is not UTF-8") from None
        updated, old, version = bumped_manifest(text, bump)
        overrides["manifest.json"] = updated.encode("utf-8")
    else:
        try:
            manifest = json.loads(manifest_path.read_text("utf-8-sig"))
            found = manifest.get("widget", {}).get("version") if isinstance(manifest, dict) \
                else None
            version = found if isinstance(found, str) else None
        except (ValueError, AttributeError):
            version = None

    try:
        archive_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=archive_path.parent,
                                        prefix=f".{archive_path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _zip_bytes_to(tmp, root, names, overrides)
            os.chmod(tmp, 0o644)
            if "manifest.json" in overrides:
                _write_atomic(manifest_path, overrides["manifest.json"])
            os.replace(tmp, archive_path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as error:
        raise PackError(f"cannot write {archive_path}: {error.strerror or error}") from None

    sizes = [(name, len(overrides[name]) if name in overrides else (root / name).stat().st_size)
             for name in names]
    return PackResult(archive=archive_path, files=sizes, size=archive_path.stat().st_size,
                      version=version, bumped_from=old, report=report,
                      forced=bool(report.errors))
