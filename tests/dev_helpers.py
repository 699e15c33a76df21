"""Helpers for the `kommo dev` tests: sessions that always stop, an SSE reader."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kommo_scaffold.dev.session import DevSession


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def dev_session(project: Path, preview_libs: bool = False, port: int | None = None,
                dev_zip: bool = True, api_url: str | None = None,
                ) -> Iterator[tuple[DevSession, list[str]]]:
    """A started DevSession on a free port; stopped whatever happens."""
    lines: list[str] = []
    session = DevSession(project, port or free_port(), echo=lines.append,
                         preview_libs=preview_libs, dev_zip=dev_zip, api_url=api_url)
    session.start()
    try:
        assert session.watcher.watching.wait(10), "the watcher did not start"
        yield session, lines
    finally:
        session.stop()


def request(port: int, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


class EventReader:
    """Reads server-sent events from /__kommo/events in a thread."""

    def __init__(self, port: int) -> None:
        self.events: list[tuple[str, Any, float]] = []
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.connect()
        # Kept: http.client hands the socket to the response, and only shutting it down
        # ends the reader thread's blocking read (closing the connection does not).
        self._socket = self.conn.sock
        self.conn.request("GET", "/__kommo/events")
        self.answer = self.conn.getresponse()
        assert self.answer.status == 200
        assert self.answer.getheader("Content-Type", "").startswith("text/event-stream")
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.connected.wait(5)

    def _read(self) -> None:
        event = "message"
        try:
            for raw in self.answer:
                line = raw.decode().rstrip("\n")
                if line == ": connected":
                    self.connected.set()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    self.events.append((event, json.loads(line[6:]), time.monotonic()))
                    event = "message"
        except (OSError, ValueError):
            pass

    def wait_for(self, name: str, after: int = 0, timeout: float = 10) -> tuple[Any, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event, data, when in self.events[after:]:
                if event == name:
                    return data, when
            time.sleep(0.01)
        raise AssertionError(f"no {name!r} event in {timeout}s; got {self.events}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self.conn.close()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "the event reader did not stop"
