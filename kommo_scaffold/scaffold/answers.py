"""Answers: parse -d KEY=VALUE and --data-file like copier does, and validate them early.

copier validates answers too (copier.yml validators, generated from the same catalog), but
its errors arrive as tracebacks and only one at a time. Checking here first gives one clear
line that names the problem and what to do.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kommo_scaffold.catalog import areas, suggest
from kommo_scaffold.errors import ScaffoldError, UsageError

ANSWERS_FILE = ".copier-answers.yml"
# \Z, never $: $ also matches before a trailing newline ("abc\n" would pass). The same
# rules, in Jinja, are templates/widget/validators.jinja (a test keeps them in step).
WIDGET_CODE_RE = re.compile(r"^[a-z][A-Za-z0-9_]*\Z")
FIELD_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*\Z")
HEX_COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}\Z")
# The domain is dot-separated labels, none empty: a label cannot hold a dot, so the match is
# linear ([^@]+\.[^@]+ tried every dot against the rest: quadratic on "a@....").
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f.]+(?:\.[^@\s\x00-\x1f.]+)+\Z")
_SEGMENT = r"[^/\s?#\x00-\x1f\x7f]+"
# A base URL: no query, fragment or empty path segment (base ~ '/dp' must never hold //).
BASE_URL_RE = re.compile(rf"^https?://{_SEGMENT}(/{_SEGMENT})*/?\Z")
# An endpoint Kommo calls: a query (e.g. a secret key) is fine, a fragment is not.
ENDPOINT_URL_RE = re.compile(rf"^https?://{_SEGMENT}(/{_SEGMENT})*/?(\?[^\s#\x00-\x1f\x7f]*)?\Z")
URL_RE = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+\Z")
# Endpoints that may stay empty: they then take this route under backend_url (and follow it).
DERIVED_ENDPOINTS = {"dp_webhook_url": "/dp", "sms_endpoint": "/sms"}
# Budgets for untrusted answers: far above any real widget, far below what would make
# rendering slow or memory-hungry.
MAX_DATA_FILE_BYTES = 1 << 20
MAX_TEXT_CHARS = 10_000
MAX_LIST_ITEMS = 200
MAX_SETTINGS_FIELDS = 100
MAX_YAML_NODES = 200_000


def _yaml() -> Any:
    import yaml  # a dependency of copier; imported lazily to keep the CLI fast

    return yaml


def load_questions(template_root: Path) -> dict[str, dict[str, Any]]:
    """The questions of copier.yml (settings starting with _ and computed values left out)."""
    data = _yaml().safe_load((template_root / "copier.yml").read_text("utf-8"))
    return {key: value for key, value in data.items()
            if not key.startswith("_") and value.get("when") is not False}


class _AnswerYamlError(Exception):
    """YAML we refuse to load (aliases, too many nodes)."""


def load_untrusted_yaml(text: str) -> Any:
    """safe_load without aliases and with a node budget: no "billion laughs" expansion.

    The events are checked first (by libyaml when it is there, which is fast), so a hostile
    document is refused before any object is built.
    """
    yaml = _yaml()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for count, event in enumerate(yaml.parse(text, Loader=loader)):
        if isinstance(event, yaml.AliasEvent):
            raise _AnswerYamlError("YAML aliases (*name) are not allowed in answers")
        if count > MAX_YAML_NODES:
            raise _AnswerYamlError(f"more than {MAX_YAML_NODES} YAML values")
    return yaml.load(text, Loader=loader)  # a safe loader (SafeLoader or its C twin)


def _parse_value(key: str, raw: str, question: dict[str, Any]) -> Any:
    kind = question.get("type", "str")
    if question.get("multiselect") or kind in ("yaml", "json"):
        try:
            value = load_untrusted_yaml(raw)
        except _AnswerYamlError as error:
            raise UsageError(f"-d {key}: {error}") from error
        except Exception as error:
            raise UsageError(f"-d {key}: not valid YAML ({error.__class__.__name__}); "
                             f"write lists like {key}=[a, b]") from error
        if question.get("multiselect") and not isinstance(value, list):
            raise UsageError(f"-d {key}: expected a list such as {key}=[{raw}]")
        return value
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in ("true", "yes", "y", "1", "on"):
            return True
        if lowered in ("false", "no", "n", "0", "off"):
            return False
        raise UsageError(f"-d {key}: expected true or false, got {raw!r}")
    if kind == "int":
        try:
            return int(raw)
        except ValueError as error:
            raise UsageError(f"-d {key}: expected a whole number, got {raw!r}") from error
    return raw


def parse_data(pairs: list[str], data_file: Path | None,
               questions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Answers from --data-file, then -d KEY=VALUE (which wins), typed per question."""
    answers: dict[str, Any] = {}
    if data_file is not None:
        try:
            with data_file.open("rb") as handle:
                content = handle.read(MAX_DATA_FILE_BYTES + 1)
        except OSError as error:
            raise UsageError(f"Cannot read --data-file {data_file}: {error.strerror}") from error
        if len(content) > MAX_DATA_FILE_BYTES:
            raise UsageError(f"--data-file {data_file} is larger than "
                             f"{MAX_DATA_FILE_BYTES // 1024} KB; answers files are small")
        try:
            loaded = load_untrusted_yaml(content.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise UsageError(f"--data-file {data_file} is not UTF-8 text") from error
        except _AnswerYamlError as error:
            raise UsageError(f"--data-file {data_file}: {error}") from error
        except Exception as error:
            raise UsageError(f"--data-file {data_file} is not valid YAML") from error
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise UsageError(f"--data-file {data_file} must be a YAML mapping of answers")
        answers.update(loaded)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"-d {pair!r}: write answers as KEY=VALUE")
        if key in questions:
            answers[key] = _parse_value(key, raw, questions[key])
        else:
            answers[key] = raw
    unknown = [key for key in answers if key not in questions]
    if unknown:
        raise UsageError(f"Unknown answer {unknown[0]!r}; known answers: "
                         f"{', '.join(sorted(questions))}")
    return answers


def _require_list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise UsageError(f"{key} must be a list, e.g. {key}=[a, b]")
    return value


def _check_sizes(key: str, value: Any, depth: int = 0) -> None:
    """No NUL bytes (files and git cannot hold them), no huge strings, lists or nesting."""
    if depth > 10:
        raise UsageError(f"{key}: nested too deeply")
    if isinstance(value, str):
        if "\0" in value:
            raise UsageError(f"{key}: a NUL byte is not allowed in answers")
        if len(value) > MAX_TEXT_CHARS:
            raise UsageError(f"{key}: {len(value)} characters is too long "
                             f"(at most {MAX_TEXT_CHARS})")
    elif isinstance(value, list):
        limit = MAX_SETTINGS_FIELDS if key == "settings_fields" else MAX_LIST_ITEMS
        if len(value) > limit:
            raise UsageError(f"{key}: {len(value)} items is too many (at most {limit})")
        for item in value:
            _check_sizes(key, item, depth + 1)
    elif isinstance(value, dict):
        if len(value) > MAX_LIST_ITEMS:
            raise UsageError(f"{key}: {len(value)} keys is too many")
        for name, item in value.items():
            _check_sizes(key, name, depth + 1)
            _check_sizes(key, item, depth + 1)


def validate(answers: dict[str, Any]) -> None:
    """Raise UsageError for the first answer Kommo or the template cannot work with."""
    for key, value in answers.items():
        _check_sizes(str(key), value)
    code = answers.get("widget_code")
    if code is not None and not WIDGET_CODE_RE.fullmatch(str(code)):
        raise UsageError(f"Widget code {code!r} is invalid: use Latin letters, digits and _, "
                         "starting with a lower-case letter (e.g. deal_helper)")
    if "widget_version" in answers:
        from kommo_scaffold.catalog.version import problem

        reason = problem(answers["widget_version"])
        if reason:
            raise UsageError(f"widget_version {reason}")
    if "widget_name" in answers and not str(answers["widget_name"]).strip():
        raise UsageError("The widget name must not be empty")
    if "locales" in answers:
        locales = _require_list("locales", answers["locales"])
        for locale in locales:
            if locale not in areas.LOCALES:
                raise UsageError(f"Unknown locale {locale!r}; choose from "
                                 f"{', '.join(areas.LOCALES)}")
        if not locales:
            raise UsageError("Choose at least one locale")
    locations = answers.get("locations")
    if locations is not None:
        validate_locations(_require_list("locations", locations))
    _validate_backend(answers.get(areas.BACKEND_QUESTION), locations)
    if "panel_locations" in answers:
        panel = _require_list("panel_locations", answers["panel_locations"])
        validate_panel(panel, locations)
    if "settings_fields" in answers:
        validate_settings_fields(answers["settings_fields"], locations)
    if "mobile_color" in answers and not HEX_COLOR_RE.fullmatch(str(answers["mobile_color"])):
        raise UsageError(f"mobile_color {answers['mobile_color']!r} must look like #5F43CF")
    _validate_urls(answers)
    _validate_details(answers)


def _validate_backend(backend: Any, locations: Any) -> None:
    """`backend` is a yes/no, and no when an area needs the back end is a contradiction."""
    if backend is None:
        return
    if not isinstance(backend, bool):
        raise UsageError(f"backend must be true or false, not {backend!r}")
    needed = areas.backend_needed_by(locations) if isinstance(locations, list) else []
    if not backend and needed:
        raise UsageError(f"backend=false: {', '.join(needed)} cannot work without the back "
                         "end (remove the area first with `kommo remove-area`)")


def _validate_urls(answers: dict[str, Any]) -> None:
    if "backend_url" in answers and not BASE_URL_RE.match(str(answers["backend_url"])):
        raise UsageError(f"backend_url {answers['backend_url']!r} must be an http(s) URL "
                         "without query, fragment or empty path segments (//)")
    derived = derived_endpoints(answers) if "backend_url" in answers else []
    for key in ("dp_webhook_url", "sms_endpoint", "mobile_frame_url"):
        value = str(answers.get(key, ""))
        if key not in answers or (value == "" and key in DERIVED_ENDPOINTS):
            continue
        if not ENDPOINT_URL_RE.match(value):
            raise UsageError(f"{key} {value!r} must be an http(s) URL without fragment or "
                             "empty path segments (//)")
        if key in derived:
            raise UsageError(f"{key} {value!r} is the {DERIVED_ENDPOINTS[key]} route of "
                             "backend_url: leave it empty so it follows backend_url")
    link = str(answers.get("support_link", ""))
    if link and not URL_RE.match(link):
        raise UsageError(f"support_link {link!r} must be an http(s) URL")


def _validate_details(answers: dict[str, Any]) -> None:
    """The answers of single areas and the widget's own fields (copier.yml order)."""
    for key, value in answers.items():
        if isinstance(value, str) and "\x00" in value:
            raise UsageError(f"{key} must not contain a NUL character")
    for key in ("advanced_title", "ai_agent_description"):
        if key in answers and not str(answers[key]).strip():
            raise UsageError(f"{key} must not be empty")
    for key in ("salesbot_handler_code", "left_menu_code"):
        if key in answers and not FIELD_CODE_RE.match(str(answers[key])):
            raise UsageError(f"{key} {answers[key]!r} must be lower-case Latin letters, "
                             "digits and _")
    if answers.get("left_menu_code") in areas.LEFT_MENU_AFTER:
        raise UsageError(f"left_menu_code {answers['left_menu_code']!r} is a Kommo system "
                         "section; choose another")
    email = str(answers.get("support_email", ""))
    if email and not EMAIL_RE.match(email):
        raise UsageError(f"support_email {email!r} is not an e-mail address")
    catalog = answers.get("catalog_id")
    if isinstance(catalog, int) and catalog < 0:
        raise UsageError("catalog_id must be 0 or a positive list ID")


def validate_locations(locations: list[Any]) -> None:
    if not locations:
        raise UsageError("Choose at least one connection area")
    for code in locations:
        if not isinstance(code, str) or code not in areas.AREA_BY_CODE:
            hint = ""
            if isinstance(code, str) and code.rsplit("-", 1)[0] in areas.AREA_BY_CODE:
                hint = " (write areas without -0/-1; use panel_locations or --no-panel)"
            near = suggest.did_you_mean(code) if isinstance(code, str) else ""
            raise UsageError(f"Unknown connection area {code!r}{hint};"
                             + (near or f" known areas: {', '.join(areas.AREA_CODES)}"))
    seen = set()
    for code in locations:
        if code in seen:
            raise UsageError(f"Connection area {code!r} is listed twice")
        seen.add(code)
        needs = areas.AREA_BY_CODE[code].requires_any
        if needs and not set(needs) & set(locations):
            raise UsageError(f"{code} needs a card area too: add one of {', '.join(needs)}")


def validate_panel(panel: list[Any], locations: list[str] | None) -> None:
    for code in panel:
        if code not in areas.AREA_BY_CODE:
            near = suggest.did_you_mean(code) if isinstance(code, str) else ""
            raise UsageError(f"Unknown connection area {code!r} in panel_locations"
                             + (f";{near}" if near else ""))
        if not areas.AREA_BY_CODE[code].takes_panel_flag:
            raise UsageError(f"{code} does not take a panel flag: only card and list areas "
                             f"({', '.join(areas.PANEL_AREAS)}) do")
        if locations is not None and code not in locations:
            raise UsageError(f"panel_locations lists {code}, which is not among the chosen "
                             "connection areas")


def validate_settings_fields(fields: Any, locations: list[str] | None) -> None:
    if not isinstance(fields, list):
        raise UsageError("settings_fields must be a list such as "
                         "[{code: login, name: Login, type: text, required: true}]")
    codes: set[str] = set()
    custom = 0
    for field in fields:
        if not isinstance(field, dict):
            raise UsageError("Each settings field must be a mapping with code, type and required")
        code = str(field.get("code", ""))
        if not FIELD_CODE_RE.fullmatch(code):
            raise UsageError(f"Settings field code {code!r} must be lower-case Latin letters, "
                             "digits and _")
        if code in codes:
            raise UsageError(f"Settings field {code!r} is listed twice")
        codes.add(code)
        kind = field.get("type", "text")
        if kind not in areas.SETTINGS_FIELD_TYPES:
            raise UsageError(f"Settings field {code!r} has unknown type {kind!r}; use "
                             f"{', '.join(areas.SETTINGS_FIELD_TYPES)}")
        if "required" in field and not isinstance(field["required"], bool):
            raise UsageError(f"Settings field {code!r}: required must be true or false")
        if kind == "custom":
            custom += 1
            if locations is not None and "settings" not in locations:
                raise UsageError(f"The custom settings field {code!r} needs the settings area")
    if custom > 1:
        raise UsageError("At most one custom settings field is allowed")


def read_project_answers(project: Path) -> dict[str, Any]:
    """The answers recorded in a generated project."""
    path = project / ANSWERS_FILE
    if not path.is_file():
        raise ScaffoldError(f"{project} is not a kommo-scaffold project (no {ANSWERS_FILE}); "
                            "run the command inside a project made by kommo-new, or use -C PATH")
    try:
        data = _yaml().safe_load(path.read_text("utf-8"))
    except Exception as error:
        raise UsageError(f"{path} is not valid YAML; restore it from git") from error
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not a mapping of answers; restore it from git")
    return data


def derived_endpoints(recorded: dict[str, Any]) -> list[str]:
    """Endpoint answers that hold the route backend_url gives them (as kommo-scaffold 0.1.0
    recorded them): derived, not chosen. Refused as answers; the template's validators
    drop such recorded ones on update."""
    raw = str(recorded.get("backend_url") or "")
    return [key for key, route in DERIVED_ENDPOINTS.items()
            if recorded.get(key) and str(recorded[key]) in (raw + route, raw.rstrip("/") + route)]


def check_recorded(recorded: dict[str, Any]) -> None:
    """The answers file holds what kommo-new wrote: the right types, valid values."""
    restore = f"restore it from git (git checkout HEAD -- {ANSWERS_FILE})"
    for key in ("_commit", "_src_path"):
        if key in recorded and not isinstance(recorded[key], str):
            raise ScaffoldError(f"{ANSWERS_FILE}: {key} must be text, not "
                                f"{type(recorded[key]).__name__} {recorded[key]!r}; {restore}")
    given = {k: v for k, v in recorded.items() if isinstance(k, str) and not k.startswith("_")}
    given.update(dict.fromkeys(derived_endpoints(given), ""))
    try:
        validate(given)
    except UsageError as error:
        raise ScaffoldError(f"{ANSWERS_FILE}: {error}; {restore}") from error
