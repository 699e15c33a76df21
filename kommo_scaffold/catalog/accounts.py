"""Where Kommo accounts live: ``https://<subdomain>.<domain>`` for each of these domains.

Kommo and amoCRM are one platform under two brands (https://developers.kommo.com/docs,
https://www.amocrm.ru/developers/content/oauth/step-by-step): an account's API, OAuth and
pages are at its subdomain of one of them.
"""

from __future__ import annotations

import re

ACCOUNT_DOMAINS = ("kommo.com", "amocrm.ru", "amocrm.com")
# A subdomain is one DNS label.
SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def is_account_host(host: str) -> bool:
    """True for ``<subdomain>.kommo.com`` and amoCRM's equivalents."""
    label, _, domain = host.lower().partition(".")
    return domain in ACCOUNT_DOMAINS and SUBDOMAIN.fullmatch(label) is not None
