"""Start and stop everything `kommo dev` runs: server, dev zip, libraries, watcher."""

from __future__ import annotations

import errno
import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from kommo_scaffold.dev import api, workspace
from kommo_scaffold.dev.libs import PreviewLibs
from kommo_scaffold.dev.server import DevServer
from kommo_scaffold.dev.watch import Watcher
from kommo_scaffold.errors import UsageError

if TYPE_CHECKING:
    from kommo_scaffold.typescript.service import Builder

DEFAULT_PORT = 9000
# `kommo dev --api URL` reads the account's long-lived token here, never from the command line
# (where other users of the machine could see it in the process list).
API_TOKEN_VARIABLE = "KOMMO_API_TOKEN"


def free_port(after: int) -> int:
    """A port that can be bound on 127.0.0.1 now, the first after AFTER if possible."""
    for port in range(after + 1, min(after + 100, 65535)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def instructions(dev: workspace.DevProject, server: DevServer,
                 zip_path: Path | None, builds: bool = False) -> list[str]:
    key, port = dev.dev_key, server.port
    rel = zip_path.relative_to(dev.root).as_posix() if zip_path else "(not built)"
    return [
        f"kommo dev: serving {dev.widget} at {server.base_url}/{server.token}/",
        f"  preview:  {server.base_url}/preview/",
        f"  dev zip:  {rel} (upload it once in Kommo; again only when manifest.json, i18n "
        "or images change)",
        "  In the Kommo tab's DevTools console, turn dev mode on:",
        f"    localStorage.setItem('{key}', '{port}'); location.reload()",
        "  and off again:",
        f"    localStorage.removeItem('{key}'); location.reload()",
        "  Chrome 142+ (and other Chromium browsers) asks the Kommo tab for Local Network "
        "Access: click Allow.",
        "  If you blocked it, the widget does not load: allow it again in Site settings > "
        "Local network access. Safari may refuse http://localhost from an HTTPS page.",
        "Watching widget/, and src/ to rebuild widget/script.js (Ctrl-C stops)" if builds
        else "Watching widget/ (Ctrl-C stops)",
    ]


def _builder(root: Path) -> Builder | None:
    """A TypeScript project's build process (not started yet), or None."""
    from kommo_scaffold.typescript import project

    ts = project.find(root)
    if ts is None:
        return None
    from kommo_scaffold.typescript.service import Builder

    return Builder(ts)


class DevSession:
    """One running `kommo dev`: start() binds and starts threads, stop() ends them all."""

    def __init__(self, start: Path, port: int = DEFAULT_PORT,
                 echo: Callable[[str], None] = print, preview_libs: bool = True,
                 dev_zip: bool = True, api_url: str | None = None) -> None:
        self.dev = workspace.find_project(start)
        upstream = None
        if api_url is not None:
            try:
                upstream = api.Upstream.parse(api_url, os.environ.get(API_TOKEN_VARIABLE))
            except api.UpstreamError as error:
                raise workspace.DevError(str(error)) from None
        self.make_zip = dev_zip
        self.token = workspace.token(self.dev)
        workspace.dev_settings(self.dev)
        self.echo = echo
        self.libs = PreviewLibs() if preview_libs else None
        try:
            self.server = DevServer(self.dev, self.token, port, self.libs, on_log=echo,
                                   upstream=upstream)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise workspace.DevError(f"port {port} is in use; try kommo dev --port "
                                       f"{free_port(port)}") from None
            raise workspace.DevError(f"cannot listen on 127.0.0.1:{port}: "
                                   f"{error.strerror or error}") from None
        self.builder = _builder(self.dev.root)
        self.watcher = Watcher(self.server, echo,
                               rebuild_zip=self.build_zip if dev_zip else None,
                               builder=self.builder)
        self._threads: list[threading.Thread] = []
        self._serving = False
        self.zip_path: Path | None = None

    def _first_build(self, builder: Builder) -> None:
        """Start the build process and build once: the dev zip and the preview need a
        script.js. A failed build is shown and the loop goes on if an older one is there."""
        from kommo_scaffold.typescript.build import BuildError

        try:
            builder.start()
            outcome = builder.rebuild()
        except (UsageError, BuildError) as error:
            builder.close()
            raise workspace.DevError(str(error)) from None
        if not outcome.ok and not builder.ts.output.is_file():
            builder.close()
            raise workspace.DevError(f"the first build of src/ failed: {outcome.failure_line()}")
        self.watcher.rebuild(outcome)

    def build_zip(self) -> Path:
        from kommo_scaffold.dev import devzip  # imports the checker: after the server is up

        self.zip_path = devzip.build(self.dev, self.token)
        return self.zip_path

    def start(self) -> None:
        if self.builder is not None:
            self._first_build(self.builder)
        self._serving = True
        serve = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                 name="kommo-dev-http", daemon=True)
        serve.start()
        self._threads.append(serve)
        try:
            zip_path = self.build_zip() if self.make_zip else None
        except BaseException:
            self.stop()
            raise
        if self.libs is not None:
            libs = self.libs

            def install() -> None:
                libs.ensure()
                if libs.error:
                    self.echo(f"error: preview: {libs.error}")

            thread = threading.Thread(target=install, name="kommo-dev-libs", daemon=True)
            thread.start()
            self._threads.append(thread)
        for line in instructions(self.dev, self.server, zip_path, self.builder is not None):
            self.echo(line)
        self.watcher.start()

    def stop(self) -> None:
        """Safe at any point after __init__, also when start() did not finish."""
        if self.libs is not None:
            self.libs.cancel()
        if self.watcher.started:
            self.watcher.stop()
        if self.builder is not None:
            self.builder.close()
        self.server.close_clients()
        if self._serving:
            self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> DevSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# The signals that end `kommo dev`: Ctrl-C, `kill`, and the terminal closing.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


def run(start: Path, port: int, echo: Callable[[str], None] = print,
        api_url: str | None = None) -> None:
    """`kommo dev`: run until Ctrl-C (or SIGTERM/SIGHUP), then stop cleanly (exit status 0).

    The handlers are installed unconditionally: a process started with SIGINT ignored (as
    shells start background jobs) still stops on an explicit SIGINT, like other dev servers.
    """
    session = DevSession(start, port, echo, api_url=api_url)
    stopping = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            return  # a second Ctrl-C must not cut the clean stop short
        stopping.set()
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, on_stop) for signum in STOP_SIGNALS}
    try:
        session.start()
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        try:
            session.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        echo("kommo dev stopped")
