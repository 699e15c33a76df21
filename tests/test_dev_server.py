"""`kommo dev`: the server, the token, the events, the dev zip, the CLI's start and stop."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli, user_git
from dev_helpers import EventReader, dev_session, free_port, request
from http_helpers import QuietHandler, local_server

from kommo_scaffold import check
from kommo_scaffold.check import pack
from kommo_scaffold.dev import devzip, jwt
from kommo_scaffold.dev import workspace as project
from kommo_scaffold.dev.server import PREVIEW_HEADER, assigned_code
from kommo_scaffold.dev.session import DevSession

SETTINGS_FIELDS = [{"code": "api_key", "type": "text", "required": True},
                   {"code": "manager", "type": "users"}]


@pytest.fixture
def widget(make_widget) -> Path:
    return make_widget(locations=["lcard", "llist", "settings", "digital_pipeline"],
                       panel_locations=["lcard"], settings_fields=SETTINGS_FIELDS)


def test_serves_widget_under_token_with_cors_and_no_store(widget):
    with dev_session(widget) as (session, _):
        port, token = session.server.port, session.token
        status, headers, body = request(port, "GET", f"/{token}/script.js")
        assert status == 200
        assert body == (widget / "widget" / "script.js").read_bytes()
        assert headers["content-type"].startswith("text/javascript")
        assert headers["cache-control"] == "no-store"
        assert headers["access-control-allow-origin"] == "*"
        for rel in ("i18n/en.json", "style.css", "manifest.json"):
            status, headers, _ = request(port, "GET", f"/{token}/{rel}",
                                         headers={"Origin": "https://acme.kommo.com"})
            assert status == 200 and headers["access-control-allow-origin"] == "*", rel
        status, headers, _ = request(port, "OPTIONS", f"/{token}/i18n/en.json")
        assert status == 204 and headers["access-control-allow-origin"] == "*"
        # No token, a wrong token, a way out of widget/ or a dot file: nothing is served.
        for path in ("/script.js", "/0123456789abcdef01234567/script.js",
                     f"/{token}/../.copier-answers.yml", f"/{token}/%2e%2e/.copier-answers.yml",
                     f"/{token}/..%2f.kommo/dev.json", f"/{token}/.gitignore"):
            status, _, body = request(port, "GET", path)
            assert status == 404, path
            assert b"token" not in body
        # A page on another host name (DNS rebinding) gets nothing.
        for path in (f"/{token}/script.js", "/__kommo/state", "/preview/"):
            status, _, body = request(port, "GET", path, headers={"Host": f"evil.test:{port}"})
            assert status == 403 and b"token" not in body, path
        status, _, _ = request(port, "GET", f"/{token}/script.js",
                               headers={"Host": f"localhost:{port}"})
        assert status == 200
        # The preview's state is not readable cross-origin (no CORS header).
        status, headers, _ = request(port, "GET", "/__kommo/state")
        assert status == 200 and "access-control-allow-origin" not in headers


def test_widget_files_also_at_kommos_paths_with_the_assigned_code(widget):
    """/upl/<code>/widget/<file> and /widgets/<code>/<file>, where Kommo serves a widget's
    files: the same files and rules as under the token, which the assigned code carries."""
    with dev_session(widget, dev_zip=False) as (session, _):
        port, token = session.server.port, session.token
        code = assigned_code(token)
        assert token in code
        script = (widget / "widget" / "script.js").read_bytes()
        for base in (f"/upl/{code}/widget", f"/widgets/{code}"):
            status, headers, body = request(port, "GET", f"{base}/script.js")
            assert status == 200 and body == script, base
            assert headers["access-control-allow-origin"] == "*"
            assert headers["cache-control"] == "no-store"
            status, headers, _ = request(port, "OPTIONS", f"{base}/i18n/en.json")
            assert status == 204 and headers["access-control-allow-origin"] == "*"
            for bad in (f"{base}/../.copier-answers.yml", f"{base}/%2e%2e/.kommo/dev.json",
                        f"{base}/.gitignore"):
                assert request(port, "GET", bad)[0] == 404, bad
        # Another code (the project's own, or a guess) gets nothing, not even CORS.
        for path in (f"/upl/{session.dev.slug}/widget/script.js", "/widgets/kp/script.js",
                     f"/upl/{code[:-1]}/widget/script.js", f"/widgets/{code}x/script.js"):
            status, headers, _ = request(port, "GET", path)
            assert status == 404 and "access-control-allow-origin" not in headers, path


def test_token_is_random_per_project_kept_and_git_ignored(widget, make_widget):
    first = project.token(project.find_project(widget / "widget" / "i18n"))
    assert first == project.token(project.find_project(widget))
    other = make_widget(locations=["lcard"])
    assert project.token(project.find_project(other)) != first
    assert len(first) == 24
    # .kommo/ ignores itself, whatever the project's own ignore rules are.
    (widget / ".gitignore").write_text("", "utf-8")
    assert user_git(widget, "status", "--porcelain", "--untracked-files=all",
                    "--", ".kommo").strip() == ""
    project.dev_settings(project.find_project(widget))
    settings = json.loads((widget / ".kommo" / "dev-settings.json").read_text("utf-8"))
    assert settings["fields"] == {"api_key": "", "manager": {}}


def test_not_a_project_is_one_line(tmp_path):
    with pytest.raises(project.DevError, match="not inside a widget project"):
        project.find_project(tmp_path)


def test_reload_and_check_events_on_save(widget):
    with dev_session(widget) as (session, lines):
        events = EventReader(session.server.port)
        try:
            script = widget / "widget" / "script.js"
            text = script.read_text("utf-8")
            script.write_text(text.replace("bind_actions: function", "bind_action: function"),
                              "utf-8")
            data, _ = events.wait_for("reload")
            assert data["files"] == ["script.js"]
            found, _ = events.wait_for("check")
            rules = {f["rule"] for f in found["findings"]}
            assert "KS305" in rules, found
            assert any("KS305" in line for line in lines)
            _status, _, body = request(session.server.port, "GET", "/__kommo/state")
            assert "KS305" in {f["rule"] for f in json.loads(body)["findings"]}
        finally:
            events.close()


def test_manifest_change_rebuilds_the_dev_zip_and_says_upload(widget):
    with dev_session(widget) as (session, lines):
        events = EventReader(session.server.port)
        try:
            manifest = widget / "widget" / "manifest.json"
            manifest.write_text(manifest.read_text("utf-8").replace('"1.0.0"', '"1.0.1"'),
                                "utf-8")
            events.wait_for("check")
            with zipfile.ZipFile(session.dev.dev_zip) as archive:
                assert '"1.0.1"' in archive.read("manifest.json").decode()
            assert any("upload dist/widget-dev.zip again" in line for line in lines)
        finally:
            events.close()


def test_dev_zip_loader_falls_back_and_is_refused_by_check_and_pack(widget, tmp_path):
    dev = project.find_project(widget)
    token = project.token(dev)
    zip_path = devzip.build(dev, token)
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        loader = archive.read("script.js").decode()
        assert archive.read(project.REAL_SCRIPT) == (widget / "widget" / "script.js").read_bytes()
        assert archive.read("manifest.json") == (widget / "widget" / "manifest.json").read_bytes()
        archive.extractall(tmp_path / "unzipped")
    assert {"manifest.json", "i18n/en.json", "images/logo.png", "style.css"} <= names
    assert "'http://localhost:' + port + '/' + TOKEN + '/script.js'" in loader
    assert json.dumps(dev.dev_key) in loader and json.dumps(token) in loader
    assert "./script.real.js" in loader
    subprocess.run(["node", "--check", tmp_path / "unzipped" / "script.js"], check=True)
    assert "KS308" in check.check_path(zip_path).rules()
    assert "KS308" not in check.check_path(widget).rules()
    # The generated dp.webhook_url is a placeholder, which pack also refuses (KS114): give it
    # a real host so the loader is the one thing left to refuse.
    manifest = tmp_path / "unzipped" / "manifest.json"
    manifest.write_text(manifest.read_text("utf-8").replace("https://example.com/",
                                                            "https://hooks.acme-widgets.io/"),
                        "utf-8")
    assert {f.rule for f in check.check_path(tmp_path / "unzipped").pack_blockers} == {"KS308"}
    with pytest.raises(pack.PackError, match="KS308"):
        pack.pack(tmp_path / "unzipped", output=tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_crm_post_proxy_round_trip_and_header_guard(widget):
    seen: list[bytes] = []

    class Echo(QuietHandler):
        def do_POST(self):
            body = self.body()
            seen.append(body)
            self.reply(201, json.dumps({"echo": body.decode()}).encode())

    with local_server(Echo) as backend, dev_session(widget) as (session, _):
        port, token = session.server.port, session.token
        url = f"{backend}/hook"
        payload = {"url": url, "data": {"lead": "7", "q": "a&b"}}
        status, _, _ = request(port, "POST", "/__kommo/proxy", payload)
        assert status == 403 and not seen
        status, _, body = request(port, "POST", "/__kommo/proxy", payload,
                                  {PREVIEW_HEADER: token})
        answer = json.loads(body)
        assert status == 200 and answer["status"] == 201
        assert json.loads(answer["body"]) == {"echo": "lead=7&q=a%26b"}
        status, _, body = request(port, "POST", "/__kommo/proxy", {"url": "file:///etc"},
                                  {PREVIEW_HEADER: token})
        assert status == 400


def test_dev_jwt_is_hs256_with_kommo_claims():
    token = jwt.dev_token("s3cret", "demo", "http://localhost:8000", now=1000)
    header, payload, signature = token.split(".")
    expected = hmac.new(b"s3cret", f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert {"iss", "aud", "jti", "iat", "nbf", "exp", "account_id", "user_id", "subdomain",
            "client_uuid"} <= set(claims)
    assert claims["exp"] == 1060 and claims["aud"] == "http://localhost:8000"


def test_assigned_code_differs_from_the_project_code(widget):
    with dev_session(widget) as (session, _):
        _, _, body = request(session.server.port, "GET", "/__kommo/state")
        state = json.loads(body)
    assert state["code"] == assigned_code(state["token"]) != state["project_code"]
    assert state["settings"]["fields"]["api_key"] == ""
    assert "jwt_secret" not in state["settings"]


def _start_cli(widget: Path, port: int, prelude: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", prelude + "from kommo_scaffold.cli.app import main; main()", "dev",
         "--port", str(port)], cwd=widget / "widget", stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float = 20) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} not printed: {lines}")


@contextlib.contextmanager
def _cli(widget: Path, port: int, prelude: str = "") -> Iterator[subprocess.Popen[str]]:
    """`kommo dev` in a subprocess, killed if the test leaves it running."""
    process = _start_cli(widget, port, prelude)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _stops_cleanly(process: subprocess.Popen[str], signum: int, port: int,
                   timeout: float = 10) -> str:
    """Send ``signum``: kommo dev exits 0, says it stopped, and frees its port."""
    process.send_signal(signum)
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out
    assert "kommo dev stopped" in out and "Traceback" not in out
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again
    return out


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_the_console_lines_and_stops_cleanly(widget, stop_signal):
    port = free_port()
    with _cli(widget, port) as process:
        lines = _read_until(process, "Ctrl-C stops")
        text = "\n".join(lines)
        code = project.find_project(widget).slug
        assert f"localStorage.setItem('kommo-dev:{code}', '{port}')" in text
        assert "localStorage.removeItem(" in text
        assert "Local Network Access" in text and "Chrome 142" in text
        assert f"http://127.0.0.1:{port}/preview/" in text
        _stops_cleanly(process, stop_signal, port)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGHUP])
def test_cli_stops_on_a_signal_it_was_started_ignoring(widget, stop_signal):
    # Shells start background jobs with SIGINT ignored; an explicit signal still stops it.
    port = free_port()
    ignoring = f"import signal; signal.signal({int(stop_signal)}, signal.SIG_IGN); "
    with _cli(widget, port, prelude=ignoring) as process:
        _read_until(process, "Ctrl-C stops")
        _stops_cleanly(process, stop_signal, port)


def test_cli_busy_port_is_one_line_naming_a_free_port(widget):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = _start_cli(widget, port)
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith(f"error: port {port} is in use; try kommo dev --port ")
    suggested = int(lines[0].rsplit(" ", 1)[1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", suggested))


def test_a_failed_start_leaves_no_server_running(widget):
    (widget / "widget" / project.REAL_SCRIPT).write_text("// mine\n", "utf-8")
    port = free_port()
    session = DevSession(widget, port, echo=lambda line: None, preview_libs=False)
    with pytest.raises(project.DevError, match=r"script\.real\.js exists"):
        session.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # released
    assert all(not t.is_alive() for t in session._threads)


def test_preview_libraries_without_npm_are_one_line_and_the_widget_is_still_served(
        widget, tmp_path, monkeypatch):
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with dev_session(widget, preview_libs=True) as (session, lines):
        assert session.libs is not None and session.libs.wait(10)
        assert session.libs.error and "needs npm" in session.libs.error
        assert "\n" not in session.libs.error
        status, _, body = request(session.server.port, "GET", "/preview/libs/jquery.js")
        assert status == 503 and b"needs npm" in body
        status, _, _ = request(session.server.port, "GET", f"/{session.token}/script.js")
        assert status == 200
    assert any(line.startswith("error: preview: ") for line in lines)
    assert not (tmp_path / "cache" / "preview-libs").exists() or not any(
        (tmp_path / "cache" / "preview-libs").iterdir())


def test_stopping_during_the_first_install_leaves_no_npm_and_no_half_install(
        widget, tmp_path, monkeypatch):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    monkeypatch.setenv("KOMMO_SCAFFOLD_CACHE", str(tmp_path / "cache"))
    with dev_session(widget, preview_libs=True) as (session, _):
        deadline = time.monotonic() + 10
        while session.libs._process is None and time.monotonic() < deadline:
            time.sleep(0.01)
        process = session.libs._process
    if process is not None:  # npm was running when the session stopped
        assert process.poll() is not None
    assert session.libs.ready and session.libs.error
    libs_root = tmp_path / "cache" / "preview-libs"
    assert not libs_root.exists() or list(libs_root.iterdir()) == []


def test_two_starts_agree_on_one_token(widget):
    dev = project.find_project(widget)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(project.token(dev)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(tokens)) == 1 and len(tokens) == 8
    assert sorted(p.name for p in (widget / ".kommo").iterdir()) == [".gitignore", "dev.json"]


def test_a_broken_dev_settings_file_is_kept_and_named(widget):
    dev = project.find_project(widget)
    path = widget / ".kommo" / "dev-settings.json"
    project.token(dev)
    path.write_text('{"fields": ', "utf-8")
    with pytest.raises(project.DevError, match=r"dev-settings\.json is not a JSON object"):
        project.dev_settings(dev)
    assert path.read_text("utf-8") == '{"fields": '


def test_cli_rejects_a_port_out_of_range(widget):
    process = _start_cli(widget, 70000)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 2 and "Traceback" not in out and "--port" in out


@pytest.mark.parametrize("marker", ["kommo dev: serving", "dev zip:", "Ctrl-C stops"])
def test_ctrl_c_at_any_point_of_the_start_is_clean(widget, marker):
    port = free_port()
    with _cli(widget, port) as process:
        _read_until(process, marker)
        _stops_cleanly(process, signal.SIGINT, port, timeout=20)
    assert list(widget.rglob("*.tmp")) == []


# --- hostile requests: every one gets an answer, never a traceback ---------------------------

def _raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send DATA as it is (http.client would fix up what we want broken); the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        with contextlib.suppress(TimeoutError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        return b"".join(chunks)


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5", "0x10", "", None,
                                    "99999999999999999999"])
def test_post_needs_a_decimal_content_length(widget, length):
    with dev_session(widget, dev_zip=False) as (session, _):
        port, token = session.server.port, session.token
        head = (f"POST /__kommo/jwt HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"{PREVIEW_HEADER}: {token}\r\nContent-Type: application/json\r\n")
        if length is not None:
            head += f"Content-Length: {length}\r\n"
        # The body is never ended by the client: before, -1 read until the client closed.
        answer = _raw(port, (head + "\r\n{}").encode())
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
        assert b"Content-Length" in answer
        chunked = _raw(port, (head.replace(f"Content-Length: {length}\r\n", "")
                              + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n").encode())
        assert chunked.startswith(b"HTTP/1.1 400 "), chunked[:200]
        status, _, body = request(port, "POST", "/__kommo/jwt", {},
                                  headers={PREVIEW_HEADER: token})
        assert status == 200 and b"token" in body


def test_preflight_cors_only_for_widget_files(widget):
    with dev_session(widget, dev_zip=False) as (session, _):
        port, token = session.server.port, session.token
        for path in ("/__kommo/state", "/__kommo/settings", "/__kommo/jwt", "/__kommo/proxy",
                     "/__kommo/events", "/preview/", "/"):
            status, headers, _ = request(port, "OPTIONS", path,
                                         headers={"Origin": "https://evil.example"})
            assert status == 204, path
            assert not any(k.startswith("access-control-") for k in headers), (path, headers)
        status, headers, _ = request(port, "OPTIONS", f"/{token}/script.js")
        assert status == 204 and headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:1@evil.example", False), ("localhost@evil.example", False),
    ("localhost.evil.example", False), ("evil.example", False), ("127.0.0.1:80:90", False),
    ("localhost:abc", False), ("[::1]x", False), ("", False), ("127.0.0.1 evil", False),
    ("192.168.1.10", False), ("localhost:", False),
    ("127.0.0.1", True), ("localhost", True), ("LOCALHOST:9000", True), ("[::1]:9000", True),
    ("127.0.0.1:{port}", True), ("localhost:{port}", True),
])
def test_host_header_must_be_exactly_a_loopback_name(widget, host, allowed):
    with dev_session(widget, dev_zip=False) as (session, _):
        port, token = session.server.port, session.token
        status, _, body = request(port, "GET", f"/{token}/script.js",
                                  headers={"Host": host.format(port=port)})
        assert (status == 200) is allowed, (host, status)
        if not allowed:
            assert status == 403 and b"define" not in body


def test_a_symlinked_widget_folder_is_refused_at_start(widget, tmp_path):
    real = tmp_path / "elsewhere"
    (widget / "widget").rename(real)
    (widget / "widget").symlink_to(real, target_is_directory=True)
    with pytest.raises(project.DevError, match=r"widget is a symbolic link") as caught:
        DevSession(widget, free_port(), echo=lambda line: None, preview_libs=False)
    assert "\n" not in str(caught.value)


def test_a_silent_connection_is_closed(widget):
    with dev_session(widget, dev_zip=False) as (session, _):
        session.server.idle_timeout = 0.5
        port = session.server.port
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.sendall(f"GET /preview/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
            assert sock.recv(1024) == b""  # closed by the server, not by our 20 s timeout
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            assert sock.recv(1024) == b""  # connects and sends nothing at all


def test_every_answer_has_no_referrer_policy(widget):
    with dev_session(widget, dev_zip=False) as (session, _):
        port, token = session.server.port, session.token
        for method, path, headers in (
                ("GET", f"/{token}/script.js", {}), ("GET", "/__kommo/state", {}),
                ("GET", "/nothing", {}), ("OPTIONS", "/__kommo/state", {}),
                ("GET", "/", {}), ("GET", "/preview/", {}),
                ("GET", "/__kommo/state", {"Host": "evil.example"}),
                ("POST", "/__kommo/jwt", {})):
            _, answer, _ = request(port, method, path, headers=headers)
            assert answer.get("referrer-policy") == "no-referrer", (method, path)
        crowded = b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 120 + b"\r\n"
        refused = _raw(port, crowded)  # http.server's own send_error answer (431)
        assert refused.startswith(b"HTTP/1.1 431") and b"Referrer-Policy: no-referrer" in refused


def _state(port: int) -> dict:
    status, _, body = request(port, "GET", "/__kommo/state")
    assert status == 200, body
    return json.loads(body)


def test_broken_project_files_get_answers_and_findings_not_tracebacks(widget, capfd):
    with dev_session(widget, dev_zip=False) as (session, lines):
        port, token = session.server.port, session.token
        status, _, _ = request(port, "GET", f"/{token}/" + "a" * 300)
        assert status == 404
        status, _, _ = request(port, "GET", f"/{token}/" + "a/" * 3000 + "b")
        assert status == 404
        settings = widget / ".kommo" / "dev-settings.json"
        for text in ("[]", '"text"', '{"fields": []}'):
            settings.write_text(text, "utf-8")
            state = _state(port)
            assert state["settings"] == {}
            assert any(f["file"] == ".kommo/dev-settings.json" for f in state["findings"])
            status, _, body = request(port, "POST", "/__kommo/settings", {"fields": {"a": 1}},
                                      headers={PREVIEW_HEADER: token})
            assert status == 409 and "dev-settings.json" in json.loads(body)["error"]
            assert settings.read_text("utf-8") == text  # the user's file is kept
        settings.unlink()
        (widget / "widget").rename(widget / "moved")
        try:
            state = _state(port)
            assert any(f["file"] == "manifest.json" for f in state["findings"])
            assert state["manifest"] == {"locations": []} and state["i18n"] == {}
            status, _, _ = request(port, "GET", f"/{token}/script.js")
            assert status == 404
        finally:
            (widget / "moved").rename(widget / "widget")
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err + "\n".join(lines)


@pytest.mark.parametrize("broken, rule", [("{", "KS102"), ('{"locations": {"a": 1}}', None)])
def test_a_broken_manifest_starts_and_shows_the_finding(widget, broken, rule, capfd):
    manifest = widget / "widget" / "manifest.json"
    if rule is None:
        data = json.loads(manifest.read_text("utf-8"))
        data["locations"] = {"lcard": 1}
        broken = json.dumps(data)
    manifest.write_text(broken, "utf-8")
    with dev_session(widget) as (session, lines):
        deadline = time.monotonic() + 10
        while not session.server.summary and time.monotonic() < deadline:
            time.sleep(0.05)
        state = _state(session.server.port)
        assert isinstance(state["manifest"]["locations"], list)
        errors = [f for f in state["findings"] if f["severity"] == "error"]
        assert errors, state["findings"]
        if rule:
            assert rule in {f["rule"] for f in errors}
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err + "\n".join(lines)


def test_kommo_set_during_kommo_dev_lists_only_the_changed_files(widget):
    """The project is written through temporaries outside widget/, so the watcher (and an
    editor) never sees kommo's own half-written files."""
    with dev_session(widget, dev_zip=False) as (session, lines):
        events = EventReader(session.server.port)
        try:
            done = run_cli("set", "backend_url=https://new.example/kommo", "-C", str(widget))
            assert done.returncode == 0, done.stdout + done.stderr
            data, _ = events.wait_for("reload", timeout=20)
            time.sleep(2.5)  # and nothing after it: a late temporary would be a second event
            reloads = [d for name, d, _ in events.events if name == "reload"]
        finally:
            events.close()
    assert "manifest.json" in data["files"]
    listed = {f for d in reloads for f in d["files"]}
    assert not [f for f in listed if "kommo-" in f or f.startswith(".")], listed
    assert not [line for line in lines if "kommo-" in line and line.startswith("changed")]
    assert not list(widget.glob(".kommo-write-*"))
