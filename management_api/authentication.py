"""The embedded API's credentials check: the `key` query parameter and the bearer token.

One check for the API's authentication (api.KeyAndToken) and its rate limit
(middleware.ApiRateLimitMiddleware), so that a call is counted against a key's budget exactly
when the API would accept it.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest

from portal.credentials import api_keys


def bearer_token(request: HttpRequest) -> str:
    """The token of `Authorization: Bearer <token>`; empty for any other header or none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def environments_of(key: str, token: str) -> list[str]:
    """The environments `key` is the API key of, provided `token` is the API's token; else none."""
    token_ok = hmac.compare_digest(token.encode(), settings.AUTOQL_TOKEN.encode())
    # Compare with every key, always, so the time taken says nothing about which matched.
    matches = [env for env, k in api_keys().items() if hmac.compare_digest(key.encode(), k.encode()) and k]
    return matches if token_ok else []
