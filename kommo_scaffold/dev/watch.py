"""Watch widget/ with watchfiles; on every change tell open pages and run the checker.

In a TypeScript project src/ and types/ are watched too: a save there rebuilds
widget/script.js (whose change then reloads the pages as any other) and type-checks in the
background; build and type errors join the checker's findings on the page and in the
terminal, and the loop goes on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import watchfiles

from kommo_scaffold.dev.server import DevServer

if TYPE_CHECKING:
    from kommo_scaffold.typescript.build import Message, Outcome
    from kommo_scaffold.typescript.service import Builder

# Files whose change only reaches a Kommo tab through a new upload of the dev zip: the
# loader serves script.js and its AMD dependencies live, but Kommo reads these from the upload.
UPLOADED_ONLY = ("manifest.json", "i18n/", "images/", "style.css", "templates/")


def run_checker(path: Path, page: Any = None) -> tuple[list[dict[str, Any]], str]:
    """(findings as dicts, summary line) of `kommo check` on a project; ``page``: a V8 page
    started in advance (kommo_scaffold.check.js.engine.Page), which the check closes.

    The one place `kommo dev` calls the checker: re-point it here if the checker moves.
    """
    from kommo_scaffold import check
    from kommo_scaffold.typescript import verdict

    report = verdict.check_built(path, page)
    return [f.as_dict() for f in report.findings], check.summary_line(report)


def finding(rule: str, title: str, message: Message) -> dict[str, Any]:
    """A build or type error in the shape of a checker finding, for the page."""
    return {"rule": rule, "severity": "error", "title": title, "message": message.text,
            "file": message.file, "line": message.line, "json_path": None}


def next_page() -> Any:
    """A V8 page for the next re-check, started now so that starting V8 is not part of the
    time between a save and its findings."""
    from kommo_scaffold.check.js.engine import Page

    return Page()


class Watcher:
    """A thread that turns file changes into 'reload' and 'check' events."""

    def __init__(self, server: DevServer, echo: Callable[[str], None],
                 rebuild_zip: Callable[[], Any] | None = None,
                 builder: Builder | None = None) -> None:
        self.server = server
        self.echo = echo
        self.rebuild_zip = rebuild_zip
        self.builder = builder
        # Build and type errors, shown before the checker's findings.
        self.extra: dict[str, list[dict[str, Any]]] = {"build": [], "types": []}
        self._checked: list[dict[str, Any]] = []
        self._checked_summary = ""
        self._publish_lock = threading.Lock()
        self.typecheck: Any = None
        if builder is not None:
            from kommo_scaffold.typescript.service import TypeCheck

            self.typecheck = TypeCheck(builder.ts, self._types_done)
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
        if self.typecheck is not None:
            self.typecheck.stop()

    def _publish(self) -> list[dict[str, Any]]:
        """Send the page every finding: build and type errors, then the checker's."""
        with self._publish_lock:
            extra = self.extra["build"] + self.extra["types"]
            findings = extra + self._checked
            summary = self._checked_summary
            if extra:
                summary = (f"{len(extra)} build/type error{'s' if len(extra) > 1 else ''}; "
                           f"check: {summary}")
            self.server.findings, self.server.summary = findings, summary
            self.server.broadcast("check", {"findings": findings, "summary": summary})
            return findings

    def _echo_findings(self, label: str, findings: list[dict[str, Any]]) -> None:
        self.echo(label)
        for f in findings:
            where = f.get("file") or "widget"
            if f.get("line"):
                where += f":{f['line']}"
            self.echo(f"  {where}: {f['rule']} {f['severity']}: {f['message']}")

    def check(self, announce: bool) -> None:
        started = time.monotonic()
        page, self._page = self._page, None
        findings, summary = run_checker(self.server.dev.root, page)
        if not self.stop_event.is_set():
            self._page = next_page()
        changed = findings != self._checked
        self._checked, self._checked_summary = findings, summary
        self._publish()
        if announce or changed:
            took = (time.monotonic() - started) * 1000
            self._echo_findings(f"check: {summary} ({took:.0f} ms)", findings)

    def rebuild(self, done: Outcome | None = None) -> bool:
        """Build src/ now (or take the outcome of a build just ``done``); True when
        widget/script.js was written."""
        from kommo_scaffold.typescript.build import BuildError, Message

        assert self.builder is not None
        try:
            outcome = done if done is not None else self.builder.rebuild()
        except BuildError as error:
            self.extra["build"] = [finding("build", "Build error", Message(str(error)))]
            self._publish()
            self.echo(f"build failed: {error}")
            return False
        previous = self.extra["build"]
        self.extra["build"] = [finding("build", "Build error", m) for m in outcome.errors]
        if self.typecheck is not None:
            self.typecheck.request()
        if outcome.ok:
            self.echo(f"built widget/script.js ({outcome.ms:.0f} ms)")
        else:
            self._echo_findings(f"build failed: {outcome.failure_line()}",
                                self.extra["build"])
        if self.extra["build"] != previous:
            self._publish()
        return outcome.ok

    def _types_done(self, errors: list[tuple[str, Message]]) -> None:
        found = [finding(code, "Type error", message) for code, message in errors]
        if found == self.extra["types"]:
            return
        self.extra["types"] = found
        self._publish()
        if found:
            self._echo_findings(f"tsc: {len(found)} type error{'s' if len(found) > 1 else ''}",
                                found)
        else:
            self.echo("tsc: no type errors")

    def _run(self) -> None:
        try:
            self._watch()
        finally:  # nothing will use the next page: close it (an open one can hang exit)
            if self._page is not None:
                self._page.close()
                self._page = None

    def _watch(self) -> None:
        widget = self.server.dev.widget
        sources = [] if self.builder is None else [
            folder for folder in (self.builder.ts.sources, self.builder.ts.root / "types")
            if folder.is_dir()]
        try:
            self.check(announce=True)
        except Exception as error:  # the checker never stops the loop
            self.echo(f"check failed: {type(error).__name__}: {error}")
        # step: a change is reported after 50 ms without another, so an editor's save in
        # place (truncate, then write) is one change, not a reload of an empty file.
        for changes in watchfiles.watch(widget, *sources, stop_event=self.stop_event, step=50,
                                        debounce=1600, rust_timeout=500,
                                        yield_on_timeout=True, raise_interrupt=False):
            self.watching.set()  # the first (empty) timeout means the watcher is running
            if any(_inside(folder, p) for folder in sources for _, p in changes):
                self.rebuild()  # a new script.js arrives as the next change of widget/
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
