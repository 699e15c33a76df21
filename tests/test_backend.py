"""The generated PHP back end, run for real: `php -S` on a loopback port, real requests.

Contracts: the digital pipeline webhook (https://developers.kommo.com/docs/widgets-dp), the
system SMS sender (https://www.amocrm.ru/developers/content/integrations/system_sms), the
Salesbot widget_request and its continue call (https://developers.kommo.com/docs/salesbot-dp)
and the one-time HS256 JWT (https://developers.kommo.com/docs/one-time-tokens). Nothing here
reaches the internet: Salesbot's return_url points at a recording stub on 127.0.0.1.
"""

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
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import rendered
from http_helpers import Stub

pytestmark = pytest.mark.skipif(shutil.which("php") is None,
                                reason="php is not installed (CI installs php-cli)")

SECRET = "integration-secret-\u00e9\"'\\"
ACCESS_TOKEN = "admin-oauth-token"
ALL_BACKEND = ["lcard", "digital_pipeline", "sms", "salesbot_designer"]
# Where the generated hooks' API calls go in these tests (the DP hook adds a note when the
# account is connected): a closed loopback port, so that nothing reaches the internet.
NO_KOMMO = "http://127.0.0.1:9"

# Kommo's digital-pipeline event codes (https://developers.kommo.com/docs/widgets-dp).
DP_EVENTS = {1: "lead_added", 14: "lead_status_changed", 15: "lead_appeared_in_status",
             16: "mail_in", 17: "call_in", 18: "site_visit", 19: "chat"}


# --- helpers -------------------------------------------------------------------------------

def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any] | None = None, secret: str = SECRET,
             header: dict[str, Any] | None = None, **overrides: Any) -> str:
    """An HS256 token like Kommo's one-time tokens (developers.kommo.com/docs/one-time-tokens)."""
    now = int(time.time())
    body = {"iss": "https://acme.kommo.com", "aud": "https://example.com",
            "jti": uuid.uuid4().hex,
            "iat": now, "nbf": now, "exp": now + 300, "account_id": 987, "user_id": 5,
            "subdomain": "acme", "client_uuid": "uuid-1", **(claims or {}), **overrides}
    body = {name: value for name, value in body.items() if value is not None}  # None: absent
    signing_input = (b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
                     + "." + b64url(json.dumps(body).encode()))
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_project(dest: Path, **answers: Any) -> Path:
    """Generate a widget project (as make_widget does, but usable in module fixtures)."""
    answers.setdefault("widget_code", "backend_test")
    return rendered(dest, answers)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


# How the back end is started: as its README says (display_errors off on the command line),
# with no php.ini at all (`php -n`, as in the official PHP images) and with Debian's.
PHP_SETUPS = {
    "no-php-ini": ["-n", "-d", "display_errors=0"],
    "debian-php-ini": ["-d", "display_errors=0"],
}


@dataclass
class PhpServer:
    """`php -S` serving a generated project's backend/public.

    The server runs in a process group of its own (PHP_CLI_SERVER_WORKERS forks workers),
    and stop() ends the whole group, so no worker outlives the tests.
    """

    project: Path
    env: dict[str, str] = field(default_factory=dict)
    php_args: list[str] = field(default_factory=lambda: list(PHP_SETUPS["no-php-ini"]))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self) -> PhpServer:
        self.port = self.port or free_port()
        self.log_path = self.project.parent / f"php-{self.project.name}-{self.port}.log"
        env = {**os.environ, **self.env}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["php", *self.php_args, "-S", f"127.0.0.1:{self.port}", "-t", "backend/public"],
                cwd=self.project, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"php -S exited early:\n{self.log()}")
            try:
                if self.request("GET", "/").status == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"php -S did not answer:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the workers too
        self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path else ""

    def request(self, method: str, path: str, body: bytes | str | dict[str, Any] | None = None,
                content_type: str | None = None, form: bool = False,
                headers: dict[str, str] | None = None) -> Reply:
        headers = dict(headers or {})
        data: bytes | None
        if isinstance(body, dict):
            if form:
                data = urllib.parse.urlencode(flatten_form(body)).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        else:
            data = body.encode() if isinstance(body, str) else body
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     headers=headers, method=method)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return Reply(resp.status, dict(resp.headers), resp.read(),
                             time.monotonic() - started)
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read(),
                         time.monotonic() - started)


def flatten_form(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """{"event": {"data": {"id": 1}}} -> [("event[data][id]", "1")], as PHP forms nest keys."""
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs += flatten_form(item, f"{prefix}[{key}]" if prefix else str(key))
        return pairs
    return [(prefix, str(value))]


def return_url(stub: Stub, bot: int = 12, continue_id: str = "abc") -> str:
    return f"{stub.url}api/v4/salesbot/{bot}/continue/{continue_id}"


def dp_body(type_: int = 14, account_id: int = 987, **data: Any) -> dict[str, Any]:
    """The digital-pipeline webhook body (https://developers.kommo.com/docs/widgets-dp)."""
    return {
        "event": {"type": type_, "type_code": DP_EVENTS[type_],
                  "data": {"id": 1234, "element_type": 2, "status_id": 142, "pipeline_id": 56,
                           "direction_of_movement": "went_to_trigger", **data},
                  "time": 1700000000},
        "action": {"settings": {"widget": {"settings": {"message": "Привет \"x\""}}}},
        "subdomain": "acme",
        "account_id": account_id,
    }


def assert_clean(reply: Reply) -> Any:
    """Every answer is a small JSON document: never a PHP warning, HTML or a stack trace."""
    assert reply.headers.get("Content-Type", "").startswith("application/json"), reply
    text = reply.body.decode()
    for leak in ("Warning", "Notice", "Fatal", "Stack trace", "<br", ".php", "Deprecated"):
        assert leak not in text, text
    return reply.json()


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, stub: Stub) -> Iterator[PhpServer]:
    """All three back-end routes, exactly as generated (default hooks)."""
    project = make_project(tmp_path_factory.mktemp("be") / "all", locations=ALL_BACKEND)
    php = PhpServer(project, {"KOMMO_CLIENT_SECRET": SECRET, "KOMMO_ACCESS_TOKEN": ACCESS_TOKEN,
                              "KOMMO_API_BASE_URL": NO_KOMMO,
                              "KOMMO_RETURN_URL_PREFIX": stub.url})
    try:
        yield php.start()
    finally:
        php.stop()


DP_RECORDER = """<?php
declare(strict_types=1);
use KommoBackend\\App;
use KommoBackend\\DpEvent;
function on_dp_event(DpEvent $event): void
{
    $row = get_object_vars($event);
    unset($row['raw']);
    file_put_contents(App::root() . '/var/dp-events.jsonl', json_encode($row) . "\\n",
        FILE_APPEND | LOCK_EX);
}
"""

SLOW_SALESBOT = """<?php
declare(strict_types=1);
use KommoBackend\\App;
use KommoBackend\\SalesbotRequest;
function on_salesbot_request(SalesbotRequest $bot): ?array
{
    sleep(3); // longer than Kommo's 2 seconds: must not delay the answer
    return ['data' => ['status' => 'success', 'echo' => $bot->data['message'] ?? null,
                       'account' => $bot->claims['account_id'] ?? null],
            'execute_handlers' => [['handler' => 'show',
                                    'params' => ['type' => 'text', 'value' => 'Done']]]];
}
function salesbot_access_token(SalesbotRequest $bot): string
{
    return App::env('KOMMO_ACCESS_TOKEN');
}
"""

NOISY_SMS = """<?php
declare(strict_types=1);
use KommoBackend\\SmsMessage;
function send_sms(SmsMessage $sms): bool
{
    echo "stray output";
    if (str_ends_with($sms->phone, '0000')) {
        $missing = [];
        return (bool) $missing['key']; // a warning: must become a clean 500
    }
    return !str_ends_with($sms->phone, '9999');
}
"""


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory, stub: Stub) -> Iterator[PhpServer]:
    """The same routes with developer hooks that record, sleep and misbehave."""
    project = make_project(tmp_path_factory.mktemp("be") / "custom", locations=ALL_BACKEND)
    (project / "backend" / "hooks" / "dp.php").write_text(DP_RECORDER, "utf-8")
    (project / "backend" / "hooks" / "salesbot.php").write_text(SLOW_SALESBOT, "utf-8")
    (project / "backend" / "hooks" / "sms.php").write_text(NOISY_SMS, "utf-8")
    (project / "backend" / ".env").write_text(
        f"KOMMO_CLIENT_SECRET={SECRET}\nKOMMO_ACCESS_TOKEN='{ACCESS_TOKEN}'\n"
        "KOMMO_DP_ACCOUNT_IDS=987, 988\nKOMMO_BACKEND_LOG=var/backend.log\n", "utf-8")
    # Workers let requests through while a slow hook runs after its answer.
    php = PhpServer(project, {"KOMMO_RETURN_URL_PREFIX": stub.url, "PHP_CLI_SERVER_WORKERS": "3"})
    try:
        yield php.start()
    finally:
        php.stop()


# --- health, routing, methods --------------------------------------------------------------

def test_health_lists_the_routes(server: PhpServer) -> None:
    reply = server.request("GET", "/")
    assert reply.status == 200
    assert assert_clean(reply) == {"widget_code": "backend_test", "widget_name": "All",
                                   "routes": ["/dp", "/sms", "/salesbot", "/widget", "/oauth"]}


@pytest.mark.parametrize("path", ["/nope", "/dp/extra", "/index.php/nope", "/DP"])
def test_unknown_route_is_404(server: PhpServer, path: str) -> None:
    reply = server.request("POST", path, {"a": 1})
    assert reply.status == 404
    assert assert_clean(reply) == {"error": "Not found"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/dp", "/sms", "/salesbot"])
def test_wrong_method_is_405(server: PhpServer, method: str, path: str) -> None:
    reply = server.request(method, path)
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"
    assert_clean(reply)


def test_index_php_prefix_routes_too(server: PhpServer) -> None:
    """Hosts without URL rewriting reach the routes as /index.php/<route>."""
    assert server.request("POST", "/index.php/dp", dp_body()).status == 200


def test_every_request_is_logged(server: PhpServer) -> None:
    server.request("GET", "/dp")
    server.request("POST", "/nope")
    server.request("POST", "/dp", dp_body(15))
    log = server.log()
    assert " GET /dp 405 " in log
    assert " POST /nope 404 " in log
    assert " POST /dp 200 " in log and "event=lead_appeared_in_status" in log


# --- digital pipeline ----------------------------------------------------------------------

@pytest.mark.parametrize("type_", sorted(DP_EVENTS))
@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_dp_accepts_every_event_type(server: PhpServer, type_: int, form: bool) -> None:
    reply = server.request("POST", "/dp", dp_body(type_), form=form)
    assert reply.status == 200, reply.body
    assert assert_clean(reply) == {"ok": True}
    # The default hook ran after the answer and logged the event.
    deadline = time.monotonic() + 5
    while f"dp: {DP_EVENTS[type_]} lead 1234" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"dp: {DP_EVENTS[type_]} lead 1234 (pipeline 56, status 142) in acme" in server.log()


def test_dp_json_with_charset_and_without_content_type(server: PhpServer) -> None:
    body = json.dumps(dp_body()).encode()
    assert server.request("POST", "/dp", body, "application/json; charset=utf-8").status == 200
    assert server.request("POST", "/dp", body, "text/plain").status == 200


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


@pytest.mark.parametrize(("body", "content_type"), [
    (b"{not json", "application/json"),
    (b"", "application/json"),
    (b"[1, 2]", "application/json"),
    (b"{}", "application/json"),
    (b'"text"', "application/json"),
    (b"garbage=1", "application/x-www-form-urlencoded"),
    (json.dumps(_without(dp_body(), "account_id")).encode(), "application/json"),
    (json.dumps(_without(dp_body(), "event", "data", "id")).encode(), "application/json"),
    (json.dumps(_without(dp_body(), "event", "type_code")).encode(), "application/json"),
    (json.dumps(_without(dp_body(), "subdomain")).encode(), "application/json"),
    (json.dumps(dp_body(id="12; DROP")).encode(), "application/json"),
    (json.dumps(dp_body(pipeline_id=None)).encode(), "application/json"),
    (json.dumps({**dp_body(), "event": {**dp_body()["event"], "type": 16}}).encode(),
     "application/json"),
    (json.dumps({**dp_body(), "action": {"settings": {"widget": {"settings": "x"}}}}).encode(),
     "application/json"),
], ids=["broken-json", "empty", "list", "empty-object", "string", "form-garbage",
        "no-account", "no-lead-id", "no-type-code", "no-subdomain", "bad-id", "no-pipeline",
        "type-code-mismatch", "settings-not-object"])
def test_dp_rejects_malformed_bodies(server: PhpServer, body: bytes, content_type: str) -> None:
    reply = server.request("POST", "/dp", body, content_type)
    assert reply.status == 400, reply.body
    assert "error" in assert_clean(reply)


def test_dp_hands_the_parsed_event_to_the_hook(custom: PhpServer) -> None:
    events = custom.project / "backend" / "var" / "dp-events.jsonl"
    assert custom.request("POST", "/dp", dp_body(14)).status == 200
    assert custom.request("POST", "/dp", dp_body(15, account_id=988, status_id=143),
                          form=True).status == 200
    deadline = time.monotonic() + 5
    while (not events.exists() or len(events.read_text().splitlines()) < 2) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    # Server workers may finish the two hooks in either order.
    rows = sorted((json.loads(line) for line in events.read_text("utf-8").splitlines()),
                  key=lambda row: row["type"])
    expected = {"type": 14, "typeCode": "lead_status_changed", "leadId": 1234, "elementType": 2,
                "statusId": 142, "pipelineId": 56, "direction": "went_to_trigger",
                "time": 1700000000, "accountId": 987, "subdomain": "acme",
                "settings": {"message": "Привет \"x\""}}
    assert rows[0] == expected
    # Form fields arrive as strings; the event is typed the same way.
    assert rows[1] == {**expected, "type": 15, "typeCode": "lead_appeared_in_status",
                       "statusId": 143, "accountId": 988}


def test_dp_account_allow_list(custom: PhpServer) -> None:
    reply = custom.request("POST", "/dp", dp_body(account_id=1))
    assert reply.status == 403
    assert assert_clean(reply) == {"error": "Account not allowed"}


def test_log_file_from_env(custom: PhpServer) -> None:
    """KOMMO_BACKEND_LOG=var/backend.log (from backend/.env) writes there, not to stderr."""
    custom.request("GET", "/sms")
    log = (custom.project / "backend" / "var" / "backend.log").read_text("utf-8")
    assert " GET /sms 405 " in log


# --- one-time token (SMS) ------------------------------------------------------------------

def sms_body(token: str | None, phone: str = "+15551234567") -> dict[str, Any]:
    body: dict[str, Any] = {"text": "Your code: 1234", "phone": phone}
    if token is not None:
        body["token"] = token
    return body


def forge(token: str) -> str:
    head, body, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["account_id"] = 1
    return f"{head}.{b64url(json.dumps(claims).encode())}.{token.split('.')[2]}"


def test_sms_valid_token_form_encoded(server: PhpServer) -> None:
    reply = server.request("POST", "/sms", sms_body(make_jwt()), form=True)
    assert reply.status == 200, reply.body
    assert assert_clean(reply) == {"ok": True}
    log = server.log()
    assert "POST /sms 200" in log and "account=987" in log
    assert "Your code" not in log  # message texts (login codes) never reach the log


def test_sms_token_within_clock_leeway(server: PhpServer) -> None:
    now = int(time.time())
    token = make_jwt(exp=now - 30, nbf=now + 30, iat=now + 30)
    assert server.request("POST", "/sms", sms_body(token), form=True).status == 200


BAD_TOKENS = {
    "missing": lambda: None,
    "empty": lambda: "",
    "forged-signature": lambda: forge(make_jwt()),
    "expired": lambda: make_jwt(exp=int(time.time()) - 120),
    "not-yet-valid": lambda: make_jwt(nbf=int(time.time()) + 600),
    "other-secret": lambda: make_jwt(secret="another-integration"),
    "alg-none": lambda: make_jwt(header={"alg": "none"}).rsplit(".", 1)[0] + ".",
    "alg-hs512": lambda: make_jwt(header={"alg": "HS512", "typ": "JWT"}),
    "no-exp": lambda: make_jwt(exp=None),
    "garbage": lambda: "not.a.jwt",
    "two-parts": lambda: "abc.def",
    # The issuer is the account: https://<subdomain>.kommo.com (.amocrm.ru, .amocrm.com),
    # agreeing with the subdomain claim.
    "no-iss": lambda: make_jwt(iss=None),
    "iss-other-site": lambda: make_jwt(iss="https://acme.example.com"),
    "iss-lookalike": lambda: make_jwt(iss="https://acme.kommo.com.evil.example"),
    "iss-http": lambda: make_jwt(iss="http://acme.kommo.com"),
    "iss-two-labels": lambda: make_jwt(iss="https://a.acme.kommo.com", subdomain="a.acme"),
    "iss-other-account": lambda: make_jwt(iss="https://other.kommo.com"),
    "no-subdomain": lambda: make_jwt(subdomain=None),
}


@pytest.mark.parametrize("route", ["/sms", "/salesbot"])
@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_401(server: PhpServer, stub: Stub, route: str, case: str) -> None:
    token = BAD_TOKENS[case]()
    if route == "/sms":
        reply = server.request("POST", route, sms_body(token), form=True)
    else:
        body: dict[str, Any] = {"data": {"message": "hi"}, "return_url": return_url(stub)}
        if token is not None:
            body["token"] = token
        reply = server.request("POST", route, body)
    assert reply.status == 401, (case, reply.body)
    assert "error" in assert_clean(reply)


@pytest.mark.parametrize("phone", ["", "abc", "+1 (555"])
def test_sms_invalid_phone_is_400(server: PhpServer, phone: str) -> None:
    assert server.request("POST", "/sms", sms_body(make_jwt(), phone), form=True).status == 400


def test_sms_malformed_body_is_400(server: PhpServer) -> None:
    assert server.request("POST", "/sms", b"{oops", "application/json").status == 400


def test_sms_without_secret_refuses_everything(tmp_path: Path) -> None:
    project = make_project(tmp_path / "nosecret", locations=["sms"])
    php = PhpServer(project, {"KOMMO_CLIENT_SECRET": ""}).start()
    try:
        reply = php.request("POST", "/sms", sms_body(make_jwt()), form=True)
        assert reply.status == 500
        assert assert_clean(reply) == {"error": "Server not configured"}
        assert "KOMMO_CLIENT_SECRET is not set" in php.log()
    finally:
        php.stop()


def test_warnings_in_a_hook_never_leak(custom: PhpServer) -> None:
    reply = custom.request("POST", "/sms", sms_body(make_jwt(), "+15550000"), form=True)
    assert reply.status == 500
    assert assert_clean(reply) == {"error": "Internal error"}
    log = (custom.project / "backend" / "var" / "backend.log").read_text("utf-8")
    assert "ERROR ErrorException: Undefined array key" in log
    ok = custom.request("POST", "/sms", sms_body(make_jwt(), "+15551111"), form=True)
    assert assert_clean(ok) == {"ok": True}  # stray echo in the hook did not corrupt it
    failed = custom.request("POST", "/sms", sms_body(make_jwt(), "+15559999"), form=True)
    assert failed.status == 502


# --- Salesbot ------------------------------------------------------------------------------

def test_salesbot_answers_then_continues_the_bot(server: PhpServer, stub: Stub) -> None:
    before = len(stub.requests)
    url = return_url(stub, 77, "c-1")
    reply = server.request("POST", "/salesbot", {
        "token": make_jwt(), "data": {"handler": "send_request", "message": "hi"},
        "return_url": url})
    assert reply.status == 200
    assert assert_clean(reply) == {"ok": True}
    sent = stub.wait_for(before + 1)[before]
    assert sent.path == "/api/v4/salesbot/77/continue/c-1"
    assert sent.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent.headers["Content-Type"] == "application/json"
    # The default hook reports success, which script.js's bot branches on ({{json.status}}).
    assert json.loads(sent.body) == {"data": {"status": "success"}}


def test_salesbot_form_encoded(server: PhpServer, stub: Stub) -> None:
    before = len(stub.requests)
    reply = server.request("POST", "/salesbot", {
        "token": make_jwt(), "data": {"message": "hi"}, "return_url": return_url(stub)},
        form=True)
    assert reply.status == 200, reply.body
    assert len(stub.wait_for(before + 1)) == before + 1


def test_salesbot_answers_within_two_seconds_while_the_hook_works(custom: PhpServer,
                                                                    stub: Stub) -> None:
    before = len(stub.requests)
    started = time.monotonic()
    reply = custom.request("POST", "/salesbot", {
        "token": make_jwt(), "data": {"message": "Привет"}, "return_url": return_url(stub)})
    assert reply.status == 200
    assert reply.seconds < 2, f"answered after {reply.seconds:.2f}s"
    sent = stub.wait_for(before + 1)[before]
    assert sent.at - started >= 2.9  # the continue call came after the slow work
    assert json.loads(sent.body) == {
        "data": {"status": "success", "echo": "Привет", "account": 987},
        "execute_handlers": [{"handler": "show", "params": {"type": "text", "value": "Done"}}]}


@pytest.mark.parametrize("bad_url", [
    "https://evil.example/api/v4/salesbot/1/continue/2",
    "http://acme.kommo.com/api/v4/salesbot/1/continue/2",
    "https://acme.kommo.com.evil.example/api/v4/salesbot/1/continue/2",
    "https://acme.kommo.com/api/v4/leads",
    "",
    None,
])
def test_salesbot_refuses_foreign_return_urls(server: PhpServer, bad_url: str | None) -> None:
    """The access token goes to return_url, so only Kommo's continue URLs are accepted."""
    body: dict[str, Any] = {"token": make_jwt(), "data": {}}
    if bad_url is not None:
        body["return_url"] = bad_url
    reply = server.request("POST", "/salesbot", body)
    assert reply.status == 400
    assert assert_clean(reply) == {"error": "Invalid return_url"}


def test_salesbot_malformed_bodies(server: PhpServer, stub: Stub) -> None:
    assert server.request("POST", "/salesbot", b"{", "application/json").status == 400
    bad_data = {"token": make_jwt(), "data": "text", "return_url": return_url(stub)}
    assert server.request("POST", "/salesbot", bad_data).status == 400


def php_run(project: Path, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run PHP code with the back end's classes loaded (as a developer's script would)."""
    script = ("require 'backend/src/App.php'; require 'backend/src/Salesbot.php';" + code)
    return subprocess.run(["php", "-d", "display_errors=stderr", "-r", script], cwd=project,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=30, check=False)


def test_continue_bot_in_isolation(server: PhpServer, stub: Stub) -> None:
    """Salesbot::continueBot() on its own, against the recording stub."""
    before = len(stub.requests)
    url = return_url(stub, 5, "x9")
    code = (f"echo KommoBackend\\Salesbot::continueBot('{url}', 'tok-1', ['a' => 'б'],"
            " [['handler' => 'goto', 'params' => ['type' => 'question', 'step' => 5]]]);")
    result = php_run(server.project, code, {"KOMMO_RETURN_URL_PREFIX": stub.url})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "200"
    sent = stub.wait_for(before + 1)[before]
    assert sent.headers["Authorization"] == "Bearer tok-1"
    assert json.loads(sent.body) == {
        "data": {"a": "б"},
        "execute_handlers": [{"handler": "goto", "params": {"type": "question", "step": 5}}]}


def test_continue_bot_refuses_what_kommo_would(server: PhpServer, stub: Stub) -> None:
    cases = {
        "foreign url": "KommoBackend\\Salesbot::continueBot('https://evil.example/x', 't', []);",
        "no token": f"KommoBackend\\Salesbot::continueBot('{return_url(stub)}', '', []);",
        "11 handlers": f"KommoBackend\\Salesbot::continueBot('{return_url(stub)}', 't', [],"
                       " array_fill(0, 11, ['handler' => 'show']));",
    }
    for name, code in cases.items():
        result = php_run(server.project, code, {"KOMMO_RETURN_URL_PREFIX": stub.url})
        assert result.returncode != 0, name
    stub.status = 403  # Kommo refuses: e.g. the token is not an admin's
    try:
        result = php_run(server.project,
                         f"KommoBackend\\Salesbot::continueBot('{return_url(stub)}', 't', []);",
                         {"KOMMO_RETURN_URL_PREFIX": stub.url})
    finally:
        stub.status = 200
    assert result.returncode != 0
    assert "answered 403" in result.stderr


# --- routes follow the chosen areas --------------------------------------------------------

@pytest.mark.parametrize("area", ["digital_pipeline", "sms", "salesbot_designer"])
def test_only_chosen_routes_exist(tmp_path: Path, area: str) -> None:
    project = make_project(tmp_path / area, locations=[area])
    php = PhpServer(project, {"KOMMO_CLIENT_SECRET": SECRET}).start()
    try:
        routes = {"digital_pipeline": "/dp", "sms": "/sms", "salesbot_designer": "/salesbot"}
        assert php.request("GET", "/").json()["routes"] == [routes[area], "/widget", "/oauth"]
        for other_area, route in routes.items():
            status = php.request("POST", route, {"x": 1}).status
            assert (status == 404) == (other_area != area), (route, status)
    finally:
        php.stop()


@pytest.mark.parametrize(("uri", "script", "route"), [
    ("/dp", "/index.php", "/dp"),  # php -S, document root = backend/public
    ("/dp?x=1", "/index.php", "/dp"),
    ("/my_widget/dp", "/my_widget/index.php", "/dp"),  # back end in a sub-folder, rewriting on
    ("/my_widget/index.php/sms", "/my_widget/index.php", "/sms"),  # no rewriting
    ("/my_widget/", "/my_widget/index.php", "/"),
    ("/salesbot/", "/index.php", "/salesbot"),
])
def test_route_path_behind_any_host(server: PhpServer, uri: str, script: str, route: str) -> None:
    code = f"echo KommoBackend\\Request::routePath('{uri}', '{script}');"
    assert php_run(server.project, code, {}).stdout == route
