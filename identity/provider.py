"""The portal's one HTTP client towards the OpenID Connect provider that it calls itself: discovery.

The token, key and userinfo calls are mozilla-django-oidc's (identity/oidc.py), with the same
timeout. Discovery happens at first use, not when settings load, and is kept for an hour.
"""

import logging
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from identity.refusals import ProviderUnavailable

logger = logging.getLogger(__name__)

# https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_CACHE_SECONDS = 3600
REQUIRED_FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")

UNREACHABLE = (
    "The sign-in service could not be reached, so you cannot sign in with it right now. "
    "Try again in a few minutes; if it keeps happening, tell an administrator."
)


def _cache_key() -> str:
    return f"identity:oidc-discovery:{settings.OIDC_ISSUER}"


def provider_configuration() -> dict[str, Any]:
    """The issuer's discovery document; ProviderUnavailable when it cannot be had."""
    document = cache.get(_cache_key())
    if document is None:
        document = _discover(settings.OIDC_ISSUER)
        cache.set(_cache_key(), document, DISCOVERY_CACHE_SECONDS)
    return document


def _discover(issuer: str) -> dict[str, Any]:
    url = issuer + DISCOVERY_PATH
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as e:
        logger.warning("OpenID Connect discovery at %s failed: %s", url, e)
        raise ProviderUnavailable(UNREACHABLE, f"the discovery document at {url} could not be read ({e})")
    missing = [field for field in REQUIRED_FIELDS if not isinstance(document, dict) or not document.get(field)]
    if missing:
        logger.warning("OpenID Connect discovery at %s lacks %s", url, ", ".join(missing))
        raise ProviderUnavailable(UNREACHABLE, f"the discovery document at {url} lacks {', '.join(missing)}")
    # The spec requires the document's issuer to be exactly the one asked for (a mix-up otherwise).
    if document["issuer"].rstrip("/") != issuer:
        logger.warning("OpenID Connect discovery at %s names another issuer: %s", url, document["issuer"])
        raise ProviderUnavailable(UNREACHABLE, f"the discovery document at {url} names another issuer")
    return document
