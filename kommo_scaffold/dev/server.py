"""The dev server: the widget under /<token>/, the preview under /preview/, events and proxy.

Stdlib ``ThreadingHTTPServer`` on 127.0.0.1. Widget files get ``Cache-Control: no-store`` and
CORS headers (Kommo's page fetches templates, CSS and i18n with XHR from its own origin);
script loads carry no Origin, so the unguessable token in the path is what keeps other
websites from reading the code. The preview's own endpoints (/__kommo/...) send no CORS
headers, also not to a preflight, and their POSTs need a header with the token, which a
cross-site form cannot send. Every request gets an answer: a problem of the project (a
broken settings file, widget/ moved away) or of the server is a JSON 4xx/5xx, never a
traceback on the console; a connection that sends nothing is closed after IDLE_TIMEOUT.
Kommo's API paths are answered in api_route, the events stream and the crm_post proxy
in kommo_routes.
"""

from __future__ import annotations

import json
import mimetypes
import queue
import re
import threading
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from kommo_scaffold.dev import api, api_route, jwt, kommo_routes, page_state, workspace
from kommo_scaffold.dev.libs import PreviewLibs

TYPES = {".js": "text/javascript; charset=utf-8", ".json": "application/json; charset=utf-8",
         ".twig": "text/plain; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Allow-Private-Network": "true",
    "Cross-Origin-Resource-Policy": "cross-origin",
}
PREVIEW_HEADER = "X-Kommo-Preview"
MAX_BODY = 1024 * 1024
# Seconds a connection may stay silent (mid-request or between requests) before it is closed.
IDLE_TIMEOUT = 30.0
# Host: a name or an IP literal and an optional numeric port, nothing else (no userinfo).
_HOST_HEADER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,16}")


def loopback_host(header: str) -> bool:
    """True for a Host header naming this machine: a loopback name or address, with an
    optional port. The names come from the checker's one list of development hosts."""
    from kommo_scaffold.check import hosts  # the checker package: imported on first request

    match = _HOST_HEADER.fullmatch(header.strip())
    return match is not None and hosts.loopback(match.group(1).strip("[]"))


def assets_dir() -> Path:
    return Path(str(resources.files("kommo_scaffold.dev") / "assets"))


def assigned_code(token: str) -> str:
    """The widget code the preview assigns: never the project's, as in a real account. It
    carries the whole token, so the widget's files under Kommo's own paths (/upl/<code>/...,
    /widgets/<code>/...) are as hard to guess as under /<token>/."""
    return "kp" + token


class DevServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # a busy port must fail, not be shared

    def __init__(self, dev: workspace.DevProject, token: str, port: int,
                 libs: PreviewLibs | None = None,
                 on_log: Callable[[str], None] | None = None,
                 upstream: api.Upstream | None = None) -> None:
        super().__init__(("127.0.0.1", port), DevHandler)
        self.dev = dev
        self.upstream = upstream
        self.token = token
        self.libs = libs
        self.on_log = on_log or (lambda line: None)
        self.findings: list[dict[str, Any]] = []
        self.summary = ""
        self.stopping = threading.Event()
        self.idle_timeout = IDLE_TIMEOUT
        self._clients: list[queue.Queue[tuple[str, str] | None]] = []
        self._lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A page that went away mid-answer is normal here; anything else is reported."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def broadcast(self, event: str, data: Any) -> int:
        """Send one server-sent event to every open page; returns how many got it."""
        payload = json.dumps(data, ensure_ascii=False)
        with self._lock:
            for client in self._clients:
                client.put((event, payload))
            return len(self._clients)

    def subscribe(self) -> queue.Queue[tuple[str, str] | None]:
        client: queue.Queue[tuple[str, str] | None] = queue.Queue()
        with self._lock:
            self._clients.append(client)
        return client

    def unsubscribe(self, client: queue.Queue[tuple[str, str] | None]) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)

    def close_clients(self) -> None:
        self.stopping.set()
        with self._lock:
            for client in self._clients:
                client.put(None)

    def state(self) -> dict[str, Any]:
        """What the preview page builds its Kommo from (page_state.build)."""
        return page_state.build(self)


class DevHandler(BaseHTTPRequestHandler):
    server: DevServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body then waits for
    # the client's delayed ACK of the headers (about 40 ms on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests worth a line are logged by _widget_file

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)  # a silent client is let go
        self._answered = False

    # ------------------------------------------------------------------ plumbing
    def send_response(self, code: int, message: str | None = None) -> None:
        """Every answer, send_error's included, names no page it came from."""
        super().send_response(code, message)
        self.send_header("Referrer-Policy", "no-referrer")
        self._answered = True

    def _guarded(self, route: Callable[[], None]) -> None:
        """Run ROUTE so that the request gets an answer whatever goes wrong in it."""
        try:
            if self._host_ok():
                route()
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the page went away, or was too slow
        except Exception as error:  # one request's failure never reaches the console
            if isinstance(error, workspace.DevError):
                status, message = 409, str(error)
            elif isinstance(error, OSError):
                status, message = 404, f"cannot read {error.filename or 'the file'}: " \
                    f"{error.strerror or error}"
            else:
                status, message = 500, f"{type(error).__name__}: {error}"
                self.server.on_log(f"error: {self.command} {self.path[:200]}: {message}")
            if self._answered:
                self.close_connection = True  # mid-answer: only closing is left
            else:
                self._json({"error": message}, status)

    def _send(self, status: int, body: bytes, content_type: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data: Any, status: int = 200) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"),
                   TYPES[".json"])

    def _not_found(self, extra: dict[str, str] | None = None) -> None:
        self._send(404, b"not found\n", "text/plain; charset=utf-8", extra)

    def _file(self, path: Path, extra: dict[str, str] | None = None) -> None:
        try:
            body = path.read_bytes()
        except OSError:
            self._not_found(extra)
            return
        kind = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] \
            or "application/octet-stream"
        self._send(200, body, kind, extra)

    @staticmethod
    def _inside(root: Path, rel: str) -> Path | None:
        """ROOT/REL if it is a file inside ROOT (no .., no link out), else None."""
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if any(p == ".." or p.startswith(".") for p in parts):
            return None
        path = root.joinpath(*parts) if parts else root
        try:
            resolved = path.resolve()
            resolved.relative_to(root.resolve())
            return resolved if resolved.is_file() else None
        except (OSError, ValueError):  # e.g. a name too long for the file system
            return None

    # ------------------------------------------------------------------ verbs
    def _host_ok(self) -> bool:
        """Only loopback names: a DNS-rebinding page on another name gets nothing."""
        if loopback_host(self.headers.get("Host") or ""):
            return True
        self._send(403, b"kommo dev answers only to 127.0.0.1 and localhost\n",
                   "text/plain; charset=utf-8")
        return False

    def _widget_path(self) -> str | None:
        """The widget file this request names, or None (not a widget file): under the token,
        or under the paths Kommo serves widget files from with the assigned code in them."""
        path = urllib.parse.urlsplit(self.path).path
        code = assigned_code(self.server.token)
        for prefix in (f"/{self.server.token}/", f"/upl/{code}/widget/", f"/widgets/{code}/"):
            if path.startswith(prefix):
                return urllib.parse.unquote(path[len(prefix):])
        return None

    def do_OPTIONS(self) -> None:
        self._guarded(self._options)

    def do_HEAD(self) -> None:
        self._guarded(self._get)

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def do_PATCH(self) -> None:
        self._guarded(self._post)

    def _options(self) -> None:
        # A preflight gets CORS for the widget's files only (docs/dev-loop.md).
        self.send_response(HTTPStatus.NO_CONTENT)
        if self._widget_path() is not None:
            for key, value in CORS.items():
                self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _get(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if api.is_api_path(path):
            api_route.serve(self, path)
            return
        widget_file = self._widget_path()
        if widget_file is not None:
            self._widget_file(widget_file)
        elif path in ("/", "/preview"):
            self._send(302, b"", "text/plain", {"Location": "/preview/"})
        elif path.startswith("/preview/libs/") and path.endswith(".js"):
            self._lib(path[len("/preview/libs/"):-3])
        elif path.startswith("/preview/"):
            rel = path[len("/preview/"):] or "index.html"
            found = self._inside(assets_dir() / "preview", urllib.parse.unquote(rel))
            self._file(found) if found else self._not_found()
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
        elif path == "/__kommo/state":
            self._json(self.server.state())
        elif path == "/__kommo/events":
            kommo_routes.events(self)
        else:
            self._not_found()

    def _raw_body(self) -> bytes:
        """The request's body; ValueError (a 400) where it cannot be read safely. The length
        must be given in decimal: without it the body would be read until the client closes."""
        if self.headers.get("Transfer-Encoding"):
            raise ValueError("Transfer-Encoding is not supported: send a Content-Length")
        given = (self.headers.get("Content-Length") or "").strip()
        if not _CONTENT_LENGTH.fullmatch(given):
            raise ValueError("a decimal Content-Length is required")
        length = int(given)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def _body(self) -> dict[str, Any]:
        """The request's JSON object; ValueError (a 400) for anything else."""
        body = json.loads(self._raw_body() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("a JSON object is expected")
        return body

    def _post(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if api.is_api_path(path):
            api_route.serve(self, path)
            return
        if self.command != "POST":
            self._json({"error": f"{self.command} is not allowed here"}, 405)
            return
        if self.headers.get(PREVIEW_HEADER) != self.server.token:
            self.close_connection = True  # the body is not read
            self._json({"error": f"missing {PREVIEW_HEADER} header"}, 403)
            return
        try:
            body = self._body()
        except ValueError as error:
            self.close_connection = True  # what is left of the body is not a request
            self._json({"error": str(error)}, 400)
            return
        if path == "/__kommo/proxy":
            kommo_routes.proxy(self, body)
        elif path == "/__kommo/settings":
            given = body.get("fields")
            fields: dict[str, Any] = given if isinstance(given, dict) else {}
            workspace.save_dev_settings(self.server.dev, fields, str(body.get("active", "Y")))
            self._json({"ok": True})
        elif path == "/__kommo/jwt":
            secret = str(workspace.dev_settings(self.server.dev).get("jwt_secret", ""))
            self._json({"token": jwt.dev_token(secret, self.server.dev.slug,
                                               str(body.get("audience") or ""))})
        else:
            self._not_found()

    # ------------------------------------------------------------------ routes
    def _widget_file(self, rel: str) -> None:
        found = self._inside(self.server.dev.widget, rel)
        status = 200 if found else 404
        site = self.headers.get("Sec-Fetch-Site")
        if site and site not in ("same-origin", "none"):
            origin = self.headers.get("Origin") or "no Origin header"
            self.server.on_log(f"{self.command} /{rel} {status} ({site}, {origin})")
        self._file(found, CORS) if found else self._not_found(CORS)

    def _lib(self, module: str) -> None:
        libs = self.server.libs
        if libs is None:
            self._not_found()
            return
        libs.wait(300)
        found = libs.file(module)
        if found is None or not found.is_file():
            message = libs.error or f"no library {module}"
            self._send(503, f"/* {message} */\n".encode(), TYPES[".js"])
            return
        self._file(found)
