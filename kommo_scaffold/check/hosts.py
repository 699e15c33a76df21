"""Hosts a widget must not depend on once uploaded: one list for every rule that needs it.

Development hosts: this machine, private networks, and the tunnel and preview services
developers use while building a widget. Users' browsers and Kommo's servers cannot reach the
first two, and the others live only while the developer's laptop or preview build does.
Placeholder hosts: the names reserved for documentation (RFC 2606 and RFC 6761).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# Tunnel and preview services: a URL here is a developer's session, not a server.
TUNNEL_SUFFIXES = (
    "ngrok.io", "ngrok.app", "ngrok.dev", "ngrok-free.app", "ngrok-free.dev", "ngrok.pizza",
    "zrok.io", "trycloudflare.com", "loca.lt", "localtunnel.me", "localhost.run", "lhr.life",
    "lhr.rocks", "serveo.net", "serveousercontent.com", "pagekite.me", "tunnelmole.net",
    "devtunnels.ms", "app.github.dev", "githubpreview.dev", "gitpod.io", "csb.app",
    "now.sh", "vercel.app",
)
# Names of this machine (loopback); `kommo dev` answers only to these and loopback addresses.
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
PLACEHOLDER_SUFFIXES = ("example.com", "example.org", "example.net", "example", "test",
                        "invalid")

# `//host`: a literal prefix, so the regex engine scans for it fast; what precedes it (a
# scheme, or a quote for a protocol-relative URL) is checked after.
_AUTHORITY = re.compile(rb"//([^\s/'\"`?#\\]+)")
_SCHEME_BEFORE = re.compile(rb"(?i)(?:\b(?:https?|wss?):|['\"`])\Z")


def host_of(url: str) -> str:
    """The host of ``url`` (lower case, no port, IPv6 without brackets), or ''."""
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _ends_with(host: str, suffixes: tuple[str, ...]) -> bool:
    return any(host == s or host.endswith("." + s) for s in suffixes)


def unreachable(host: str) -> str | None:
    """Why Kommo's servers and users' browsers cannot reach ``host`` (None if they can)."""
    host = host.lower()
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES):
        return "this machine or a local network"
    address = _ip(host)
    if address is not None:
        if address.is_loopback:
            return "a loopback address"
        if address.is_unspecified:
            return "an unspecified address"
        if address.is_private or address.is_link_local or address.is_reserved:
            return "a private address"
    return None


def loopback(host: str) -> bool:
    """This machine itself: a loopback name or a loopback address (not the LAN)."""
    host = host.lower().rstrip(".")
    if host in LOCAL_NAMES:
        return True
    address = _ip(host)
    return address is not None and address.is_loopback


def tunnel(host: str) -> bool:
    return _ends_with(host.lower(), TUNNEL_SUFFIXES)


def dev_host(host: str) -> bool:
    """A development host: local, private, or a tunnel/preview service."""
    return bool(host) and (unreachable(host) is not None or tunnel(host))


def placeholder(host: str) -> bool:
    return bool(host) and _ends_with(host.lower(), PLACEHOLDER_SUFFIXES)


def urls_in(data: bytes) -> list[tuple[re.Match[bytes], str]]:
    """(match, host) for every http(s)/ws(s) URL in ``data`` (any text, raw bytes)."""
    found = []
    for match in _AUTHORITY.finditer(data):
        if not _SCHEME_BEFORE.search(data, max(0, match.start() - 6), match.start()):
            continue
        authority = match.group(1).decode("utf-8", "replace")
        host = host_of("http://" + authority)
        if host:
            found.append((match, host))
    return found
