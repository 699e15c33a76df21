"""What the preview page builds its Kommo from: GET /__kommo/state.

A broken project still has a state: what cannot be read is left out and said in the
findings (shaped like the checker's), so the page shows it instead of stopping.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kommo_scaffold.catalog import areas
from kommo_scaffold.dev import api, workspace

if TYPE_CHECKING:
    from kommo_scaffold.dev.server import DevServer


def build(server: DevServer) -> dict[str, Any]:
    from kommo_scaffold.dev.server import assigned_code

    problems: list[dict[str, Any]] = []
    dev = server.dev
    i18n: dict[str, Any] = {}
    for path in sorted(_glob(dev.widget / "i18n", "*.json")):
        try:
            data = json.loads(path.read_text("utf-8-sig"))
        except (OSError, ValueError):
            data = None
        i18n[path.stem] = data if isinstance(data, dict) else {}
    try:
        manifest = workspace.preview_manifest(dev.manifest())
    except workspace.DevError as error:
        manifest = workspace.preview_manifest({})
        problems.append(_problem("manifest.json", str(error)))
    try:
        settings = dict(workspace.dev_settings(dev))
    except workspace.DevError as error:
        settings = {}
        problems.append(_problem(f"{workspace.STATE_DIR}/{workspace.SETTINGS_FILE}",
                                 str(error)))
    settings.pop("jwt_secret", None)
    return {"token": server.token, "base": f"{server.base_url}/{server.token}",
            "project_code": dev.slug, "code": assigned_code(server.token),
            "manifest": manifest, "i18n": i18n, "settings": settings,
            # What Kommo calls when the widget is picked in a list: the catalog's word.
            "list_callbacks": {a.code: list(a.callbacks) for a in areas.AREAS
                               if a.kind == "list"},
            # Where Kommo runs no script.js: the page shows the area, calls nothing.
            "scriptless_areas": [a.code for a in areas.AREAS if not a.runs_script],
            # The open card of each entity: what GET /api/v4/<entity>/1 answers.
            "cards": api.open_cards(dev.state_dir / workspace.FIXTURES_DIR),
            "findings": problems + server.findings, "summary": server.summary,
            "libs_error": server.libs.error if server.libs else "preview libraries disabled"}


def _glob(folder: Path, pattern: str) -> list[Path]:
    try:
        return list(folder.glob(pattern))
    except OSError:
        return []


def _problem(file: str, message: str) -> dict[str, Any]:
    """A finding of kommo dev itself, shaped like the checker's (Finding.as_dict)."""
    return {"rule": "kommo dev", "severity": "error", "title": "The preview cannot read this",
            "message": message, "file": file, "line": None, "json_path": ""}
