"""Watch widget/ with watchfiles; on every change tell open pages and run the checker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import watchfiles

from kommo_scaffold.dev.server import DevServer

# Files whose change only reaches a Kommo tab through a new upload of the dev zip: the
# loader serves script.js and its AMD dependencies live, but Kommo reads these from the upload.
UPLOADED_ONLY = ("manifest.json", "i18n/", "images/", "style.css", "templates/")


def run_checker(path: Path, page: Any = None) -> tuple[list[dict[str, Any]], str]:
    """(findings as dicts, summary line) of `kommo check` on a project; ``page``: a V8 page
    started in advance (kommo_scaffold.check.js.engine.Page), which the check closes.

    The one place `kommo dev` calls the checker: re-point it here if the checker moves.
    """
    from kommo_scaffold import check

    report = check.check_path(path, page)
    return [f.as_dict() for f in report.findings], check.summary_line(report)


def next_page() -> Any:
    """A V8 page for the next re-check, started now so that starting V8 is not part of the
    time between a save and its findings."""
    from kommo_scaffold.check.js.engine import Page

    return Page()


class Watcher:
    """A thread that turns file changes into 'reload' and 'check' events."""

    def __init__(self, server: DevServer, echo: Callable[[str], None],
                 rebuild_zip: Callable[[], Any] | None = None) -> None:
        self.server = server
        self.echo = echo
        self.rebuild_zip = rebuild_zip
        self.stop_event = threading.Event()
        self.watching = threading.Event()
        self._page: Any = None
        self._thread = threading.Thread(target=self._run, name="kommo-dev-watch", daemon=True)

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self._thread.join(timeout=5)

    def check(self, announce: bool) -> None:
        started = time.monotonic()
        page, self._page = self._page, None
        findings, summary = run_checker(self.server.dev.root, page)
        if not self.stop_event.is_set():
            self._page = next_page()
        changed = findings != self.server.findings
        self.server.findings, self.server.summary = findings, summary
        self.server.broadcast("check", {"findings": findings, "summary": summary})
        if announce or changed:
            took = (time.monotonic() - started) * 1000
            self.echo(f"check: {summary} ({took:.0f} ms)")
            for f in findings:
                where = f.get("file") or "widget"
                if f.get("line"):
                    where += f":{f['line']}"
                self.echo(f"  {where}: {f['rule']} {f['severity']}: {f['message']}")

    def _run(self) -> None:
        try:
            self._watch()
        finally:  # nothing will use the next page: close it (an open one can hang exit)
            if self._page is not None:
                self._page.close()
                self._page = None

    def _watch(self) -> None:
        widget = self.server.dev.widget
        try:
            self.check(announce=True)
        except Exception as error:  # the checker never stops the loop
            self.echo(f"check failed: {type(error).__name__}: {error}")
        # step: a change is reported after 50 ms without another, so an editor's save in
        # place (truncate, then write) is one change, not a reload of an empty file.
        for changes in watchfiles.watch(widget, stop_event=self.stop_event, step=50,
                                        debounce=1600, rust_timeout=500,
                                        yield_on_timeout=True, raise_interrupt=False):
            self.watching.set()  # the first (empty) timeout means the watcher is running
            rels = sorted({Path(p).resolve().relative_to(widget.resolve()).as_posix()
                           for _, p in changes if _inside(widget, p)})
            if not rels:
                continue  # a timeout tick, or changes outside widget/
            self.server.broadcast("reload", {"files": rels})
            self.echo("changed: " + ", ".join(rels))
            if any(r == "manifest.json" or r.startswith(UPLOADED_ONLY) for r in rels):
                if self.rebuild_zip is not None:
                    try:
                        self.rebuild_zip()
                    except Exception as error:
                        self.echo(f"dev zip not rebuilt: {error}")
                self.echo("  Kommo reads manifest.json, i18n and images from the upload: "
                          "upload dist/widget-dev.zip again to see this in Kommo")
            try:
                self.check(announce=False)
            except Exception as error:
                self.echo(f"check failed: {type(error).__name__}: {error}")


def _inside(root: Path, path: str) -> bool:
    try:
        Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
