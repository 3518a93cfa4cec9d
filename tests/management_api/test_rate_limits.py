"""Per-key limits on the management API and per-user limits on Test Connection: 429 and Retry-After."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.test import Client

from management_api.models import Webhook


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


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


def manager_client(name: str) -> Client:
    user = User.objects.create_user(name, password="pass-for-" + name)
    user.user_permissions.add(Permission.objects.get(codename="manage_webhooks"))
    client = Client()
    client.force_login(user)
    return client


def test_a_user_past_the_test_connection_limit_gets_429_and_another_user_does_not(db, settings, allow_loopback):
    settings.TEST_CONNECTION_RATE_LIMIT = "2/h"
    Webhook.objects.create(environment="sandbox", url="http://127.0.0.1:9/hook", secret="s" * 43)
    maria, tom = manager_client("maria"), manager_client("tom")
    for _ in range(2):
        assert maria.post("/webhooks/sandbox/test", HTTP_HX_REQUEST="true").status_code == 200
    limited = maria.post("/webhooks/sandbox/test", HTTP_HX_REQUEST="true")
    assert_limited(limited)
    assert tom.post("/webhooks/sandbox/test", HTTP_HX_REQUEST="true").status_code == 200
