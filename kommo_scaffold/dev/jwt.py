"""A one-time JWT like the one Kommo adds to ``$authorizedAjax`` requests (HS256).

Kommo signs it with the integration's secret; the preview signs it with ``jwt_secret`` from
``.kommo/dev-settings.json``, so a back end configured with that secret accepts it locally.
Claims follow Kommo's one-time tokens page: iss, aud, jti, iat, nbf, exp, account_id,
user_id, subdomain, client_uuid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

DEV_ACCOUNT_ID = 1000001
DEV_USER_ID = 2000001
DEV_SUBDOMAIN = "preview"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def dev_token(secret: str, client_uuid: str, audience: str = "",
              now: float | None = None, lifetime: int = 60) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": f"https://{DEV_SUBDOMAIN}.kommo.com", "aud": audience or "http://localhost",
        "jti": str(uuid.uuid4()), "iat": issued, "nbf": issued, "exp": issued + lifetime,
        "account_id": DEV_ACCOUNT_ID, "user_id": DEV_USER_ID, "subdomain": DEV_SUBDOMAIN,
        "client_uuid": client_uuid,
    }
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(signature.digest())}"
