"""The generated back end's OAuth 2 and REST client (src/OAuth.php, src/Kommo.php), run with
real PHP against a local stand-in for Kommo's token endpoint and API on 127.0.0.1
(KOMMO_API_BASE_URL): https://developers.kommo.com/docs/oauth-20.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from test_backend import PhpServer, dp_body, make_project

pytestmark = pytest.mark.skipif(shutil.which("php") is None,
                                reason="php is not installed (CI installs php-cli)")

HOST = "acme.kommo.com"
CLIENT = {"KOMMO_CLIENT_ID": "client-1", "KOMMO_CLIENT_SECRET": "secret-1",
          "KOMMO_REDIRECT_URI": "https://w.acme-crm.com/oauth/callback"}


@dataclass
class Kommo:
    """Kommo's /oauth2/access_token and /api/v4 as far as the client uses them."""

    expires_in: int = 86400
    valid: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=lambda: {"refresh-0"})
    grants: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, token
    bodies: list[Any] = field(default_factory=list)
    busy_once: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    serial: int = 0

    def token_answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.grants.append(body)
            if (body.get("client_id"), body.get("client_secret"), body.get("redirect_uri")) != \
                    tuple(CLIENT.values()):
                return 401, {"title": "Unauthorized", "hint": "Client authentication failed"}
            if body.get("grant_type") == "authorization_code":
                if body.get("code") != "good-code":
                    return 400, {"hint": "Authorization code has been revoked"}
            elif body.get("grant_type") == "refresh_token":
                if body.get("refresh_token") not in self.refresh_tokens:
                    return 401, {"hint": "Token has been revoked"}
                self.refresh_tokens.discard(body["refresh_token"])
            else:
                return 400, {"hint": "unsupported grant"}
            self.serial += 1
            access, refresh = f"access-{self.serial}", f"refresh-{self.serial}"
            self.valid.add(access)
            self.refresh_tokens.add(refresh)
        time.sleep(0.3)  # a slow answer, so that two processes would both refresh
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in,
                     "access_token": access, "refresh_token": refresh}


def stand_in(kommo: Kommo) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None
                   = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def api(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if self.path == "/oauth2/access_token":
                self.answer(*kommo.token_answer(body))
                return
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            kommo.calls.append((self.command, self.path, token))
            kommo.bodies.append(body)
            if token not in kommo.valid:
                self.answer(401, {"title": "Unauthorized", "status": 401})
            elif kommo.busy_once:
                kommo.busy_once = False
                self.answer(429, {"title": "Too Many Requests"}, {"Retry-After": "1"})
            elif self.path == "/api/v4/leads/notes" and self.command == "POST":
                self.answer(200, {"_embedded": {"notes": [{"id": 1, "entity_id": n["entity_id"]}
                                                          for n in body]}})
            elif self.path.startswith("/api/v4/leads/7"):
                self.answer(200, {"id": 7, "name": "Deal", "echo": body})
            else:
                self.answer(404, {"title": "Not found", "detail": "no such entity"})

        do_GET = do_POST = do_PATCH = api

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("oauth") / "w",
                        locations=["lcard", "digital_pipeline"], backend_url="https://w.acme-crm.com")


@pytest.fixture()
def kommo() -> Iterator[tuple[Kommo, str]]:
    state = Kommo()
    server = stand_in(state)
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def backend(project: Path, tmp_path: Path, kommo: tuple[Kommo, str]) -> Iterator[PhpServer]:
    env = {**CLIENT, "KOMMO_API_BASE_URL": kommo[1], "KOMMO_TOKEN_DIR": str(tmp_path / "tok"),
           "KOMMO_BACKEND_LOG": str(tmp_path / "backend.log")}
    php = PhpServer(project, env)
    try:
        yield php.start()
    finally:
        php.stop()


def client(project: Path, backend: PhpServer, code: str) -> subprocess.CompletedProcess[str]:
    """PHP as a hook runs it: the back end configured, then ``code``."""
    script = ("require 'backend/src/App.php'; KommoBackend\\App::configure(getcwd() . '/backend');"
              "use KommoBackend\\Kommo; use KommoBackend\\KommoError;" + code)
    return subprocess.run(["php", "-d", "display_errors=stderr", "-r", script],
                          cwd=project, env={**backend.env, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60, check=False)


def install(backend: PhpServer) -> None:
    reply = backend.request("GET", f"/oauth/callback?code=good-code&referer={HOST}&state=x"
                                   f"&client_id={CLIENT['KOMMO_CLIENT_ID']}")
    assert reply.status == 200, reply.body
    assert reply.json() == {"ok": True, "account": HOST}


def stored(backend: PhpServer) -> dict[str, Any]:
    path = Path(backend.env["KOMMO_TOKEN_DIR"]) / f"{HOST}.json"
    assert path.stat().st_mode & 0o077 == 0  # only the back end's user reads tokens
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def log(backend: PhpServer) -> str:
    return Path(backend.env["KOMMO_BACKEND_LOG"]).read_text("utf-8")


def test_the_callback_exchanges_the_code_and_stores_the_tokens(backend, kommo) -> None:
    state, _ = kommo
    install(backend)
    assert state.grants[0]["grant_type"] == "authorization_code"
    assert stored(backend)["access_token"] == "access-1"
    done = client(backend.project, backend,
                  f"echo json_encode(Kommo::forAccount('https://{HOST}/leads')->get('/api/v4/leads/7'));")
    assert json.loads(done.stdout)["name"] == "Deal", done.stderr
    assert state.calls == [("GET", "/api/v4/leads/7", "access-1")]
    assert "access-1" not in log(backend) and "refresh-1" not in log(backend)


@pytest.mark.parametrize("query, status", [
    ("code=good-code&referer=acme.kommo.com.evil.example", 400),
    ("code=good-code&referer=evil.example", 400),
    ("referer=acme.kommo.com", 400),
    ("code=good-code&referer=acme.kommo.com&client_id=other", 400),
    ("code=bad-code&referer=acme.kommo.com", 502),
    ("code=good-code&referer=acme.kommo.com", 200),
])
def test_the_callback_refuses_what_is_not_kommos_redirect(backend, query, status) -> None:
    reply = backend.request("GET", "/oauth/callback?" + query)
    assert reply.status == status, reply.body
    assert backend.request("POST", "/oauth/callback?" + query).status == 405


def test_a_token_about_to_expire_is_refreshed_first(backend, kommo, project) -> None:
    state, _ = kommo
    state.expires_in = 30  # under the client's 60 s margin
    install(backend)
    done = client(project, backend, "Kommo::forAccount('acme.kommo.com')->get('/api/v4/leads/7');"
                                    "echo 'ok';")
    assert done.stdout == "ok", done.stderr
    assert [g["grant_type"] for g in state.grants] == ["authorization_code", "refresh_token"]
    assert state.calls[-1][2] == "access-2" and stored(backend)["refresh_token"] == "refresh-2"
    assert "refreshed the tokens of acme.kommo.com" in log(backend)


def test_a_401_refreshes_once_and_retries(backend, kommo, project) -> None:
    state, _ = kommo
    install(backend)
    state.valid.discard("access-1")  # Kommo revoked the access token early
    done = client(project, backend,
                  "echo json_encode(Kommo::forAccount('acme.kommo.com')->patch('/api/v4/leads/7',"
                  " ['price' => 5]));")
    assert json.loads(done.stdout)["echo"] == {"price": 5}, done.stderr
    assert [(m, t) for m, _, t in state.calls] == [("PATCH", "access-1"), ("PATCH", "access-2")]


def test_two_processes_at_once_refresh_once(backend, kommo, project) -> None:
    state, _ = kommo
    state.expires_in = 30
    install(backend)
    code = "echo Kommo::forAccount('acme.kommo.com')->accessToken();"
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: client(project, backend, code), range(2)))
    assert [r.stdout for r in results] == ["access-2", "access-2"], [r.stderr for r in results]
    assert [g["grant_type"] for g in state.grants].count("refresh_token") == 1


def test_a_revoked_refresh_token_is_a_clear_error(backend, kommo, project) -> None:
    state, _ = kommo
    state.expires_in = 30
    install(backend)
    state.refresh_tokens.clear()
    done = client(project, backend, "try { Kommo::forAccount('acme.kommo.com')->get('/api/v4/"
                                    "leads/7'); } catch (KommoError $e) { echo $e->status, ' ',"
                                    " $e->getMessage(); }")
    assert done.stdout.startswith("401 refreshing the tokens of acme.kommo.com"), done.stderr
    assert "install the integration again" in done.stdout
    assert "Token has been revoked" in done.stdout
    assert "refresh-1" not in done.stdout


def test_429_waits_and_retries_and_errors_carry_kommos_answer(backend, kommo, project) -> None:
    state, _ = kommo
    install(backend)
    state.busy_once = True
    done = client(project, backend,
                  "echo json_encode(Kommo::forAccount('acme.kommo.com')->get('/api/v4/leads/7'));"
                  "try { Kommo::forAccount('acme.kommo.com')->get('/api/v4/leads/8'); }"
                  " catch (KommoError $e) { echo \"\\n\", $e->status, ' ', $e->getMessage(); }")
    first, second = done.stdout.split("\n")
    assert json.loads(first)["id"] == 7, done.stderr
    assert second == "404 GET /api/v4/leads/8: Kommo answered 404: no such entity"
    assert [p for _, p, _ in state.calls] == ["/api/v4/leads/7"] * 2 + ["/api/v4/leads/8"]


def test_a_long_lived_token_works_without_oauth(backend, kommo, project) -> None:
    state, _ = kommo
    state.valid.add("long-lived")
    backend.env["KOMMO_ACCESS_TOKEN"] = "long-lived"
    try:
        done = client(project, backend, "echo Kommo::forAccount('acme.kommo.com')"
                                        "->get('/api/v4/leads/7')['id'];")
        state.valid.discard("long-lived")
        refused = client(project, backend, "try { Kommo::forAccount('acme.kommo.com')->get("
                                           "'/api/v4/leads/7'); } catch (KommoError $e) "
                                           "{ echo $e->status; }")
    finally:
        del backend.env["KOMMO_ACCESS_TOKEN"]
    assert done.stdout == "7" and refused.stdout == "401", (done.stderr, refused.stderr)
    assert state.grants == []
    none = client(project, backend, "try { Kommo::forAccount('acme.kommo.com')->accessToken(); }"
                                    " catch (KommoError $e) { echo $e->getMessage(); }")
    assert "has no tokens: install the integration" in none.stdout


def test_the_dp_hook_adds_a_note_to_the_lead(backend, kommo) -> None:
    """The generated hooks/dp.php, once the account installed the integration."""
    state, _ = kommo
    body = dp_body(type_=14, id=7)
    reply = backend.request("POST", "/dp", body)
    assert reply.status == 200, reply.body
    assert state.calls == []  # not installed yet: no token, no call
    install(backend)
    assert backend.request("POST", "/dp", body).status == 200
    deadline = time.monotonic() + 10
    while not state.calls and time.monotonic() < deadline:
        time.sleep(0.05)  # the hook runs after the answer
    assert state.calls == [("POST", "/api/v4/leads/notes", "access-1")]
    assert state.bodies == [[{"entity_id": 7, "note_type": "common",
                              "params": {"text": "Digital pipeline: lead_status_changed"}}]]


RECIPES = (REPO / "docs" / "recipes.md").read_text("utf-8")


def recipe(title: str) -> str:
    """The PHP block of a section of docs/recipes.md, as printed."""
    section = RECIPES.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```php\n", 1)[1].split("```", 1)[0]


def run_file(project: Path, backend: PhpServer, tmp_path: Path, code: str
             ) -> subprocess.CompletedProcess[str]:
    """``code`` in a PHP file of its own (its `use` lines at the top level, as in a hook)."""
    script = tmp_path / "recipe.php"
    script.write_text("<?php\nrequire 'backend/src/App.php';\n"
                      "KommoBackend\\App::configure(getcwd() . '/backend');\n" + code, "utf-8")
    return subprocess.run(["php", "-d", "display_errors=stderr", str(script)], cwd=project,
                          env={**backend.env, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=60, check=False)


def test_recipe_read_and_update_a_lead(backend, kommo, project, tmp_path) -> None:
    state, _ = kommo
    install(backend)
    done = run_file(project, backend, tmp_path, recipe("Read and update a lead from the back end"))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert [(m, p) for m, p, _ in state.calls] == [("GET", "/api/v4/leads/7"),
                                                    ("PATCH", "/api/v4/leads/7")]
    assert state.bodies[-1] == {"name": "Deal (called back)"}


def test_recipes_of_the_hooks_are_the_generated_hooks(project) -> None:
    """The DP note is what the generated hook runs (test_the_dp_hook_adds_a_note_to_the_lead);
    the Salesbot token function is the generated one (test_backend's Salesbot tests)."""
    dp = (project / "backend" / "hooks" / "dp.php").read_text("utf-8")
    assert recipe("Add a note from the DP hook") in dp
    salesbot = (REPO / "templates" / "widget" / "project" /
                "{% if has_backend %}backend{% endif %}" / "hooks" /
                "{% if has_salesbot %}salesbot.php{% endif %}").read_text("utf-8")
    assert recipe("Continue a Salesbot") in salesbot


def test_recipe_store_per_account_data(backend, project, tmp_path) -> None:
    code = recipe("Store per-account data in the back end") + (
        "echo json_encode(load_account_data(5)), ' ';"
        "save_account_data(5, ['greeting' => 'Привет', 'n' => 1]);"
        "echo json_encode(load_account_data(5), JSON_UNESCAPED_UNICODE);")
    done = run_file(project, backend, tmp_path, code)
    assert done.stdout == '[] {"greeting":"Привет","n":1}', done.stderr
    stored_file = project / "backend" / "var" / "accounts" / "5.json"
    try:
        assert json.loads(stored_file.read_text("utf-8"))["n"] == 1
        assert list(stored_file.parent.iterdir()) == [stored_file]  # no temporary file left
    finally:
        stored_file.unlink()
