"""Authentication rules shared by every call: 401, then 404 for an unknown environment, then 403."""

import pytest

from management_api.models import Webhook

CALLS = [
    ("GET", "/webhooks"),
    ("PUT", "/webhooks/sandbox"),
    ("PUT", "/webhooks/sandbox/secret"),
    ("DELETE", "/webhooks/sandbox"),
    ("POST", "/webhooks/sandbox/test"),
    ("GET", "/webhooks/sandbox/logs"),
    # This implementation's extensions of the logs
    ("GET", "/webhooks/sandbox/logs/export"),
    ("GET", "/webhooks/sandbox/deliveries/00000000-0000-4000-8000-000000000000"),
    ("GET", "/webhooks/sandbox/recover"),
    ("POST", "/webhooks/sandbox/recover"),
    ("GET", "/webhooks/sandbox/stats"),
]


@pytest.mark.parametrize("method,path", CALLS)
def test_it_requires_the_key(api, method, path):
    response = api.call(method, path, {"url": "https://a.example.com"}, key="")
    assert response.status_code == 401
    assert response.json() == {"message": "Add your API key as the 'key' query parameter.", "reference_id": "1.1.401"}


@pytest.mark.parametrize("method,path", CALLS)
def test_it_rejects_an_unknown_key(api, method, path):
    response = api.call(method, path, {"url": "https://a.example.com"}, key="not-a-key")
    assert response.status_code == 401
    assert response.json()["reference_id"] == "1.1.401"
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("method,path", CALLS)
def test_it_requires_the_bearer_token(api, method, path):
    response = api.call(method, path, {"url": "https://a.example.com"}, token="")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["message"]


@pytest.mark.parametrize("method,path", CALLS)
def test_it_rejects_a_wrong_token(api, method, path):
    response = api.call(method, path, {"url": "https://a.example.com"}, token="wrong")
    assert response.status_code == 401
    assert not Webhook.objects.exists()


def test_it_rejects_a_basic_authorization_header(api, client, settings):
    response = client.get(
        f"/autoql/management/api/v1/notifications/webhooks?key={settings.AUTOQL_SANDBOX_API_KEY}",
        HTTP_AUTHORIZATION=f"Basic {settings.AUTOQL_TOKEN}",
    )
    assert response.status_code == 401


@pytest.mark.parametrize("method,path", [c for c in CALLS if "sandbox" in c[1]])
def test_it_rejects_a_sandbox_key_on_a_production_path(api, method, path):
    response = api.call(
        method, path.replace("sandbox", "production"), {"url": "https://a.example.com"}, environment="sandbox"
    )
    assert response.status_code == 403
    body = response.json()
    assert body["reference_id"] == "1.1.403"
    assert "sandbox" in body["message"] and "production" in body["message"]
    assert not Webhook.objects.exists()


def test_it_rejects_a_production_key_on_a_sandbox_path(api):
    response = api.call("PUT", "/webhooks/sandbox", {"url": "https://a.example.com"}, environment="production")
    assert response.status_code == 403


@pytest.mark.parametrize("environment", ["staging", "Sandbox", "prod", "sandbox2"])
def test_it_answers_404_for_an_unknown_environment(api, environment):
    response = api.call("PUT", f"/webhooks/{environment}", {"url": "https://a.example.com"})
    assert response.status_code == 404
    assert response.json()["reference_id"] == "1.1.404"
    assert environment in response.json()["message"]
    assert not Webhook.objects.exists()


def test_it_checks_credentials_before_the_body(api):
    response = api.call("PUT", "/webhooks/sandbox", raw=b"{not json", token="wrong")
    assert response.status_code == 401


def test_it_follows_changed_credentials(api, settings):
    settings.AUTOQL_SANDBOX_API_KEY = "rotated-key"
    assert api.call("GET", "/webhooks", key="rotated-key").status_code == 200
    assert api.call("GET", "/webhooks", key="").status_code == 401


def test_a_wrong_method_gets_the_error_body(api):
    response = api.call("POST", "/webhooks")
    assert response.status_code == 405
    assert response.json() == {"message": "This path does not take that HTTP method.", "reference_id": "1.1.405"}


def test_an_unknown_path_gets_the_error_body(api):
    response = api.call("GET", "/webhooks/sandbox/nothing-here")
    assert response.status_code == 404
    assert response.json()["reference_id"] == "1.1.404"


def test_a_disallowed_host_still_gets_the_error_body(client, db):
    response = client.get("/autoql/management/api/v1/notifications/webhooks", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert response.json()["reference_id"] == "1.1.400"
