"""The management API client against a real upstream on 127.0.0.1 that misbehaves on purpose."""

import json
import socket
import time

import pytest
from werkzeug import Request, Response

from webhooks_app.client import ManagementApi, ManagementApiError

API = "/autoql/management/api/v1/notifications"


@pytest.fixture
def upstream(httpserver, settings):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    settings.AUTOQL_SANDBOX_API_KEY = "sandbox-key"
    settings.AUTOQL_PRODUCTION_API_KEY = "production-key"
    settings.AUTOQL_TOKEN = "the-token"
    return httpserver


def envelope(data):
    return {"data": data, "message": "Success", "reference_id": "1.1.200"}


def test_it_sends_the_environments_key_and_the_bearer_token(upstream):
    upstream.expect_request(
        f"{API}/webhooks/production/logs",
        method="GET",
        query_string={"key": "production-key", "offset": "20", "limit": "10"},
        headers={"Authorization": "Bearer the-token"},
    ).respond_with_json(envelope({"items": [], "pagination": {"offset": 20, "limit": 10, "total_items": 0}}))
    assert ManagementApi().logs("production", offset=20, limit=10)["pagination"]["offset"] == 20


def test_it_sends_the_url_as_json(upstream):
    upstream.expect_request(
        f"{API}/webhooks/sandbox",
        method="PUT",
        json={"url": "https://a.example.com/"},
        query_string={"key": "sandbox-key"},
    ).respond_with_json(envelope({"url": "x"}), status=201)
    assert ManagementApi().put_webhook("sandbox", "https://a.example.com/") == {"url": "x"}


def test_an_upstream_that_is_down(settings, closed_port):
    port = closed_port
    settings.AUTOQL_DOMAIN = f"http://127.0.0.1:{port}"
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().get_webhook("sandbox")
    assert str(caught.value) == "The management API could not be reached."
    assert caught.value.cause == "unreachable"
    assert caught.value.detail == (
        f"GET {API}/webhooks with the sandbox key: the connection to http://127.0.0.1:{port} (AUTOQL_DOMAIN) "
        "failed. Check AUTOQL_DOMAIN and that the service is up."
    )


def test_refused_credentials(upstream):
    upstream.expect_request(f"{API}/webhooks").respond_with_json(
        {"message": "The API key or the token is not valid.", "reference_id": "1.1.401"}, status=401
    )
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().get_webhook("sandbox")
    assert caught.value.status == 401
    assert str(caught.value) == "The management API did not accept the portal's credentials."
    assert caught.value.cause == "credentials"
    assert (
        caught.value.detail
        == f"GET {API}/webhooks with the sandbox key: 401. Check AUTOQL_TOKEN and AUTOQL_SANDBOX_API_KEY."
    )
    assert "sandbox-key" not in caught.value.detail and "the-token" not in caught.value.detail


def test_a_key_of_the_wrong_environment(upstream):
    upstream.expect_request(f"{API}/webhooks/production").respond_with_json(
        {"message": "This is the sandbox API key.", "reference_id": "1.1.403"}, status=403
    )
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().delete_webhook("production")
    assert str(caught.value) == "The management API says the production API key belongs to another environment."
    assert caught.value.detail.endswith("403 (This is the sandbox API key.). Check AUTOQL_PRODUCTION_API_KEY.")


def test_an_upstream_failure(upstream):
    upstream.expect_request(f"{API}/webhooks").respond_with_json(
        {"message": "boom", "reference_id": "1.1.500"}, status=500
    )
    with pytest.raises(ManagementApiError, match=r"The management API failed \(500\); try again in a moment."):
        ManagementApi().get_webhook("sandbox")


def test_a_slow_upstream_times_out(upstream, settings):
    settings.AUTOQL_API_TIMEOUT = 0.5

    def answer_late(request: Request) -> Response:
        time.sleep(1.5)
        return Response(json.dumps(envelope({"items": []})))

    upstream.expect_request(f"{API}/webhooks").respond_with_handler(answer_late)
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().get_webhook("sandbox")
    assert str(caught.value) == "The management API did not answer in 0.5 s."
    assert caught.value.cause == "timeout" and "AUTOQL_API_TIMEOUT" in caught.value.detail


def test_an_answer_that_is_not_json(upstream):
    upstream.expect_request(f"{API}/webhooks").respond_with_data(
        "<html>proxy error</html>", status=200, content_type="text/html"
    )
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().get_webhook("sandbox")
    assert str(caught.value) == "The management API answered with something the portal does not understand."
    assert caught.value.detail == (
        f"GET {API}/webhooks with the sandbox key: 200, not JSON. "
        "Check that AUTOQL_DOMAIN points at an AutoQL management API."
    )


def test_field_errors_are_kept_for_the_form(upstream):
    upstream.expect_request(f"{API}/webhooks/sandbox").respond_with_json(
        {"message": "url: no", "reference_id": "1.1.400", "errors": {"url": ["The URL has no host name."]}}, status=400
    )
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().put_webhook("sandbox", "https://")
    assert caught.value.field_errors == {"url": ["The URL has no host name."]}


def test_the_embedded_mode_never_opens_a_socket(manager_client, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the embedded API was called over the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    response = manager_client.post("/webhooks/sandbox/generate", {"url": "https://a.example.com/"})
    assert response.status_code == 200 and "Your new secret key" in response.content.decode()
