"""Loopback HTTP servers for tests: Kommo's return_url stand-in and small echo back ends."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps test output quiet and answers in one call."""

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, payload: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def local_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A loopback server on a free port, in a thread; yields its base URL (no trailing /)
    and is shut down whatever happens."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Stub:
    """A loopback HTTP server standing in for Kommo's return_url; records every POST."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.status = 200
        stub = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                stub.requests.append(Recorded(self.path, dict(self.headers), self.body(),
                                              time.monotonic()))
                self.reply(stub.status, b'{"ok": true}')

        self._running = local_server(Handler)
        self.url = self._running.__enter__() + "/"

    def wait_for(self, count: int, timeout: float = 15) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.requests

    def close(self) -> None:
        self._running.__exit__(None, None, None)
