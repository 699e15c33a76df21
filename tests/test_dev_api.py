"""`kommo dev` answers Kommo's REST API for the widget in the preview: the shapes Kommo
returns, the project's fixtures over the built-in defaults, writes echoed and logged, and
`--api` forwarding to an account (here a stand-in on loopback) with a token the browser
never sees."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import run_cli, user_git
from dev_helpers import EventReader, dev_session, request
from http_helpers import QuietHandler, local_server

from kommo_scaffold.dev import api


@pytest.fixture
def widget(make_widget) -> Path:
    return make_widget(locations=["lcard", "settings"])


def get(port: int, path: str) -> tuple[int, dict[str, str], object]:
    status, headers, body = request(port, "GET", path)
    return status, headers, json.loads(body) if body else None


def test_defaults_are_the_open_cards_entities_in_kommos_shapes(widget):
    with dev_session(widget, dev_zip=False) as (session, _):
        port = session.server.port
        status, headers, lead = get(port, f"/api/v4/leads/{api.CARD_ID}?with=contacts")
        assert status == 200 and headers["content-type"].startswith("application/json")
        assert lead["id"] == api.CARD_ID and lead["pipeline_id"] == api.PIPELINE_ID
        assert lead["_links"]["self"]["href"].endswith(f"/api/v4/leads/{api.CARD_ID}")
        contact = lead["_embedded"]["contacts"][0]
        assert contact["id"] == api.CARD_ID and contact["is_main"] is True
        _, _, plain = get(port, f"/api/v4/leads/{api.CARD_ID}")
        assert "contacts" not in plain["_embedded"]  # only ?with=contacts embeds them
        _, _, leads = get(port, "/api/v4/leads")
        assert [item["id"] for item in leads["_embedded"]["leads"]] == [api.CARD_ID]
        _, _, account = get(port, "/api/v4/account")
        assert (account["id"], account["subdomain"]) == (api.ACCOUNT_ID, api.SUBDOMAIN)
        _, _, pipelines = get(port, "/api/v4/leads/pipelines")
        statuses = pipelines["_embedded"]["pipelines"][0]["_embedded"]["statuses"]
        assert {142, 143} <= {s["id"] for s in statuses}
        _, _, legacy = get(port, "/private/api/v2/json/accounts/current")
        assert legacy["response"]["account"]["id"] == api.ACCOUNT_ID
        status, headers, missing = get(port, "/api/v4/leads/7")
        assert status == 404 and headers["content-type"] == "application/problem+json"
        assert missing["status"] == 404 and ".kommo/fixtures/api/v4/leads/7.json" in \
            missing["detail"]


def test_preview_globals_agree_with_the_api_defaults():
    """APP.constant('account'/'user') and current_card in the preview page use the ids the
    API answers with (one lead, not two stories)."""
    source = (Path(api.__file__).parent / "assets" / "preview" / "widget.js").read_text()
    assert f"id: {api.ACCOUNT_ID}, subdomain: '{api.SUBDOMAIN}'" in source
    assert f"user: {{id: {api.USER_ID}," in source
    assert f"get_pipeline_id: function () {{ return Promise.resolve({api.PIPELINE_ID}); }}" \
        in source


def test_the_open_cards_are_what_the_api_answers_with_their_fields(tmp_path):
    """The preview's card of each entity (its DOM and APP.data.current_card are built from
    it) is GET /api/v4/<entity>/1 with the fields of /api/v4/<entity>/custom_fields."""
    cards = api.open_cards(tmp_path)
    assert set(cards) == {"leads", "contacts", "companies"}
    lead = cards["leads"]
    assert lead["entity"] == api.get(tmp_path, f"/api/v4/leads/{api.CARD_ID}", "").data
    assert lead["source"] == "default" and lead["entity"]["id"] == api.CARD_ID
    assert [(f["id"], f["name"], f["type"], f["value"], f["enum_id"]) for f in
            lead["fields"]] == [(2001, "Source", "text", "Website", None),
                                (2002, "Priority", "select", "High", 3001)]
    assert [o["value"] for o in lead["fields"][1]["enums"]] == ["High", "Normal"]
    _, definitions = api.default_get("/api/v4/leads/custom_fields", {})
    assert [d["id"] for d in definitions["_embedded"]["custom_fields"]] == [2001, 2002]
    # Contact fields without definitions are listed from the values themselves.
    assert [f["name"] for f in cards["contacts"]["fields"]] == ["Phone", "Email"]
    # A fixture that is not an entity leaves that card to the page's plain default.
    broken = tmp_path / "api" / "v4" / "companies"
    broken.mkdir(parents=True)
    (broken / "1.json").write_text("[1, 2]", "utf-8")
    (tmp_path / "api" / "v4" / "leads").mkdir()
    (tmp_path / "api" / "v4" / "leads" / "custom_fields.json").write_text(
        '{"_embedded": {"custom_fields": [{"id": "x"}, 5, {"id": 9, "name": "Nine", '
        '"type": "select", "enums": [{"id": 1, "value": "One"}]}]}}', "utf-8")
    cards = api.open_cards(tmp_path)
    assert cards["companies"] is None
    assert [(f["id"], f["value"], f["enums"]) for f in cards["leads"]["fields"]] == [
        (9, "", [{"id": 1, "value": "One"}]), (2001, "Website", []),
        (2002, "High", [{"id": 3001, "value": "High"}])]


def test_fixtures_override_defaults_and_are_the_projects_to_commit(widget):
    fixtures = widget / ".kommo" / "fixtures" / "api" / "v4" / "leads"
    fixtures.mkdir(parents=True)
    (fixtures / "7.json").write_text('{"id": 7, "name": "Сделка"}', "utf-8")
    (fixtures / "1.json").write_text('{"id": 1, "name": "Mine"}', "utf-8")
    (fixtures / "8.json").write_text('{"id": 8,', "utf-8")
    with dev_session(widget, dev_zip=False) as (session, lines):
        port = session.server.port
        assert get(port, "/api/v4/leads/7?with=contacts")[2] == {"id": 7, "name": "Сделка"}
        assert get(port, "/api/v4/leads/1")[2] == {"id": 1, "name": "Mine"}
        status, _, broken = get(port, "/api/v4/leads/8")
        assert status == 500 and "8.json" in broken["detail"]
        for hostile in ("/api/v4/leads/..%2F..%2Ftoken", "/api/v4/%2e%2e/x", "/api/v4/.x"):
            assert get(port, hostile)[0] == 404
    assert any(line == "api: GET /api/v4/leads/7 200 (fixture 7.json)" for line in lines)
    # .kommo/ keeps the token and dev settings out of git, but not the fixtures.
    status = user_git(widget, "status", "--porcelain", "--untracked-files=all")
    assert ".kommo/fixtures/api/v4/leads/7.json" in status
    assert "token" not in status and "dev-settings" not in status


def api_events(events: EventReader) -> list[dict]:
    return [data for name, data, _ in events.events if name == "api"]


def test_writes_are_echoed_logged_and_only_from_the_preview_page(widget):
    with dev_session(widget, dev_zip=False) as (session, lines):
        port = session.server.port
        events = EventReader(port)
        try:
            status, _, body = request(port, "POST", "/api/v4/leads/notes",
                                      [{"entity_id": 1, "note_type": "common",
                                        "params": {"text": "hi"}}],
                                      {"Content-Type": "application/json"})
            assert status == 200
            note = json.loads(body)["_embedded"]["notes"][0]
            assert note["entity_id"] == 1 and note["request_id"] == "0" and "id" in note
            status, _, body = request(port, "PATCH", "/api/v4/leads/1", {"price": 10},
                                      {"Content-Type": "application/json"})
            assert status == 200 and json.loads(body) == {
                "price": 10, "id": 1, "_links": json.loads(body)["_links"]}
            for headers in ({"Origin": "https://evil.example"},
                            {"Sec-Fetch-Site": "cross-site"}):
                status, _, body = request(port, "POST", "/api/v4/leads", [{}], headers)
                assert status == 403 and json.loads(body)["status"] == 403
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(api_events(events)) < 2:
                time.sleep(0.01)
            assert [(d["method"], d["path"], d["status"]) for d in api_events(events)] == [
                ("POST", "/api/v4/leads/notes", 200), ("PATCH", "/api/v4/leads/1", 200)]
        finally:
            events.close()
    assert "api: POST /api/v4/leads/notes 200 (echo)" in lines


class StandIn(QuietHandler):
    """Kommo's API on loopback: answers with what it was asked, and who asked."""

    seen: ClassVar[list[tuple[str, str, str | None, bytes]]] = []

    def answer(self) -> None:
        body = self.body() if self.command != "GET" else b""
        StandIn.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        if self.path.startswith("/api/v4/leads/404"):
            self.reply(404, b'{"title": "Not Found", "status": 404}',
                       content_type="application/problem+json")
            return
        self.reply(200, json.dumps({"path": self.path}).encode(),
                   {"Set-Cookie": "session=secret"})

    do_GET = do_POST = do_PATCH = answer


def test_api_forwards_to_the_account_with_the_token_the_browser_never_sees(widget, monkeypatch):
    monkeypatch.setenv("KOMMO_API_TOKEN", "long-lived-secret")
    StandIn.seen = []
    with local_server(StandIn) as base, dev_session(widget, dev_zip=False,
                                                    api_url=base) as (session, lines):
        port = session.server.port
        status, headers, body = get(port, "/api/v4/leads/5?with=contacts")
        assert status == 200 and body == {"path": "/api/v4/leads/5?with=contacts"}
        assert "long-lived-secret" not in json.dumps(headers) and "set-cookie" not in headers
        assert get(port, "/api/v4/leads/404")[0] == 404
        status, _, _ = request(port, "PATCH", "/api/v4/leads/5", {"name": "x"},
                               {"Content-Type": "application/json"})
        assert status == 200
    assert [(m, p, auth) for m, p, auth, _ in StandIn.seen] == [
        ("GET", "/api/v4/leads/5?with=contacts", "Bearer long-lived-secret"),
        ("GET", "/api/v4/leads/404", "Bearer long-lived-secret"),
        ("PATCH", "/api/v4/leads/5", "Bearer long-lived-secret")]
    assert StandIn.seen[-1][3] == b'{"name": "x"}'
    assert not any("long-lived-secret" in line for line in lines)


@pytest.mark.parametrize(("url", "token", "message"), [
    ("https://evil.example", "t", "--api takes an account URL such as https://example.kommo.com"),
    ("http://example.kommo.com", "t", "--api takes an account URL"),
    ("https://a.b.kommo.com", "t", "--api takes an account URL"),
    ("https://example.amocrm.ru/api/v4", "t", "--api takes the account's address only"),
    ("https://example.kommo.com", "", "KOMMO_API_TOKEN"),
])
def test_a_wrong_api_url_or_token_is_one_line(widget, url, token, message):
    env = {**os.environ, "KOMMO_API_TOKEN": token}
    done = run_cli("dev", "--api", url, "-C", str(widget), env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
