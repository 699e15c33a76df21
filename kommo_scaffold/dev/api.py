"""Kommo's REST API as the preview answers it, so a widget's API calls work offline.

Real widgets call their account's own API with relative URLs: ``/api/v4/...`` (documented at
https://developers.kommo.com/reference), and older ``/api/v2/...``, ``/private/api/v2/json/...``
and ``/ajax/...`` paths. The preview answers them with the shapes Kommo returns (HAL
``_links``/``_embedded``; errors as problem JSON with ``title``, ``type``, ``status`` and
``detail``) from two sources, first match wins:

1. the project's fixtures: the answer to ``GET /api/v4/leads/7`` is
   ``.kommo/fixtures/api/v4/leads/7.json`` (a query string is not part of the name);
2. built-in defaults for the entities the preview shows: lead, contact and company 1 (the
   open card; the lead has a text and a select custom field), the account, its user, and
   one pipeline; the ids are those the preview page's
   ``APP.data.current_card``, ``APP.constant('account')`` and ``APP.constant('user')`` use.

Writes (POST, PATCH) change nothing: they are answered as Kommo answers them (the entities
with ids) and logged, so the widget's code path runs.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_PREFIXES = ("/api/v4/", "/api/v2/", "/private/api/", "/ajax/")
ACCOUNT_ID = 1000001
USER_ID = 2000001
SUBDOMAIN = "preview"
ORIGIN = f"https://{SUBDOMAIN}.kommo.com"
PIPELINE_ID = 1000
CARD_ID = 1
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any  # None: no body (204)
    source: str  # "fixture <file>", "default" or "none"


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """Kommo's error body (RFC 7807 problem details)."""
    return {"title": title, "type": f"https://httpstatus.es/{status}", "status": status,
            "detail": detail}


def _link(path: str) -> dict[str, Any]:
    return {"self": {"href": ORIGIN + path}}


def _contact() -> dict[str, Any]:
    return {"id": CARD_ID, "name": "Jane Doe", "first_name": "Jane", "last_name": "Doe",
            "responsible_user_id": USER_ID, "group_id": 0, "created_by": USER_ID,
            "updated_by": USER_ID, "created_at": 1767225600, "updated_at": 1767225600,
            "closest_task_at": None, "is_deleted": False, "account_id": ACCOUNT_ID,
            "custom_fields_values": [
                {"field_id": 1, "field_name": "Phone", "field_code": "PHONE",
                 "field_type": "multitext",
                 "values": [{"value": "+10000000000", "enum_code": "WORK"}]},
                {"field_id": 2, "field_name": "Email", "field_code": "EMAIL",
                 "field_type": "multitext",
                 "values": [{"value": "jane@example.com", "enum_code": "WORK"}]}],
            "_links": _link(f"/api/v4/contacts/{CARD_ID}"),
            "_embedded": {"tags": [], "companies": [{"id": CARD_ID}]}}


def _company() -> dict[str, Any]:
    return {"id": CARD_ID, "name": "Example Ltd", "responsible_user_id": USER_ID,
            "group_id": 0, "created_by": USER_ID, "updated_by": USER_ID,
            "created_at": 1767225600, "updated_at": 1767225600, "closest_task_at": None,
            "is_deleted": False, "account_id": ACCOUNT_ID, "custom_fields_values": None,
            "_links": _link(f"/api/v4/companies/{CARD_ID}"), "_embedded": {"tags": []}}


# The lead's custom fields (GET /api/v4/leads/custom_fields): a text and a select field.
LEAD_FIELDS: list[dict[str, Any]] = [
    {"id": 2001, "name": "Source", "type": "text", "code": None, "sort": 10, "enums": None},
    {"id": 2002, "name": "Priority", "type": "select", "code": None, "sort": 20,
     "enums": [{"id": 3001, "value": "High", "sort": 1},
               {"id": 3002, "value": "Normal", "sort": 2}]}]


def _lead(with_contacts: bool) -> dict[str, Any]:
    embedded: dict[str, Any] = {"tags": [], "companies": [
        {"id": CARD_ID, "_links": _link(f"/api/v4/companies/{CARD_ID}")}]}
    if with_contacts:
        embedded["contacts"] = [{"id": CARD_ID, "is_main": True,
                                 "_links": _link(f"/api/v4/contacts/{CARD_ID}")}]
    return {"id": CARD_ID, "name": "Deal #1", "price": 1500, "responsible_user_id": USER_ID,
            "group_id": 0, "status_id": 142001, "pipeline_id": PIPELINE_ID,
            "loss_reason_id": None, "created_by": USER_ID, "updated_by": USER_ID,
            "created_at": 1767225600, "updated_at": 1767225600, "closed_at": None,
            "closest_task_at": None, "is_deleted": False,
            "custom_fields_values": [
                {"field_id": LEAD_FIELDS[0]["id"], "field_name": "Source", "field_code": None,
                 "field_type": "text", "values": [{"value": "Website"}]},
                {"field_id": LEAD_FIELDS[1]["id"], "field_name": "Priority", "field_code": None,
                 "field_type": "select", "values": [{"value": "High", "enum_id": 3001}]}],
            "score": None, "account_id": ACCOUNT_ID, "labor_cost": None,
            "_links": _link(f"/api/v4/leads/{CARD_ID}"), "_embedded": embedded}


def _user() -> dict[str, Any]:
    return {"id": USER_ID, "name": "Developer", "email": "dev@example.com", "lang": "en",
            "rights": {"is_admin": True, "is_free": False, "is_active": True},
            "_links": _link(f"/api/v4/users/{USER_ID}")}


def _pipeline() -> dict[str, Any]:
    names = [(142001, "First contact", 10), (142002, "Negotiation", 20),
             (142, "Closed - won", 10000), (143, "Closed - lost", 11000)]
    statuses = [{"id": sid, "name": name, "sort": sort, "is_editable": sid > 1000,
                 "pipeline_id": PIPELINE_ID, "color": "#99ccff", "type": 0,
                 "account_id": ACCOUNT_ID,
                 "_links": _link(f"/api/v4/leads/pipelines/{PIPELINE_ID}/statuses/{sid}")}
                for sid, name, sort in names]
    return {"id": PIPELINE_ID, "name": "Sales", "sort": 1, "is_main": True,
            "is_unsorted_on": True, "is_archive": False, "account_id": ACCOUNT_ID,
            "_links": _link(f"/api/v4/leads/pipelines/{PIPELINE_ID}"),
            "_embedded": {"statuses": statuses}}


def _account() -> dict[str, Any]:
    return {"id": ACCOUNT_ID, "name": "Preview account", "subdomain": SUBDOMAIN,
            "current_user_id": USER_ID, "country": "US", "currency": "USD",
            "currency_symbol": "$", "customers_mode": "disabled", "is_unsorted_on": True,
            "mobile_feature_version": 0, "is_loss_reason_enabled": True,
            "is_helpbot_enabled": False, "is_technical_account": False,
            "contact_name_display_order": 1, "_links": _link("/api/v4/account")}


# Each card entity by its API name; the argument says whether ?with=contacts was asked.
ENTITIES: dict[str, Callable[[bool], dict[str, Any]]] = {
    "leads": _lead, "contacts": lambda _: _contact(), "companies": lambda _: _company()}


def _collection(path: str, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"_page": 1, "_links": _link(path), "_embedded": {key: items}}


def default_get(path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
    """The built-in answer to a GET; (404, problem) where there is none."""
    with_ = ",".join(query.get("with", []))
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v4"]:
        rest = parts[2:]
        if rest == ["account"]:
            return 200, _account()
        if rest == ["users"]:
            return 200, _collection(path, "users", [_user()])
        if rest == ["users", str(USER_ID)]:
            return 200, _user()
        if rest == ["leads", "pipelines"]:
            return 200, _collection(path, "pipelines", [_pipeline()])
        if rest == ["leads", "pipelines", str(PIPELINE_ID)]:
            return 200, _pipeline()
        if rest == ["leads", "custom_fields"]:
            fields = [{**field, "is_api_only": False, "entity_type": "leads",
                       "_links": _link(f"/api/v4/leads/custom_fields/{field['id']}")}
                      for field in LEAD_FIELDS]
            return 200, _collection(path, "custom_fields", fields)
        if rest[1:] == ["custom_fields"] and rest[0] in ENTITIES:
            return 200, _collection(path, "custom_fields", [])
        if len(rest) in (1, 2) and rest[0] in ENTITIES:
            entity = ENTITIES[rest[0]]("contacts" in with_)
            if len(rest) == 1:
                return 200, _collection(path, rest[0], [entity])
            if rest[1] == str(CARD_ID):
                return 200, entity
        if len(rest) == 2 and rest[0] == "widgets":
            return 200, {"id": 1, "code": rest[1], "version": "1.0.0", "rating": "0",
                         "settings_template": [], "is_lead_source": True,
                         "is_work_with_dp": True, "is_crm_template": False,
                         "client_uuid": None, "is_active_in_account": True,
                         "pipeline_id": PIPELINE_ID, "_links": _link(path)}
    if parts[:3] == ["api", "v2", "account"]:
        return 200, {"id": ACCOUNT_ID, "name": "Preview account", "subdomain": SUBDOMAIN,
                     "currency": "USD", "timezone": "UTC", "language": "en",
                     "current_user": USER_ID, "_links": _link("/api/v2/account"),
                     "_embedded": {"users": {str(USER_ID): {
                         "id": USER_ID, "name": "Developer", "login": "dev@example.com"}}}}
    if parts[:5] == ["private", "api", "v2", "json", "accounts"] and parts[5:] == ["current"]:
        return 200, {"response": {"account": {
            "id": ACCOUNT_ID, "name": "Preview account", "subdomain": SUBDOMAIN,
            "currency": "USD", "timezone": "UTC", "language": "en",
            "users": [{"id": USER_ID, "name": "Developer", "login": "dev@example.com"}]}}}
    return 404, problem(404, "Not Found", f"the preview has no answer for GET {path}: add "
                        f".kommo/fixtures{path}.json")


def fixture_file(fixtures: Path, path: str) -> Path | None:
    """The fixture for PATH, or None (also for names that could leave the folder)."""
    parts = path.strip("/").split("/")
    if not parts or not all(_SEGMENT.match(part) for part in parts):
        return None
    candidate = fixtures.joinpath(*parts[:-1], parts[-1] + ".json")
    try:
        candidate.resolve().relative_to(fixtures.resolve())
    except (OSError, ValueError):
        return None
    return candidate if candidate.is_file() else None


def get(fixtures: Path, path: str, query: str) -> Answer:
    found = fixture_file(fixtures, path)
    if found is not None:
        try:
            return Answer(200, json.loads(found.read_text("utf-8-sig")), f"fixture {found.name}")
        except (OSError, UnicodeDecodeError, ValueError) as error:
            return Answer(500, problem(500, "Fixture error", f"{found}: {error}"), "fixture")
    status, data = default_get(path, urllib.parse.parse_qs(query))
    return Answer(status, data, "default" if status == 200 else "none")


def open_cards(fixtures: Path) -> dict[str, Any]:
    """What the preview's card of each entity shows: the entity as GET /api/v4/<entity>/1
    answers it (fixture or default) and its fields, so the card's DOM, APP.data.current_card
    and the API tell of one entity. An entity that cannot be read is None."""
    cards: dict[str, Any] = {}
    for entity in ENTITIES:
        answer = get(fixtures, f"/api/v4/{entity}/{CARD_ID}", "")
        data = answer.data if answer.status == 200 and isinstance(answer.data, dict) else None
        definitions = get(fixtures, f"/api/v4/{entity}/custom_fields", "").data
        cards[entity] = None if data is None else {
            "entity": data, "source": answer.source, "fields": card_fields(data, definitions)}
    return cards


def card_fields(entity: dict[str, Any], definitions: Any) -> list[dict[str, Any]]:
    """The entity's custom fields as its card lists them: each defined field (in its sort
    order) with the entity's value, then values of fields the definitions do not name."""
    embedded = definitions.get("_embedded") if isinstance(definitions, dict) else None
    defined = embedded.get("custom_fields") if isinstance(embedded, dict) else None
    given = entity.get("custom_fields_values")
    values = {v.get("field_id"): v for v in given if isinstance(v, dict)} \
        if isinstance(given, list) else {}
    fields: list[dict[str, Any]] = []
    seen: set[Any] = set()
    listed = [d for d in defined if isinstance(d, dict)] if isinstance(defined, list) else []
    for spec in sorted(listed, key=lambda d: d.get("sort") or 0):
        seen.add(spec.get("id"))
        fields.append(_field(spec.get("id"), spec.get("name"), spec.get("type"),
                             spec.get("enums"), values.get(spec.get("id"))))
    for ident, value in values.items():
        if ident not in seen:
            fields.append(_field(ident, value.get("field_name"), value.get("field_type"),
                                 None, value))
    return [f for f in fields if isinstance(f["id"], int)]


def _field(ident: Any, name: Any, kind: Any, enums: Any, value: Any) -> dict[str, Any]:
    first = (value or {}).get("values") if isinstance(value, dict) else None
    entry = first[0] if isinstance(first, list) and first and isinstance(first[0], dict) else {}
    options = [{"id": e.get("id"), "value": str(e.get("value", ""))}
               for e in enums if isinstance(e, dict)] if isinstance(enums, list) else []
    if entry.get("enum_id") is not None and not any(o["id"] == entry["enum_id"]
                                                    for o in options):
        options.append({"id": entry["enum_id"], "value": str(entry.get("value", ""))})
    return {"id": ident, "name": str(name or ident), "type": str(kind or "text"),
            "value": "" if entry.get("value") is None else str(entry.get("value")),
            "enum_id": entry.get("enum_id"), "enums": options}


def parse_body(raw: bytes, content_type: str) -> Any:
    """A request body as the widget sent it: JSON, or a form (older /ajax endpoints)."""
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return None
    return {key: values[-1] for key, values in urllib.parse.parse_qs(text).items()}


def write(method: str, path: str, body: Any) -> Answer:
    """A POST or PATCH answered as Kommo answers it; nothing is stored."""
    parts = path.strip("/").split("/")
    key = next((part for part in reversed(parts) if not part.isdigit()), "items")
    if isinstance(body, list):
        items = [{**(item if isinstance(item, dict) else {"value": item}),
                  "id": item.get("id", 1000 + index) if isinstance(item, dict) else 1000 + index,
                  "request_id": str(index), "_links": _link(path)}
                 for index, item in enumerate(body)]
        return Answer(200, {"_links": _link(path), "_embedded": {key: items}}, "echo")
    if isinstance(body, dict):
        ident = int(parts[-1]) if parts[-1].isdigit() else 1000
        return Answer(200, {**body, "id": body.get("id", ident), "_links": _link(path)}, "echo")
    return Answer(400, problem(400, "Bad Request", f"{method} {path} needs a JSON body"),
                  "none")


class UpstreamError(ValueError):
    """A --api URL or token kommo dev cannot use; the message is the user's one line."""


@dataclass(frozen=True)
class Upstream:
    """A real account that `kommo dev --api` forwards the preview's API calls to, with a
    long-lived token (a private integration's) that never reaches the browser."""

    base: str
    token: str

    @classmethod
    def parse(cls, url: str, token: str | None) -> Upstream:
        from kommo_scaffold.catalog.accounts import is_account_host
        from kommo_scaffold.check import hosts

        parts = urllib.parse.urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        stand_in = parts.scheme in ("http", "https") and hosts.loopback(host)
        if not stand_in and (parts.scheme != "https" or not is_account_host(host)):
            raise UpstreamError(f"--api takes an account URL such as https://example.kommo.com "
                                f"(or a stand-in on 127.0.0.1), not {url[:100]!r}")
        if parts.path not in ("", "/") or parts.query or parts.username:
            raise UpstreamError(f"--api takes the account's address only, e.g. "
                                f"https://{host or 'example.kommo.com'}")
        if not token or not token.strip():
            raise UpstreamError("--api needs the account's long-lived token in the "
                                "KOMMO_API_TOKEN environment variable")
        return cls(f"{parts.scheme}://{parts.netloc}", token.strip())

    def forward(self, method: str, path_query: str, body: bytes | None,
                content_type: str) -> tuple[int, bytes, str]:
        """(status, body, content type) of the same request made to the account."""
        import urllib.error
        import urllib.request

        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        request = urllib.request.Request(self.base + path_query, data=body, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                return (answer.status, answer.read(MAX_ANSWER),
                        answer.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as error:
            return error.code, error.read(MAX_ANSWER), error.headers.get("Content-Type", "")
        except (urllib.error.URLError, OSError, ValueError) as error:
            text = json.dumps(problem(502, "Bad Gateway", f"{self.base}: {error}"))
            return 502, text.encode(), "application/problem+json"


MAX_ANSWER = 16 * 1024 * 1024
