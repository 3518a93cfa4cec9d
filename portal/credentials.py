"""The credentials of the two environments, read from the settings in one place.

Here, at the project level, because both sides need the same map: the portal's client sends the
environment's key, and the embedded API checks it. The portal never imports management_api, and
the API should not depend on the portal's app, so neither app is the right home.
"""

from django.conf import settings

ENVIRONMENTS = ("sandbox", "production")


def api_keys() -> dict[str, str]:
    """Each environment's configured API key (the `key` query parameter of every call)."""
    return {
        "sandbox": settings.AUTOQL_SANDBOX_API_KEY,
        "production": settings.AUTOQL_PRODUCTION_API_KEY,
    }
