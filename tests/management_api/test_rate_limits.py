"""Per-key limits on the management API: 429, Retry-After and the API's error body."""

from django.core.cache import cache


def assert_limited(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["reference_id"] == "1.1.429"
    assert response.json()["message"]


def test_an_api_key_past_its_limit_gets_429_and_the_other_key_does_not(api, settings):
    settings.API_RATE_LIMIT = "3/h"
    for _ in range(3):
        assert api.call("GET", "/webhooks", environment="sandbox").status_code == 200
    limited = api.call("GET", "/webhooks", environment="sandbox")
    assert_limited(limited)
    assert limited.json()["message"] == "Too many calls with this API key; try again later."
    assert api.call("GET", "/webhooks", environment="production").status_code == 200


def test_the_cache_never_holds_the_api_key(api, settings):
    settings.API_RATE_LIMIT = "3/h"
    api.call("GET", "/webhooks", environment="sandbox")
    stored = " ".join(str(k) for k in cache._cache)  # LocMemCache, the default
    assert settings.AUTOQL_SANDBOX_API_KEY not in stored
