"""The preview's own long-running and outgoing endpoints: /__kommo/events (server-sent
events) and /__kommo/proxy (crm_post, posted on by kommo dev as Kommo's page posts through
its own server)."""

from __future__ import annotations

import queue
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kommo_scaffold.dev.server import DevHandler


def events(handler: DevHandler) -> None:
    # Subscribed before the page sees the stream open: the page starts the widget on that
    # event, and the widget's first API calls must reach this client.
    client = handler.server.subscribe()
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        handler.wfile.write(b"retry: 500\n: connected\n\n")
        handler.wfile.flush()
        while not handler.server.stopping.is_set():
            try:
                item = client.get(timeout=10)
            except queue.Empty:
                handler.wfile.write(b": ping\n\n")
                handler.wfile.flush()
                continue
            if item is None:
                break
            event, payload = item
            handler.wfile.write(f"event: {event}\ndata: {payload}\n\n".encode())
            handler.wfile.flush()
    except OSError:
        pass  # the page went away
    finally:
        handler.server.unsubscribe(client)


def proxy(handler: DevHandler, body: dict[str, Any]) -> None:
    """crm_post: Kommo's page posts through its own server to avoid CORS; so do we."""
    from kommo_scaffold.dev.server import MAX_BODY  # loaded already: it called us

    url = str(body.get("url") or "")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        handler._json({"error": f"crm_post needs an http(s) URL, not {url[:80]!r}"}, 400)
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
        handler._json({"error": f"crm_post to {url} failed: {error}"}, 502)
        return
    handler.server.on_log(f"crm_post {url} -> {status}")
    handler._json({"status": status, "body": text, "content_type": kind})
