"""The widget project `kommo dev` serves: its folders, dev key, token and dev settings.

Everything `kommo dev` keeps lives in ``.kommo/`` at the project root. That folder carries
its own ``.gitignore``, so it stays out of git whatever the project's ignore rules say (the
token guards the served code from other websites and the dev settings may hold secrets),
except ``.kommo/fixtures/``: the preview's API answers, which are the project's to commit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kommo_scaffold.errors import UsageError
from kommo_scaffold.plumbing import interrupt, projectroot

STATE_DIR = ".kommo"
TOKEN_FILE = "dev.json"
SETTINGS_FILE = "dev-settings.json"
DEV_ZIP = "widget-dev.zip"
# The real script inside the dev zip; the loader falls back to it.
REAL_SCRIPT = "script.real.js"
_TOKEN_RE = re.compile(r"[a-f0-9]{24}")


class DevError(UsageError):
    """`kommo dev` cannot start; the message says why."""


@dataclass(frozen=True)
class DevProject:
    root: Path
    widget: Path
    slug: str

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def dev_key(self) -> str:
        """The localStorage key that switches the dev zip's loader to the dev server."""
        return f"kommo-dev:{self.slug}"

    @property
    def dev_zip(self) -> Path:
        return self.root / "dist" / DEV_ZIP

    def manifest(self) -> dict[str, Any]:
        """widget/manifest.json as an object; DevError if it cannot be read as one."""
        path = self.widget / "manifest.json"
        try:
            data = json.loads(path.read_text("utf-8-sig"))
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise DevError(f"cannot read {path}: {reason}") from None
        if not isinstance(data, dict):
            raise DevError(f"{path} is not a JSON object")
        return data


def preview_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with the shapes the preview page relies on: ``locations`` a list of
    names, every other top-level block an object. A block of another shape is left out (the
    checker's findings say what is wrong), so a broken manifest never stops the page."""
    shaped: dict[str, Any] = {}
    for key, value in manifest.items():
        if key == "locations":
            shaped[key] = [v for v in value if isinstance(v, str)] if isinstance(value, list) \
                else []
        elif isinstance(value, dict):
            shaped[key] = value
    shaped.setdefault("locations", [])
    return shaped


def find_project(start: Path) -> DevProject:
    """The kommo-new project containing START (START itself or a parent of it)."""
    start = start.resolve()
    if not start.exists():
        raise DevError(f"{start}: no such directory")
    for folder in (start, *start.parents):
        if (folder / "widget" / "manifest.json").is_file():
            if (folder / "widget").is_symlink():
                # check and pack never follow links; serving one would show what they refuse.
                raise DevError(f"{folder / 'widget'} is a symbolic link; kommo dev, check and "
                               "pack do not follow links: make it a real folder")
            return DevProject(root=folder, widget=folder / "widget", slug=_slug(folder))
    raise DevError(f"{start} is not inside a widget project (no widget/manifest.json there "
                   "or in a parent folder)")


def _slug(root: Path) -> str:
    """The project's widget_code answer, else a code made from the folder name."""
    code = projectroot.recorded_word(root, "widget_code")
    if code:
        return code
    return re.sub(r"[^a-z0-9_]+", "_", root.name.lower()).strip("_") or "widget"


# The token and the dev settings (which may hold secrets) stay out of git whatever the
# project's own ignore rules say; API fixtures are the project's, to commit.
IGNORE = ("# kommo dev's local state: never commit it (fixtures/ excepted: those are yours)\n"
          "*\n!/fixtures/\n!/fixtures/**\n")
_OLD_IGNORE = "# kommo dev's local state: never commit it\n*\n"
FIXTURES_DIR = "fixtures"


def _ensure_state_dir(project: DevProject) -> Path:
    folder = project.state_dir
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists() or ignore.read_text("utf-8", "replace") == _OLD_IGNORE:
            ignore.write_text(IGNORE, "utf-8")
    except OSError as error:
        raise DevError(f"cannot write {folder}: {error.strerror or error}") from None
    return folder


def write_json_atomic(path: Path, data: Any) -> None:
    with interrupt.temporary_file(path.parent, f".{path.name}.") as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def token(project: DevProject) -> str:
    """The project's random path token, made on first use and kept in .kommo/dev.json.

    Two `kommo dev` starting at once agree: the file is created with a hard link, which
    fails if the other one created it first, and then its token is read.
    """
    folder = _ensure_state_dir(project)
    path = folder / TOKEN_FILE
    for _ in range(2):
        existed = path.exists()
        data = _read_json(path)
        if isinstance(data, dict) and _TOKEN_RE.fullmatch(str(data.get("token", ""))):
            return str(data["token"])
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".dev.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                json.dump({"token": secrets.token_hex(12)}, stream)
            if existed:
                os.replace(tmp, path)  # ours, and unreadable: replace it
            else:
                with contextlib.suppress(FileExistsError):  # the other one won: read it
                    os.link(tmp, path)
        except OSError as error:
            raise DevError(f"cannot write {path}: {error.strerror or error}") from None
        finally:
            Path(tmp).unlink(missing_ok=True)
    raise DevError(f"cannot read the token in {path}; delete the file and start again")


def _field_default(spec: Any) -> Any:
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind == "users":
        return {}
    if kind == "users_lp":
        return {}
    return ""


def dev_settings(project: DevProject) -> dict[str, Any]:
    """.kommo/dev-settings.json: what Kommo would hold for this install of the widget.

    Made on first run from the manifest's settings fields; fields added to the manifest later
    are filled in, values the developer set are kept.
    """
    folder = _ensure_state_dir(project)
    path = folder / SETTINGS_FILE
    data = _read_json(path)
    if path.exists() and not isinstance(data, dict):
        raise DevError(f"{path} is not a JSON object: fix it, or delete it to start from the "
                       "manifest's fields again")
    if isinstance(data, dict) and not isinstance(data.setdefault("fields", {}), dict):
        raise DevError(f"{path}: \"fields\" is not a JSON object: fix it, or delete the "
                       "file to start from the manifest's fields again")
    changed = not isinstance(data, dict)
    if not isinstance(data, dict):
        data = {"active": "Y", "install_status": "installed", "lang": "en",
                "jwt_secret": secrets.token_hex(16), "fields": {}}
    fields = data["fields"]
    try:
        manifest_fields = project.manifest().get("settings")
    except DevError:
        manifest_fields = None  # a broken manifest is the checker's finding; fill in later
    if isinstance(manifest_fields, dict):
        for name, spec in manifest_fields.items():
            if name not in fields:
                fields[name] = _field_default(spec)
                changed = True
    if changed:
        write_json_atomic(path, data)
    return data


def save_dev_settings(project: DevProject, fields: dict[str, Any], active: str) -> None:
    data = dev_settings(project)
    data["fields"] = {**data.get("fields", {}), **fields}
    data["active"] = "Y" if active == "Y" else "N"
    data["install_status"] = "installed" if active == "Y" else "not_configured"
    write_json_atomic(project.state_dir / SETTINGS_FILE, data)
