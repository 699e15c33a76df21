"""The dev server's answer to Kommo's API paths (/api/v4, /api/v2, /private/api, /ajax):
the project's fixtures and the built-in defaults (api.py), or the account --api names."""

from __future__ import annotations

import json
import urllib.parse
from typing import TYPE_CHECKING

from kommo_scaffold.dev import api, workspace

if TYPE_CHECKING:
    from kommo_scaffold.dev.server import DevHandler


def serve(handler: DevHandler, path: str) -> None:
    """Kommo's API for the widget in the preview: fixtures and defaults, or the account
    that --api names. Writes must come from the preview page itself (a cross-site form
    could otherwise act on that account)."""
    from kommo_scaffold.dev.server import TYPES  # loaded already: it called us

    write = handler.command in ("POST", "PATCH")
    site = handler.headers.get("Sec-Fetch-Site")
    origin = handler.headers.get("Origin")
    if write and ((site and site != "same-origin")
                  or (origin and origin != handler.server.base_url)):
        handler._send(403, json.dumps(api.problem(
            403, "Forbidden", "API writes are accepted from the preview page only")).encode(),
            "application/problem+json")
        return
    raw = b""
    if write:
        try:
            raw = handler._raw_body()
        except ValueError as error:
            handler.close_connection = True  # what is left of the body is not a request
            handler._send(400, json.dumps(api.problem(400, "Bad Request", str(error))).encode(),
                       "application/problem+json")
            return
    kind = handler.headers.get("Content-Type", "")
    query = urllib.parse.urlsplit(handler.path).query
    upstream = handler.server.upstream
    if upstream is not None:
        status, body, answer_kind = upstream.forward(
            handler.command, handler.path if handler.path.startswith("/") else path,
            raw if write else None, kind)
        _log(handler, path, status, f"-> {upstream.base}")
        handler._send(status, body, answer_kind or TYPES[".json"])
        return
    if write:
        answer = api.write(handler.command, path, api.parse_body(raw, kind))
    else:
        answer = api.get(handler.server.dev.state_dir / workspace.FIXTURES_DIR, path, query)
    _log(handler, path, answer.status, answer.source)
    if answer.data is None:
        handler._send(204, b"", TYPES[".json"])
    else:
        handler._send(answer.status, json.dumps(answer.data, ensure_ascii=False).encode(),
                   TYPES[".json"] if answer.status < 400 else "application/problem+json")

def _log(handler: DevHandler, path: str, status: int, source: str) -> None:
    line = f"{handler.command} {path} {status} ({source})"
    handler.server.on_log(f"api: {line}")
    handler.server.broadcast("api", {"method": handler.command, "path": path,
                                  "status": status, "source": source})
