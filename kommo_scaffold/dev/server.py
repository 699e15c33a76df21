"""The dev server: the widget under /<token>/, the preview under /preview/, events and proxy.

Stdlib ``ThreadingHTTPServer`` on 127.0.0.1. Widget files get ``Cache-Control: no-store`` and
CORS headers (Kommo's page fetches templates, CSS and i18n with XHR from its own origin);
script loads carry no Origin, so the unguessable token in the path is what keeps other
websites from reading the code. The preview's own endpoints (/__kommo/...) send no CORS
headers and their POSTs need a header with the token, which a cross-site form cannot send.
"""

from __future__ import annotations

import json
import mimetypes
import queue
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from kommo_scaffold.dev import api, jwt, workspace
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
LOOPBACK_NAMES = frozenset(("127.0.0.1", "localhost", "[::1]"))
MAX_BODY = 1024 * 1024


def assets_dir() -> Path:
    return Path(str(resources.files("kommo_scaffold.dev") / "assets"))


def assigned_code(token: str) -> str:
    """The widget code the preview assigns: never the project's, as in a real account."""
    return "kp" + token[:10]


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
        """What the preview page builds its Kommo from."""
        widget = self.dev.widget
        i18n: dict[str, Any] = {}
        for path in sorted((widget / "i18n").glob("*.json")):
            try:
                i18n[path.stem] = json.loads(path.read_text("utf-8-sig"))
            except (OSError, ValueError):
                i18n[path.stem] = {}
        try:
            manifest: Any = self.dev.manifest()
        except workspace.DevError:
            manifest = {}
        settings = dict(workspace.dev_settings(self.dev))
        settings.pop("jwt_secret", None)
        return {"token": self.token, "base": f"{self.base_url}/{self.token}",
                "project_code": self.dev.slug, "code": assigned_code(self.token),
                "manifest": manifest, "i18n": i18n, "settings": settings,
                "findings": self.findings, "summary": self.summary,
                "libs_error": self.libs.error if self.libs else "preview libraries disabled"}


class DevHandler(BaseHTTPRequestHandler):
    server: DevServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body then waits for
    # the client's delayed ACK of the headers (about 40 ms on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests worth a line are logged by _widget_file

    # ------------------------------------------------------------------ plumbing
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
        except (OSError, ValueError):
            return None
        return resolved if resolved.is_file() else None

    # ------------------------------------------------------------------ verbs
    def _host_ok(self) -> bool:
        """Only loopback names: a DNS-rebinding page on another name gets nothing."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        if host in LOOPBACK_NAMES:
            return True
        self._send(403, b"kommo dev answers only to 127.0.0.1 and localhost\n",
                   "text/plain; charset=utf-8")
        return False

    def do_OPTIONS(self) -> None:
        if not self._host_ok():
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        for key, value in CORS.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_ok():
            return
        path = urllib.parse.urlsplit(self.path).path
        if api.is_api_path(path):
            self._api(path)
            return
        token_prefix = f"/{self.server.token}/"
        if path.startswith(token_prefix):
            self._widget_file(urllib.parse.unquote(path[len(token_prefix):]))
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
            self._events()
        else:
            self._not_found()

    def do_PATCH(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        if not self._host_ok():
            return
        path = urllib.parse.urlsplit(self.path).path
        if api.is_api_path(path):
            self._api(path)
            return
        if self.command != "POST":
            self._json({"error": f"{self.command} is not allowed here"}, 405)
            return
        if self.headers.get(PREVIEW_HEADER) != self.server.token:
            self._json({"error": f"missing {PREVIEW_HEADER} header"}, 403)
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError("body too large")
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("a JSON object is expected")
        except ValueError as error:
            self._json({"error": str(error)}, 400)
            return
        if path == "/__kommo/proxy":
            self._proxy(body)
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
    def _api(self, path: str) -> None:
        """Kommo's API for the widget in the preview: fixtures and defaults, or the account
        that --api names. Writes must come from the preview page itself (a cross-site form
        could otherwise act on that account)."""
        write = self.command in ("POST", "PATCH")
        site = self.headers.get("Sec-Fetch-Site")
        origin = self.headers.get("Origin")
        if write and ((site and site != "same-origin")
                      or (origin and origin != self.server.base_url)):
            self._send(403, json.dumps(api.problem(
                403, "Forbidden", "API writes are accepted from the preview page only")).encode(),
                "application/problem+json")
            return
        raw = b""
        if write:
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 <= length <= MAX_BODY:
                    raise ValueError
            except ValueError:
                self._send(400, json.dumps(api.problem(400, "Bad Request", "a body of at most "
                           f"{MAX_BODY} bytes is expected")).encode(), "application/problem+json")
                return
            raw = self.rfile.read(length)
        kind = self.headers.get("Content-Type", "")
        query = urllib.parse.urlsplit(self.path).query
        upstream = self.server.upstream
        if upstream is not None:
            status, body, answer_kind = upstream.forward(
                self.command, self.path if self.path.startswith("/") else path,
                raw if write else None, kind)
            self._api_log(path, status, f"-> {upstream.base}")
            self._send(status, body, answer_kind or TYPES[".json"])
            return
        if write:
            answer = api.write(self.command, path, api.parse_body(raw, kind))
        else:
            answer = api.get(self.server.dev.state_dir / workspace.FIXTURES_DIR, path, query)
        self._api_log(path, answer.status, answer.source)
        if answer.data is None:
            self._send(204, b"", TYPES[".json"])
        else:
            self._send(answer.status, json.dumps(answer.data, ensure_ascii=False).encode(),
                       TYPES[".json"] if answer.status < 400 else "application/problem+json")

    def _api_log(self, path: str, status: int, source: str) -> None:
        line = f"{self.command} {path} {status} ({source})"
        self.server.on_log(f"api: {line}")
        self.server.broadcast("api", {"method": self.command, "path": path,
                                      "status": status, "source": source})

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

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        client = self.server.subscribe()
        try:
            self.wfile.write(b"retry: 500\n: connected\n\n")
            self.wfile.flush()
            while not self.server.stopping.is_set():
                try:
                    item = client.get(timeout=10)
                except queue.Empty:
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    continue
                if item is None:
                    break
                event, payload = item
                self.wfile.write(f"event: {event}\ndata: {payload}\n\n".encode())
                self.wfile.flush()
        except OSError:
            pass  # the page went away
        finally:
            self.server.unsubscribe(client)

    def _proxy(self, body: dict[str, Any]) -> None:
        """crm_post: Kommo's page posts through its own server to avoid CORS; so do we."""
        url = str(body.get("url") or "")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            self._json({"error": f"crm_post needs an http(s) URL, not {url[:80]!r}"}, 400)
            return
        data = body.get("data")
        encoded = urllib.parse.urlencode(data, doseq=True).encode() \
            if isinstance(data, dict) else str(data or "").encode()
        request = urllib.request.Request(url, data=encoded, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                status, text = answer.status, answer.read(MAX_BODY).decode("utf-8", "replace")
                kind = answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read(MAX_BODY).decode("utf-8", "replace")
            kind = error.headers.get("Content-Type", "")
        except (urllib.error.URLError, OSError, ValueError) as error:
            self._json({"error": f"crm_post to {url} failed: {error}"}, 502)
            return
        self.server.on_log(f"crm_post {url} -> {status}")
        self._json({"status": status, "body": text, "content_type": kind})
