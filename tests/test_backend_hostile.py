"""The generated back end under hostile requests, with and without php.ini.

Every refused request gets a small JSON 4xx, never 200 and never PHP's warning text; one-time
tokens work once (also when replayed concurrently); the digital-pipeline secret keeps
strangers out; the reason a token is refused reaches the log, not the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from check_helpers import hostile_texts
from test_backend import (
    ALL_BACKEND,
    NO_KOMMO,
    PHP_SETUPS,
    SECRET,
    PhpServer,
    Reply,
    Stub,
    assert_clean,
    b64url,
    dp_body,
    make_jwt,
    make_project,
    return_url,
    sms_body,
)

pytestmark = pytest.mark.skipif(shutil.which("php") is None,
                                reason="php is not installed (CI installs php-cli)")

DP_SECRET = "dp-secret-0123456789"


@pytest.fixture(scope="module", params=sorted(PHP_SETUPS))
def php(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        stub: Stub) -> Iterator[PhpServer]:
    project = make_project(tmp_path_factory.mktemp("hostile") / "all", locations=ALL_BACKEND)
    server = PhpServer(project, {"KOMMO_CLIENT_SECRET": SECRET, "KOMMO_DP_SECRET": DP_SECRET,
                                 "KOMMO_RETURN_URL_PREFIX": stub.url,
                                 "KOMMO_ACCESS_TOKEN": "token",
                                 "KOMMO_API_BASE_URL": NO_KOMMO,
                                 "PHP_CLI_SERVER_WORKERS": "4"},
                       php_args=PHP_SETUPS[request.param])
    try:
        yield server.start()
    finally:
        server.stop()


def raw(server: PhpServer, path: str, body: bytes, content_type: str) -> Reply:
    """A request exactly as given (urllib would fix up what we want broken)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        resp = conn.getresponse()
        return Reply(resp.status, dict(resp.getheaders()), resp.read(), 0.0)
    finally:
        conn.close()


def assert_refused(reply: Reply, *statuses: int) -> dict[str, Any]:
    assert reply.status != 200
    assert reply.status in statuses, (reply.status, reply.body[:300])
    answer = assert_clean(reply)
    assert set(answer) == {"error"}
    return answer


MANY_FIELDS = "&".join(f"f{i}=1" for i in range(1500)).encode()
DEEP_FIELD = ("a" + "[x]" * 100 + "=1").encode()
GARBLED = b'--XX\r\nContent-Disposition: form-data; name="a\r\n\r\nzz'
HOSTILE = {
    "multipart-without-boundary": (b"token=abc", "multipart/form-data", (400,)),
    # PHP reads what it can of a garbled body; the route then finds no token or event.
    "garbled-multipart": (GARBLED, "multipart/form-data; boundary=XX", (400, 401)),
    "over-1000-fields": (MANY_FIELDS, "application/x-www-form-urlencoded", (413,)),
    "nesting-too-deep": (DEEP_FIELD, "application/x-www-form-urlencoded", (400,)),
    "ten-megabytes": (b"a" * 10_000_000, "application/x-www-form-urlencoded", (413,)),
    "deep-json": (b'{"a":' * 200 + b"1" + b"}" * 200, "application/json", (400,)),
}


@pytest.mark.parametrize("route", ["/sms", "/salesbot", f"/dp/{DP_SECRET}"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bodies_get_a_clean_4xx(php: PhpServer, route: str, case: str) -> None:
    body, content_type, statuses = HOSTILE[case]
    assert_refused(raw(php, route, body, content_type), *statuses)


@pytest.mark.parametrize("case", ["multipart-without-boundary", "over-1000-fields",
                                  "ten-megabytes", "nesting-too-deep", "deep-json"])
def test_hostile_bodies_to_the_widget_route(php: PhpServer, case: str) -> None:
    """What PHP could not read is refused before any action runs, even with a valid token;
    what it could read reaches the action, which decides (ping ignores a body)."""
    body, content_type, statuses = HOSTILE[case]
    conn = http.client.HTTPConnection("127.0.0.1", php.port, timeout=30)
    try:
        conn.request("POST", "/widget/ping", body=body, headers={
            "Content-Type": content_type, "X-Auth-Token": make_jwt()})
        resp = conn.getresponse()
        reply = Reply(resp.status, dict(resp.getheaders()), resp.read(), 0.0)
    finally:
        conn.close()
    if case == "deep-json":  # JSON is for the action to read; PHP reads forms itself
        assert reply.status == 200 and assert_clean(reply)["ok"] is True
    else:
        assert_refused(reply, *statuses)


def test_php_warnings_go_to_the_log(php: PhpServer) -> None:
    raw(php, "/sms", b"x", "multipart/form-data")
    time.sleep(0.2)
    assert "Missing boundary" in php.log()


def test_trailing_newline_is_not_a_valid_value(php: PhpServer) -> None:
    body = dp_body()
    body["subdomain"] = "acme\n"
    assert_refused(php.request("POST", f"/dp/{DP_SECRET}", body), 400)
    body = dp_body()
    body["event"]["type_code"] = "lead_status_changed\n"
    assert_refused(php.request("POST", f"/dp/{DP_SECRET}", body), 400)


@pytest.mark.parametrize("subdomain, status", [
    ("acme", 200), ("my-company", 200), ("a", 200), ("a" * 63, 200), ("x1", 200),
    # docs/backend.md: one host label, so never a name under another domain.
    ("x.evil.com", 400), ("acme.", 400), (".acme", 400), ("-acme", 400), ("acme-", 400),
    ("a" * 64, 400), ("ac_me", 400), ("acme\n", 400), ("", 400),
])
def test_dp_subdomain_is_one_host_label(php: PhpServer, subdomain: str, status: int) -> None:
    body = dp_body()
    body["subdomain"] = subdomain
    reply = php.request("POST", f"/dp/{DP_SECRET}", body)
    assert reply.status == status, (subdomain, reply.body)
    assert_clean(reply)


# Under the back end's 1 MB body limit, with room for the rest of the body and its encoding.
LONG_HOSTILE = hostile_texts(200_000)


@pytest.mark.parametrize("shape", ["lt", "spaces", "at-labels", "slashes", "hash-underscores",
                                   "newlines", "percent"])
def test_hostile_long_values_are_refused_promptly(php: PhpServer, stub: Stub, shape: str) -> None:
    """Every value a PHP pattern reads, as a long hostile string: a clean 4xx (the request
    timeout of PhpServer.request, 20 s, is the bound; the patterns are linear)."""
    text = LONG_HOSTILE[shape]
    body = dp_body()
    body["subdomain"] = text
    assert_refused(php.request("POST", f"/dp/{DP_SECRET}", body), 400)
    body = dp_body()
    body["event"]["type_code"] = text
    assert_refused(php.request("POST", f"/dp/{DP_SECRET}", body), 400)
    assert_refused(php.request("POST", "/sms", sms_body(make_jwt(), phone=text), form=True), 400)
    salesbot = {"token": make_jwt(), "data": {}, "return_url": return_url(stub)[:8] + text}
    assert_refused(php.request("POST", "/salesbot", salesbot), 400)
    assert_refused(php.request("POST", "/sms", sms_body(text), form=True), 401)


# --- one-time tokens -----------------------------------------------------------------------

def test_a_token_works_once(php: PhpServer) -> None:
    token = make_jwt()
    assert assert_clean(php.request("POST", "/sms", sms_body(token), form=True)) == {"ok": True}
    again = php.request("POST", "/sms", sms_body(token), form=True)
    assert assert_refused(again, 401) == {"error": "Invalid token"}
    time.sleep(0.2)
    assert "token refused: replayed" in php.log()


def test_a_token_without_jti_is_refused(php: PhpServer) -> None:
    reply = php.request("POST", "/sms", sms_body(make_jwt(jti=None)), form=True)
    assert_refused(reply, 401)


def test_concurrent_replays_let_exactly_one_through(php: PhpServer) -> None:
    token = make_jwt()
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(
            lambda _: php.request("POST", "/sms", sms_body(token), form=True), range(8)))
    assert sorted(r.status for r in replies) == [200] + [401] * 7


def signed_with_raw_claim(name: str, literal: str) -> str:
    """A correctly signed token whose claim NAME is the JSON text LITERAL, as written."""
    head, body, _ = make_jwt().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims[name] = "@@RAW@@"
    text = json.dumps(claims).replace('"@@RAW@@"', literal)
    signing_input = f"{head}.{b64url(text.encode())}"
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


# exp 1e19 does not fit a PHP int (it wrapped negative in the replay guard); 1e400 is INF
# (never expires); the others are not integers or not a time.
BAD_TIMES = ["1e19", "1e400", "-1e400", '"123"', "1.5", "-1", "true", "[1]",
             "9223372036854775807", "1e9999999"]


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("literal", BAD_TIMES)
def test_time_claims_must_be_sane_integers(php: PhpServer, name: str, literal: str) -> None:
    token = signed_with_raw_claim(name, literal)
    for _ in range(2):  # never accepted, neither the first time nor a replay
        reply = php.request("POST", "/sms", sms_body(token), form=True)
        assert assert_refused(reply, 401) == {"error": "Invalid token"}, (name, literal)


def test_a_normal_token_with_integer_times_passes_once(php: PhpServer) -> None:
    now = int(time.time())
    token = signed_with_raw_claim("exp", str(now + 120))
    assert php.request("POST", "/sms", sms_body(token), form=True).status == 200
    assert_refused(php.request("POST", "/sms", sms_body(token), form=True), 401)


def test_salesbot_token_works_once(php: PhpServer, stub: Stub) -> None:
    body = {"token": make_jwt(), "data": {"message": "hi"}, "return_url": return_url(stub)}
    assert php.request("POST", "/salesbot", body).status == 200
    assert_refused(php.request("POST", "/salesbot", body), 401)


def noncanonical(token: str) -> str:
    """The same signature bytes spelled differently: unused low bits of the last char set."""
    head, body, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    # 32 signature bytes = 43 chars; the last char carries 4 bits, its 2 low bits unused.
    assert last & 0b11 == 0
    return f"{head}.{body}.{sig[:-1]}{alphabet[last | 0b01]}"


@pytest.mark.parametrize("case, reason", [
    ("crit", "unsupported crit header"),
    ("noncanonical", "bad signature"),
    ("padded", "bad signature"),
])
def test_token_shapes_rfc7515_refuses(php: PhpServer, case: str, reason: str) -> None:
    if case == "crit":
        token = make_jwt(header={"alg": "HS256", "typ": "JWT", "crit": ["exp"]})
    elif case == "noncanonical":
        token = noncanonical(make_jwt())
    else:
        token = make_jwt() + "="
    reply = php.request("POST", "/sms", sms_body(token), form=True)
    # The caller learns nothing about why; the log says it.
    assert assert_refused(reply, 401) == {"error": "Invalid token"}
    time.sleep(0.2)
    assert f"token refused: {reason}" in php.log()


def test_refusal_reasons_stay_out_of_answers(php: PhpServer) -> None:
    for token in (make_jwt(exp=int(time.time()) - 600), make_jwt(secret="other"),
                  make_jwt(header={"alg": "none"})):
        reply = php.request("POST", "/sms", sms_body(token), form=True)
        assert assert_refused(reply, 401) == {"error": "Invalid token"}


# --- the digital-pipeline secret -----------------------------------------------------------

@pytest.mark.parametrize("path, status", [
    ("/dp", 403), ("/dp/wrong-secret", 403), ("/dp?key=wrong", 403),
    (f"/dp/{DP_SECRET}", 200), (f"/dp?key={DP_SECRET}", 200),
    (f"/dp/{DP_SECRET}/more", 404),
])
def test_dp_secret_in_the_url(php: PhpServer, path: str, status: int) -> None:
    reply = php.request("POST", path, dp_body())
    assert reply.status == status
    assert_clean(reply)


def test_dp_secret_segment_without_a_secret_configured(tmp_path: Path) -> None:
    project = make_project(tmp_path / "w", locations=["digital_pipeline"])
    server = PhpServer(project, {"KOMMO_DP_SECRET": ""}).start()
    try:
        assert server.request("POST", "/dp", dp_body()).status == 200
        assert server.request("POST", "/dp/guess", dp_body()).status == 404
    finally:
        server.stop()


# --- headers, helper script, processes ------------------------------------------------------

def test_one_connection_header(php: PhpServer, stub: Stub) -> None:
    body = json.dumps({"token": make_jwt(), "data": {}, "return_url": return_url(stub)}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", php.port, timeout=30)
    try:
        conn.request("POST", "/salesbot", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        assert len(resp.msg.get_all("Connection") or []) == 1
    finally:
        conn.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_dev_token_prints_working_curl_lines(tmp_path: Path, stub: Stub) -> None:
    project = make_project(tmp_path / "w", locations=ALL_BACKEND)
    (project / "backend" / ".env").write_text(
        f"KOMMO_CLIENT_SECRET='{SECRET}'\nKOMMO_DP_SECRET={DP_SECRET}\n", "utf-8")
    server = PhpServer(project, {"KOMMO_RETURN_URL_PREFIX": stub.url}).start()
    try:
        printed = subprocess.run(
            ["php", "-n", "backend/bin/dev-token.php", f"http://127.0.0.1:{server.port}"],
            cwd=project, capture_output=True, text=True, check=True).stdout
        commands = [line for line in printed.splitlines() if line.startswith("curl ")]
        assert len(commands) == 4
        for command in commands:
            done = subprocess.run(["sh", "-c", command + " -w ' %{http_code}'"],
                                  capture_output=True, text=True, check=True)
            body, status = done.stdout.rsplit(" ", 1)
            assert status == "200", (command, done.stdout, server.log())
            if "/widget/ping" in command:  # the token's account, as hooks/widget.php answers
                assert json.loads(body) == {"ok": True, "account_id": 1, "user_id": 1,
                                            "subdomain": "example"}
            else:
                assert json.loads(body) == {"ok": True}
        # The first sms line again: its token is used up.
        sms = next(c for c in commands if "/sms" in c)
        again = subprocess.run([*shlex.split(sms), "-w", " %{http_code}"],
                               capture_output=True, text=True, check=True)
        assert again.stdout.endswith(" 401")
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_dev_token_uses_the_projects_salesbot_handler_and_ends_each_answer(
        tmp_path: Path, stub: Stub) -> None:
    """The Salesbot call carries the handler code the project answered (not the default),
    and each printed command ends what it prints with a newline, as the script itself."""
    project = make_project(tmp_path / "w", locations=["lcard", "salesbot_designer", "sms"],
                           salesbot_handler_code="crm_step")
    (project / "backend" / ".env").write_text(f"KOMMO_CLIENT_SECRET='{SECRET}'\n", "utf-8")
    server = PhpServer(project, {"KOMMO_RETURN_URL_PREFIX": stub.url}).start()
    try:
        printed = subprocess.run(
            ["php", "-n", "backend/bin/dev-token.php", f"http://127.0.0.1:{server.port}"],
            cwd=project, capture_output=True, text=True, check=True).stdout
        assert printed.endswith("\n")
        commands = [line for line in printed.splitlines() if line.startswith("curl ")]
        salesbot = next(c for c in commands if "/salesbot" in c)
        body = json.loads(shlex.split(salesbot)[shlex.split(salesbot).index("-d") + 1])
        assert body["data"]["handler"] == "crm_step"
        for command in commands:
            done = subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                                  check=True)
            assert done.stdout.endswith("}\n"), (command, done.stdout)
    finally:
        server.stop()


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_stop_leaves_no_worker_behind(tmp_path: Path) -> None:
    project = make_project(tmp_path / "w", locations=["sms"])
    server = PhpServer(project, {"PHP_CLI_SERVER_WORKERS": "3"}).start()
    assert server.process is not None
    pgid = server.process.pid
    assert len(_group_members(pgid)) >= 4  # the server and its three workers
    server.stop()
    deadline = time.monotonic() + 5
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_members(pgid) == []


def test_env_example_lists_exactly_what_the_code_reads(tmp_path: Path) -> None:
    import re

    for locations in (["digital_pipeline"], ["sms"], ["salesbot_designer"], ALL_BACKEND):
        project = make_project(tmp_path / "-".join(locations), locations=locations)
        backend = project / "backend"
        # What the server reads (bin/dev-token.php reads the same names when it needs them).
        code = "".join(p.read_text("utf-8") for p in backend.rglob("*.php")
                       if p.parent.name != "bin")
        read = (set(re.findall(r"(?:App|self)::env\('([A-Z_]+)'", code))
                - {"KOMMO_RETURN_URL_PREFIX"})  # a test hook, documented in the README
        listed = set(re.findall(r"^([A-Z_]+)=", (backend / ".env.example").read_text("utf-8"),
                                re.MULTILINE))
        assert listed == read, locations


def test_b64url_helper_matches_php() -> None:
    # The helper the tests sign with is the RFC 7515 encoding (no padding).
    assert b64url(b"\xff\xfe") == "__4"
