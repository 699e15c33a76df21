"""Benchmark `kommo dev`: time to ready, save-to-reload-event latency, preview load time.

Targets: `kommo dev` answers (the widget's script.js is served) in under 1 s after start; a
saved change reaches an open page as a `reload` server-sent event within 200 ms; the preview
of a generated all-areas widget is ready (every callback of its first area logged) in under
1 s, with the preview's libraries already in the cache (the first run installs them once);
the preview answers an API fixture in under 20 ms; a card widget that reads the open lead
through /api/v4 shows it under 1 s after the page is opened, and under 1 s after a new
`kommo dev` is ready (a fresh browser context: nothing cached by the page).
Runs in a throwaway HOME and cache.

    python benchmarks/bench_dev.py [--runs N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGETS = {"ready": 1.0, "reload event": 0.2, "preview all areas": 1.0, "API fixture": 0.02,
           "open lead shown": 1.0, "lead after ready": 1.0}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def time_ready(project: Path, env: dict[str, str]) -> float:
    """Seconds from starting the `kommo dev` process to script.js being served."""
    token = json.loads((project / ".kommo" / "dev.json").read_text("utf-8"))["token"]
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "from kommo_scaffold.cli.app import main; main()", "dev", "--port",
         str(port)], cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if get_status(port, f"/{token}/script.js") == 200:
                    return time.perf_counter() - start
            except OSError:
                pass
            if process.poll() is not None or time.perf_counter() - start > 20:
                raise SystemExit("kommo dev did not start")
            time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def time_reload(session: object, project: Path, runs: int) -> list[float]:
    """Seconds from writing script.js to the `reload` event arriving at a client."""
    from kommo_scaffold.dev.session import DevSession

    assert isinstance(session, DevSession)
    conn = http.client.HTTPConnection("127.0.0.1", session.server.port, timeout=30)
    conn.request("GET", "/__kommo/events")
    answer = conn.getresponse()
    arrived: list[float] = []
    got = threading.Event()

    def read() -> None:
        try:
            for raw in answer:
                if raw.startswith(b"event: reload"):
                    arrived.append(time.perf_counter())
                    got.set()
        except (OSError, ValueError):
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)  # the watcher is running and the client is subscribed
    script = project / "widget" / "script.js"
    text = script.read_text("utf-8")
    results = []
    for run in range(runs):
        got.clear()
        saved = time.perf_counter()
        script.write_text(text + f"\n// save {run}\n", "utf-8")
        if not got.wait(5):
            raise SystemExit("no reload event")
        results.append(arrived[-1] - saved)
        time.sleep(0.3)  # let the checker run settle
    script.write_text(text, "utf-8")
    conn.close()
    return results


def time_preview(session: object, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    from kommo_scaffold.dev.session import DevSession

    assert isinstance(session, DevSession)
    results = []
    with sync_playwright() as manager:
        browser = manager.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            url = f"{session.server.base_url}/preview/"
            page.goto(url)  # warm the HTTP cache-free path once
            page.wait_for_function("window.kommoPreview !== undefined")
            page.evaluate("kommoPreview.ready")
            for _ in range(runs):
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_function("window.kommoPreview !== undefined")
                page.evaluate("kommoPreview.ready")
                results.append(time.perf_counter() - start)
        finally:
            browser.close()
    return results


def time_api_fixture(session: object, runs: int) -> list[float]:
    from kommo_scaffold.dev.session import DevSession

    assert isinstance(session, DevSession)
    results = []
    conn = http.client.HTTPConnection("127.0.0.1", session.server.port, timeout=5)
    for _ in range(runs * 20):
        start = time.perf_counter()
        conn.request("GET", "/api/v4/leads/1?with=contacts")
        answer = conn.getresponse()
        answer.read()
        results.append(time.perf_counter() - start)
        assert answer.status == 200
    conn.close()
    return results


def time_open_lead(session: object, runs: int) -> list[float]:
    """From opening the preview to the lead's name, read by the widget from /api/v4, on the
    page (the project's render() has the fetch, see main())."""
    from playwright.sync_api import sync_playwright

    from kommo_scaffold.dev.session import DevSession

    assert isinstance(session, DevSession)
    results = []
    with sync_playwright() as manager:
        browser = manager.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            url = f"{session.server.base_url}/preview/?area=lcard"
            for _ in range(runs + 1):
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_selector(".bench-lead")
                results.append(time.perf_counter() - start)
        finally:
            browser.close()
    return results[1:]  # the first load warms Chromium's own caches


def time_lead_after_ready(project: Path, runs: int) -> list[float]:
    """From `kommo dev` being ready (a new session serving) to the open lead, read by the
    widget from /api/v4, shown in a fresh browser context: what a developer waits for."""
    from playwright.sync_api import sync_playwright

    from kommo_scaffold.dev.session import DevSession

    results = []
    with sync_playwright() as manager:
        browser = manager.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for _ in range(runs + 1):
                session = DevSession(project, free_port(), echo=lambda line: None,
                                     dev_zip=False)
                session.start()
                try:
                    start = time.perf_counter()
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(f"{session.server.base_url}/preview/?area=lcard")
                    page.wait_for_selector(".bench-lead")
                    results.append(time.perf_counter() - start)
                    context.close()
                finally:
                    session.stop()
        finally:
            browser.close()
    return results[1:]  # the first run warms Chromium's own caches


def report(name: str, samples: list[float]) -> bool:
    median = statistics.median(samples)
    ok = median < TARGETS[name]
    print(f"{name:18} median {median * 1000:7.1f} ms  max {max(samples) * 1000:7.1f} ms  "
          f"target < {TARGETS[name] * 1000:.0f} ms  {'OK' if ok else 'SLOW'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="kommo-bench-dev-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        os.environ["HOME"] = str(root / "home")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
        sys.path.insert(0, str(repo))
        from kommo_scaffold.catalog import areas
        from kommo_scaffold.dev import workspace as dev_project
        from kommo_scaffold.dev.libs import PreviewLibs
        from kommo_scaffold.dev.session import DevSession
        from kommo_scaffold.scaffold import generate

        project = root / "widget"
        generate.create(project, {"locations": list(areas.AREA_CODES)}, defaults=True)
        dev_project.token(dev_project.find_project(project))
        libs = PreviewLibs()
        libs.ensure()  # the one-time install is not what the targets measure
        if libs.error:
            raise SystemExit(f"preview libraries: {libs.error}")
        ok = report("ready", [time_ready(project, dict(os.environ)) for _ in range(args.runs)])
        session = DevSession(project, free_port(), echo=lambda line: None)
        session.start()
        try:
            session.watcher.watching.wait(10)
            ok &= report("reload event", time_reload(session, project, args.runs))
            ok &= report("preview all areas", time_preview(session, args.runs))
            ok &= report("API fixture", time_api_fixture(session, args.runs))
        finally:
            session.stop()
        fixtures = project / ".kommo" / "fixtures" / "api" / "v4" / "leads"
        fixtures.mkdir(parents=True)
        (fixtures / "1.json").write_text('{"id": 1, "name": "Bench deal"}', "utf-8")
        script = project / "widget" / "script.js"
        script.write_text(script.read_text("utf-8").replace(
            "render: function () {", "render: function () {\n        $.getJSON('/api/v4/leads/' "
            "+ APP.data.current_card.id).then(function (lead) {\n          $('#page_holder')"
            ".append($('<p class=\"bench-lead\"/>').text(lead.name));\n        });", 1), "utf-8")
        session = DevSession(project, free_port(), echo=lambda line: None)
        session.start()
        try:
            ok &= report("open lead shown", time_open_lead(session, args.runs))
        finally:
            session.stop()
        ok &= report("lead after ready", time_lead_after_ready(project, args.runs))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
