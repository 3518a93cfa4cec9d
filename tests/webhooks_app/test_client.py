"""The management API client against a real upstream on 127.0.0.1 that misbehaves on purpose."""

import json
import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from management_api.models import Delivery, Webhook, WebhookLog
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


# The logs extensions: against a plain AutoQL, and against the embedded API.

PLAIN_AUTOQL_PAGE = {"items": [], "pagination": {"offset": 0, "limit": 1, "total_items": 0}}


def test_a_plain_autoql_advertises_no_log_filters(upstream):
    upstream.expect_request(
        f"{API}/webhooks/sandbox/logs", query_string={"key": "sandbox-key", "offset": "0", "limit": "1"}
    ).respond_with_json(envelope(PLAIN_AUTOQL_PAGE))
    assert ManagementApi().log_filters_supported("sandbox") == frozenset()


def test_an_export_error_from_the_upstream_keeps_its_sentence(upstream):
    upstream.expect_request(f"{API}/webhooks/sandbox/logs/export").respond_with_json(
        {"message": "status: use 'success' or 'failure'", "reference_id": "1.1.400", "errors": {"status": ["x"]}},
        status=400,
    )
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().export_logs("sandbox", "csv", {"status": "ok"})
    assert (str(caught.value), caught.value.status) == ("status: use 'success' or 'failure'", 400)
    assert caught.value.field_errors == {"status": ["x"]}


def test_an_export_from_the_upstream_is_read_as_it_comes(upstream):
    upstream.expect_request(
        f"{API}/webhooks/sandbox/logs/export", query_string={"key": "sandbox-key", "type": "test", "format": "jsonl"}
    ).respond_with_data(
        '{"id": "1"}\n',
        content_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="webhook-logs-sandbox-x.jsonl"'},
    )
    exported = ManagementApi().export_logs("sandbox", "jsonl", {"type": "test"})
    assert (exported.filename, exported.content_type) == ("webhook-logs-sandbox-x.jsonl", "application/x-ndjson")
    assert b"".join(exported.chunks) == b'{"id": "1"}\n'


def embedded_log(**fields) -> WebhookLog:
    values = {
        "environment": "sandbox",
        "type": "data_alert",
        "event": "data_alert.true",
        "status": "failure",
        "url": "https://hooks.example.com/",
        **fields,
    }
    return WebhookLog.objects.create(**values)


@pytest.mark.django_db
def test_the_embedded_api_advertises_and_applies_its_filters():
    embedded_log(project_id="a")
    embedded_log(project_id="b", status="success")
    api = ManagementApi()
    assert api.log_filters_supported("sandbox") == {
        "status",
        "type",
        "event",
        "project_id",
        "delivery_id",
        "created_after",
        "created_before",
    }
    page = api.filtered_logs("sandbox", 0, 10, {"status": "success"})
    assert [row["project_id"] for row in page["items"]] == ["b"]
    with pytest.raises(ManagementApiError) as caught:
        api.filtered_logs("sandbox", 0, 10, {"status": "ok"})
    assert (caught.value.status, str(caught.value)) == (400, "status: use 'success' or 'failure'")


@pytest.mark.django_db
def test_the_embedded_delivery_timeline_recover_and_stats():
    Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/", secret="s")
    failed = Delivery.objects.create(
        environment="sandbox", type="data_alert", event="data_alert.true", state="failed", attempts=5
    )
    embedded_log(delivery_id=failed.id, created_at=timezone.now())
    api = ManagementApi()

    assert api.delivery("sandbox", str(failed.id))["state_text"] == "Given up after 5 attempts."
    with pytest.raises(ManagementApiError) as caught:
        api.delivery("sandbox", "not/a/uuid")
    assert caught.value.status == 404
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert api.recoverable_count("sandbox", since) == 1
    assert api.recover("sandbox", since) == 1
    assert api.recoverable_count("sandbox", since) == 0
    stats = api.stats("sandbox", "24h")
    assert (stats["attempts"], stats["failures"], len(stats["buckets"])) == (1, 1, 24)


@pytest.mark.django_db
def test_the_embedded_export_streams_every_row():
    for i in range(1500):
        embedded_log(project_id=f"p{i}")
    exported = ManagementApi().export_logs("sandbox", "csv", {"status": "failure"})
    assert exported.filename.startswith("webhook-logs-sandbox-") and exported.filename.endswith(".csv")
    assert exported.content_type == "text/csv; charset=utf-8"
    chunks = list(exported.chunks)
    assert len(chunks) > 1
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 1501
    assert lines[1].split(",")[5] == "p1499"


@pytest.mark.parametrize("status", [400, 403, 404])
def test_an_upstream_that_echoes_the_credentials_never_gets_them_into_the_sentence(upstream, status):
    upstream.expect_request(f"{API}/webhooks").respond_with_json(
        {"message": "Bad key sandbox-key with token the-token", "reference_id": f"1.1.{status}"}, status=status
    )
    with pytest.raises(ManagementApiError) as caught:
        ManagementApi().get_webhook("sandbox")
    for text in (str(caught.value), caught.value.detail):
        assert "sandbox-key" not in text and "the-token" not in text
