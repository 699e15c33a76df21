"""The widget's own calls: GET|POST /widget/<action> on the generated back end, run with
`php -S` (no php.ini and Debian's), as script.js makes them with self.$authorizedAjax():
CORS for exactly the account origins, Kommo's one-time X-Auth-Token checked by the same
verifier as /sms and /salesbot (https://developers.kommo.com/docs/one-time-tokens), actions
from the user-owned hooks/widget.php. The recipe in docs/recipes.md runs here too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import REPO
from test_backend import (
    BAD_TOKENS,
    PHP_SETUPS,
    SECRET,
    PhpServer,
    Reply,
    assert_clean,
    make_jwt,
    make_project,
)

from kommo_scaffold.catalog import accounts

pytestmark = pytest.mark.skipif(shutil.which("php") is None,
                                reason="php is not installed (CI installs php-cli)")

ACCOUNT = "https://acme.kommo.com"
DEV_ORIGIN = "http://127.0.0.1:9000"
RECIPES = (REPO / "docs" / "recipes.md").read_text("utf-8")
RECIPE = RECIPES.split("## Call your own back end", 1)[1].split("\n## ", 1)[0]
RECIPE_PHP = re.search(r"```php\n(.*?)```", RECIPE, re.S).group(1)
RECIPE_JS = re.search(r"```js\n(.*?)```", RECIPE, re.S).group(1)
# A helper the developer keeps in another file: named like an action, never one.
HELPER = "<?php\nfunction widget_helper(): array { return ['leak' => true]; }\n"


@pytest.fixture(scope="module", params=list(PHP_SETUPS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[PhpServer]:
    """A widget with no back-end area and backend=true; the recipe's action added."""
    project = make_project(tmp_path_factory.mktemp("widget") / "calls", locations=["lcard"],
                           backend=True)
    hooks = project / "backend" / "hooks"
    (hooks / "helpers.php").write_text(HELPER, "utf-8")
    hook = hooks / "widget.php"
    hook.write_text(hook.read_text("utf-8") + "\nrequire_once __DIR__ . '/helpers.php';\n\n"
                    + RECIPE_PHP, "utf-8")
    php = PhpServer(project, {"KOMMO_CLIENT_SECRET": SECRET},
                    php_args=list(PHP_SETUPS[request.param]))
    try:
        yield php.start()
    finally:
        php.stop()


def call(server: PhpServer, action: str = "ping", token: str | None = "fresh",
         origin: str | None = ACCOUNT, method: str = "GET", body: Any = None) -> Reply:
    headers = {}
    if token is not None:
        headers["X-Auth-Token"] = make_jwt() if token == "fresh" else token
    if origin is not None:
        headers["Origin"] = origin
    return server.request(method, f"/widget/{action}", body, headers=headers)


def preflight(server: PhpServer, origin: str, action: str = "ping") -> Reply:
    return server.request("OPTIONS", f"/widget/{action}", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-auth-token"})


# --- the route and the hook ------------------------------------------------------------------

def test_ping_answers_who_calls(server: PhpServer) -> None:
    reply = call(server)
    assert reply.status == 200, reply.body
    assert assert_clean(reply) == {"ok": True, "account_id": 987, "user_id": 5,
                                   "subdomain": "acme"}
    assert "GET /widget/ping 200" in server.log() and "action=ping account=987" in server.log()


def test_health_lists_the_widget_route(server: PhpServer) -> None:
    assert server.request("GET", "/").json()["routes"] == ["/widget", "/oauth"]


def test_a_token_works_once(server: PhpServer) -> None:
    token = make_jwt()
    assert call(server, token=token).status == 200
    replay = call(server, token=token)
    assert replay.status == 401
    assert assert_clean(replay) == {"error": "Invalid token"}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_401(server: PhpServer, case: str) -> None:
    """The same verifier as /sms and /salesbot (test_backend.py runs these cases there)."""
    token = BAD_TOKENS[case]()
    reply = call(server, token=token or None)
    assert reply.status == 401, (case, reply.body)
    assert "error" in assert_clean(reply)
    assert reply.headers.get("Access-Control-Allow-Origin") == ACCOUNT  # readable by script.js


@pytest.mark.parametrize("action", ["nope", "helper", "Ping", "a-b", "x" * 65, "..", "%00ping",
                                    "ping%2F", "ping%0A", "1ping", "_ping", ""])
def test_unknown_or_unsafe_actions_are_404(server: PhpServer, action: str) -> None:
    reply = call(server, action)
    assert reply.status == 404, (action, reply.body)
    assert "error" in assert_clean(reply)
    assert "leak" not in reply.body.decode()


def test_unknown_action_needs_a_token_first(server: PhpServer) -> None:
    assert call(server, "nope", token=None).status == 401


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(server: PhpServer, method: str) -> None:
    reply = call(server, method=method)
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, POST, OPTIONS"
    assert_clean(reply)


def test_recipe_action_takes_a_json_post(server: PhpServer) -> None:
    reply = call(server, "note", method="POST", body={"lead_id": 42, "text": "Called back"})
    assert reply.status == 200, reply.body
    assert assert_clean(reply) == {"ok": True, "lead_id": 42, "chars": 11, "account_id": 987,
                                   "user_id": 5}
    bad = call(server, "note", method="POST", body={"lead_id": "42"})
    assert bad.status == 400
    assert assert_clean(bad) == {"error": "lead_id and text are required"}
    broken = server.request("POST", "/widget/note", b"{", "application/json",
                            headers={"X-Auth-Token": make_jwt()})
    assert broken.status == 400


def test_recipe_script_call_runs_against_the_back_end(server: PhpServer) -> None:
    """The recipe's script.js function, in node, with an $authorizedAjax that sends a fresh
    token the way Kommo's does (fetch with X-Auth-Token, jQuery's options)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    tokens = [make_jwt(), make_jwt()]
    script = f"""
const TOKENS = {json.dumps(tokens)};
const BACKEND_URL = 'http://127.0.0.1:{server.port}';
const self = {{
  $authorizedAjax(o) {{
    return fetch(o.url, {{method: o.type, body: o.data,
      headers: {{'Content-Type': o.contentType, 'X-Auth-Token': TOKENS.shift()}}}})
      .then(async (r) => {{
        const body = await r.json();
        if (!r.ok) throw {{status: r.status, responseJSON: body}};
        return body;
      }});
  }},
}};
{RECIPE_JS}
(async () => {{
  const ok = await saveNote(42, 'Called back');
  const failed = await saveNote(0, '').catch((xhr) => xhr.responseJSON);
  console.log(JSON.stringify([ok, failed]));
}})();
"""
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    ok, failed = json.loads(result.stdout)
    assert ok == {"ok": True, "lead_id": 42, "chars": 11, "account_id": 987, "user_id": 5}
    assert failed == {"error": "lead_id and text are required"}


# --- CORS --------------------------------------------------------------------------------------

ALLOWED = [f"https://acme.{domain}" for domain in accounts.ACCOUNT_DOMAINS] + [
    "https://a.kommo.com", "https://my-company-1.amocrm.ru"]
REFUSED = ["https://x.kommo.com.evil.example", "http://acme.kommo.com", "https://a.b.kommo.com",
           "null", "https://kommo.com", "https://acme.kommo.com:8443", "https://ACME.kommo.com",
           "https://acme.kommo.com/", "https://acme-.kommo.com", "https://-acme.kommo.com",
           "https://evilkommo.com", "https://acme.kommo.co", "https://acme.kommo.com.",
           "https://acme.amocrm.org", "https://user@acme.kommo.com", "https://acme_x.kommo.com",
           "https://" + "a" * 64 + ".kommo.com", DEV_ORIGIN, "*"]


@pytest.mark.parametrize("origin", ALLOWED)
def test_account_origins_may_call(server: PhpServer, origin: str) -> None:
    before = preflight(server, origin)
    assert before.status == 204 and before.body == b""
    assert before.headers["Access-Control-Allow-Origin"] == origin
    assert before.headers["Vary"] == "Origin"
    allowed = {h.strip().lower()
               for h in before.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"x-auth-token", "content-type"} <= allowed
    assert {"GET", "POST"} <= set(before.headers["Access-Control-Allow-Methods"].split(", "))
    answer = call(server, origin=origin)
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert answer.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in answer.headers


@pytest.mark.parametrize("origin", REFUSED)
def test_other_origins_get_no_cors(server: PhpServer, origin: str) -> None:
    for reply in (preflight(server, origin), call(server, origin=origin)):
        assert "Access-Control-Allow-Origin" not in reply.headers, (origin, reply.headers)
        assert "Access-Control-Allow-Headers" not in reply.headers
        assert reply.headers["Vary"] == "Origin"


def test_no_origin_still_needs_the_token(server: PhpServer) -> None:
    """curl and servers send no Origin: CORS does not apply, the token does."""
    assert call(server, origin=None).status == 200
    assert call(server, origin=None, token=None).status == 401


def test_private_network_preflight_is_answered_for_account_origins(server: PhpServer) -> None:
    headers = {"Origin": ACCOUNT, "Access-Control-Request-Method": "GET",
               "Access-Control-Request-Private-Network": "true"}
    reply = server.request("OPTIONS", "/widget/ping", headers=headers)
    assert reply.headers.get("Access-Control-Allow-Private-Network") == "true"
    reply = server.request("OPTIONS", "/widget/ping",
                           headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Private-Network" not in reply.headers


def test_dev_origins_from_the_environment(server: PhpServer) -> None:
    """KOMMO_DEV_ORIGINS (here from backend/.env) adds exact origins, e.g. the preview's."""
    env = server.project / "backend" / ".env"
    env.write_text(f"KOMMO_DEV_ORIGINS={DEV_ORIGIN}, http://localhost:9000\n", "utf-8")
    try:
        assert preflight(server, DEV_ORIGIN).headers["Access-Control-Allow-Origin"] == DEV_ORIGIN
        assert call(server, origin=DEV_ORIGIN).headers["Access-Control-Allow-Origin"] == \
            DEV_ORIGIN
        for near in ("http://127.0.0.1:9001", "http://127.0.0.1:900", "http://127.0.0.1"):
            assert "Access-Control-Allow-Origin" not in preflight(server, near).headers
    finally:
        env.unlink()


# --- one list of account domains ---------------------------------------------------------------

def test_php_account_hosts_follow_the_catalog(server: PhpServer) -> None:
    """backend/src/Jwt.php's Account agrees with kommo_scaffold/catalog/accounts.py."""
    hosts = [o.removeprefix("https://") for o in ALLOWED + REFUSED if o.startswith("https://")]
    hosts += ["a" * 63 + ".kommo.com", "0.amocrm.com", "a--b.amocrm.ru", "acme.kommo.com.evil",
              "acme.kommo.com\n", "acme.kommo.com\x00"]
    code = ("require 'backend/src/App.php'; require 'backend/src/Jwt.php';"
            "echo json_encode([KommoBackend\\Account::DOMAINS, array_map(fn ($h) => "
            "KommoBackend\\Account::subdomainOf('https://' . $h), json_decode($argv[1]))]);")
    result = subprocess.run(["php", "-r", code, json.dumps(hosts)], cwd=server.project,
                            capture_output=True, text=True, check=True)
    domains, subdomains = json.loads(result.stdout)
    assert tuple(domains) == accounts.ACCOUNT_DOMAINS
    for host, subdomain in zip(hosts, subdomains, strict=True):
        python = accounts.is_account_host(host) and host == host.lower()
        assert (subdomain is not None) == python, host
        if subdomain is not None:
            assert subdomain == host.split(".")[0]
