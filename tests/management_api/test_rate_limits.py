"""Limits on the management API: per key for valid calls, per address for the rest; 429 and Retry-After.

Each test runs on the cache a single node has (Django's local memory) and on the Redis several
nodes share (portal/cache.py), where a call is counted in one round trip."""

import pytest
from django.test import Client

from portal.cache import RedisCacheClient
from tests.management_api.conftest import ApiClient
from tests.shared_redis import REDIS, own_cache_prefix


@pytest.fixture(params=["locmem", "redis"], autouse=True)
def limits_cache(request, settings):
    if request.param == "locmem":
        yield request.param
        return
    with own_cache_prefix("test-limits") as (_, prefix):
        settings.CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": REDIS, "KEY_PREFIX": prefix}}
        yield request.param


KEY_MESSAGE = "Too many calls with this API key; try again later."
ADDRESS_MESSAGE = "Too many calls without a valid API key and token from this address; try again later."


@pytest.fixture
def stranger(db) -> ApiClient:
    """Someone at another address who saw the sandbox key in a URL, but has no token."""
    return ApiClient(Client(REMOTE_ADDR="203.0.113.66"))


def assert_limited(response, message: str) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json() == {"message": message, "reference_id": "1.1.429"}


def test_an_api_key_past_its_limit_gets_429_and_the_other_key_does_not(api, settings):
    settings.API_RATE_LIMIT = "3/h"
    for _ in range(3):
        assert api.call("GET", "/webhooks", environment="sandbox").status_code == 200
    assert_limited(api.call("GET", "/webhooks", environment="sandbox"), KEY_MESSAGE)
    assert api.call("GET", "/webhooks", environment="production").status_code == 200


def test_calls_with_a_wrong_token_never_spend_the_keys_budget(api, stranger, settings):
    settings.API_RATE_LIMIT = "3/h"
    settings.API_UNAUTHENTICATED_RATE_LIMIT = "100/h"
    for _ in range(10):
        assert stranger.call("GET", "/webhooks", token="a-guessed-token").status_code == 401
    # The real caller still has its whole budget.
    for _ in range(3):
        assert api.call("GET", "/webhooks").status_code == 200
    assert_limited(api.call("GET", "/webhooks"), KEY_MESSAGE)


def test_wrong_credentials_from_one_address_get_429_and_nobody_else_does(api, stranger, settings):
    settings.API_UNAUTHENTICATED_RATE_LIMIT = "3/h"
    guesses = [{"token": "a-guessed-token"}, {"key": "a-guessed-key"}, {"token": "another-guess"}]
    for guess in guesses:
        assert stranger.call("GET", "/webhooks", **guess).status_code == 401
    assert_limited(stranger.call("GET", "/webhooks", token="one-guess-too-many"), ADDRESS_MESSAGE)
    # Nor may that address try the real token any more: its guesses are over for now.
    assert_limited(stranger.call("GET", "/webhooks", key="a-guessed-key"), ADDRESS_MESSAGE)
    # Another address with a wrong token is counted apart, and the real caller by its key.
    assert api.call("GET", "/webhooks", token="a-typo").status_code == 401
    assert api.call("GET", "/webhooks").status_code == 200


def test_a_valid_key_and_token_from_a_limited_address_still_get_through(stranger, settings):
    """Someone sharing the real caller's address (a NAT) cannot lock it out with wrong tokens."""
    settings.API_UNAUTHENTICATED_RATE_LIMIT = "2/h"
    for _ in range(3):
        stranger.call("GET", "/webhooks", token="a-guessed-token")
    assert stranger.call("GET", "/webhooks", token="a-guessed-token").status_code == 429
    assert stranger.call("GET", "/webhooks").status_code == 200


@pytest.mark.parametrize("limits_cache", ["redis"], indirect=True)
def test_on_redis_a_call_is_one_round_trip(api, settings, monkeypatch):
    settings.API_RATE_LIMIT = "5/h"
    used: list[str] = []

    def noted(name: str):
        method = getattr(RedisCacheClient, name)

        def call(self, *args, **kwargs):
            used.append(name)
            return method(self, *args, **kwargs)

        return call

    for name in ("add", "incr", "get", "count_call"):
        monkeypatch.setattr(RedisCacheClient, name, noted(name))
    for _ in range(3):
        assert api.call("GET", "/webhooks").status_code == 200
    assert used == ["count_call"] * 3
    assert api.call("GET", "/webhooks").status_code == 200
    assert api.call("GET", "/webhooks").status_code == 200
    limited = api.call("GET", "/webhooks")
    assert_limited(limited, KEY_MESSAGE)
    assert int(limited["Retry-After"]) <= 3600  # the end of the hour's window
    assert used == ["count_call"] * 6
    # A rate with a number of units (django-ratelimit's "5/10m") is read the same way.
    settings.API_RATE_LIMIT = "1/10m"
    assert api.call("GET", "/webhooks", environment="production").status_code == 200
    assert_limited(api.call("GET", "/webhooks", environment="production"), KEY_MESSAGE)
    assert used == ["count_call"] * 8
