"""The project's own back end, as far as the widget's manifest depends on it (KS219).

Only a kommo-new project carries the back end beside its widget; a widget folder or a zip is
judged without it. The back end reads its settings from the environment first and then from
``backend/.env`` (git-ignored): the checker sees only that file, so it speaks of what the file
says and names the file.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from kommo_scaffold.check import hosts
from kommo_scaffold.check.context import Context, as_dict
from kommo_scaffold.check.registry import by_answer, rule

KS219 = rule(
    "KS219", "warning", "Digital pipeline webhook open to anyone",
    "Kommo signs no digital pipeline webhook, so whoever knows dp.webhook_url can post "
    "events to the back end's /dp route. The generated back end keeps strangers out only "
    "with KOMMO_DP_SECRET: a secret that the URL must carry, as /dp/<secret> or ?key=<secret>. "
    "With the secret empty (the default) every request is accepted; with the secret set but "
    "missing from the URL, or different there, the back end refuses Kommo's own events (403).",
    "Put a long random value in backend/.env (KOMMO_DP_SECRET=..., for example from "
    "`php -r 'echo bin2hex(random_bytes(16));'`) and on the server, then "
    + by_answer("dp_webhook_url=https://example.com/my_widget/dp/<secret>") + ".",
    example='backend/.env: KOMMO_DP_SECRET=   and   "dp": { "webhook_url": '
            '"https://example.com/w/dp" }')

SECRET_NAME = "KOMMO_DP_SECRET"


def dotenv_value(path: Path, name: str) -> str | None:
    """``name``'s value in a .env file as the generated back end reads it (App::loadDotenv:
    ``[export ]NAME=value``, one pair of matching quotes stripped), '' when the file does not
    set it, None when there is no such file."""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return None
    value = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = (part.strip() for part in line.partition("="))
        key = key.removeprefix("export").strip() if key.startswith("export ") else key
        if key != name:
            continue
        if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
            raw = raw[1:-1]
        value = raw
    return value


def url_secret(url: str) -> tuple[str, bool]:
    """The secret a /dp URL carries and whether it is the path segment (/dp/<secret>, which
    the back end reads first) rather than ?key=<secret>; ('', False) for none."""
    parts = urlsplit(url.strip())
    _, slash_dp, tail = parts.path.rstrip("/").rpartition("/dp/")
    if slash_dp and tail and "/" not in tail:
        return tail, True
    return parse_qs(parts.query).get("key", [""])[0], False


def check_backend(ctx: Context) -> None:
    widget = ctx.widget
    if widget.kind != "widget project":
        return
    backend = widget.project / "backend"
    if not (backend / "src" / "Dp.php").is_file():
        return
    url = as_dict((ctx.manifest or {}).get("dp")).get("webhook_url")
    if not isinstance(url, str) or not url.strip():
        return  # KS212 says the key is missing
    host = hosts.host_of(url)
    if not host or hosts.placeholder(host) or hosts.dev_host(host):
        return  # not deployed yet: KS114 speaks of the URL itself
    carried, in_path = url_secret(url)
    configured = dotenv_value(backend / ".env", SECRET_NAME)
    open_to_all = "/dp accepts events from anyone who knows the URL"
    if not carried:
        problem = {
            None: f"there is no backend/.env; unless the server sets {SECRET_NAME}, "
                  + open_to_all,
            "": f"{SECRET_NAME} is empty in backend/.env, so " + open_to_all,
        }.get(configured, f"{SECRET_NAME} is set in backend/.env, so the back end refuses "
                          "Kommo's events (403)")
        message = f"dp.webhook_url carries no secret and {problem}"
    elif configured == "":
        message = (f"dp.webhook_url carries a secret but {SECRET_NAME} is empty in "
                   "backend/.env, so " + ("/dp answers 404 and accepts no event" if in_path
                                         else open_to_all))
    elif configured is not None and carried != configured:
        message = (f"the secret in dp.webhook_url differs from {SECRET_NAME} in backend/.env, "
                   "so the back end refuses Kommo's events (403)")
    else:
        return
    ctx.add(KS219, message, "manifest.json", path="dp.webhook_url")
