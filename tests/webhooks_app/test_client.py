"""The management API client against a real upstream on 127.0.0.1 that misbehaves on purpose."""

import gzip
import json
import socket
import time
import tracemalloc
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from werkzeug import Request, Response

from management_api.models import Delivery, Webhook, WebhookLog
from tests.hostile import Sent, answer, gzip_bomb, stream_counted, trickle
from tests.webhooks_app.conftest import UPSTREAM_WEBHOOK as WEBHOOK
from tests.webhooks_app.conftest import envelope, json_answer, upstream_answer
from webhooks_app.client import CHECK_DOMAIN, UNEXPECTED, ManagementApi, ManagementApiError

API = "/autoql/management/api/v1/notifications"


@pytest.fixture
def upstream(httpserver, settings):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    settings.AUTOQL_SANDBOX_API_KEY = "sandbox-key"
    settings.AUTOQL_PRODUCTION_API_KEY = "production-key"
    settings.AUTOQL_TOKEN = "the-token"
    return httpserver


def test_it_sends_the_environments_key_and_the_bearer_token(upstream):
    upstream.expect_request(
        f"{API}/webhooks/production/logs",
        method="GET",
        query_string={"key": "production-key", "offset": "20", "limit": "10"},
        headers={"Authorization": "Bearer the-token"},
    ).respond_with_json(envelope({"items": [], "pagination": {"offset": 20, "limit": 10, "total_items": 0}}))
    assert ManagementApi().logs("production", offset=20, limit=10)["pagination"]["offset"] == 20


def test_it_sends_the_url_as_json(upstream, db):
    upstream.expect_request(
        f"{API}/webhooks/sandbox",
        method="PUT",
        json={"url": "https://a.example.com/"},
        query_string={"key": "sandbox-key"},
    ).respond_with_json(envelope(WEBHOOK), status=201)
    assert ManagementApi().put_webhook("sandbox", "https://a.example.com/") == WEBHOOK


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


def test_an_export_from_the_upstream_is_read_as_it_comes(upstream, db):
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


# Every call within its deadline and its size cap, every answer checked against the contract
# (webhooks_app/contract.py). The upstream here is a raw socket server (tests/hostile.py), so that
# trickles, cut bodies and bytes no HTTP library would send are real.


def failure_of(call) -> ManagementApiError:
    with pytest.raises(ManagementApiError) as caught:
        call()
    return caught.value


def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_total_deadline(raw_upstream, settings):
    # Each byte comes well within the deadline, so no single read ever times out.
    settings.AUTOQL_API_TIMEOUT = 0.5
    raw_upstream.serve(trickle(json_answer(envelope({"items": []})), every_s=0.1))
    error = failure_of(lambda: ManagementApi().get_webhook("sandbox"))
    assert (error.cause, str(error)) == ("timeout", "The management API did not answer in 0.5 s.")


def test_a_body_trickled_a_byte_at_a_time_is_cut_at_the_total_deadline(raw_upstream, settings):
    settings.AUTOQL_API_TIMEOUT = 0.5
    whole = json_answer(envelope({"items": []}))
    head, _, body = whole.partition(b"\r\n\r\n")

    def head_then_trickle(conn, stop):
        conn.sendall(head + b"\r\n\r\n")
        trickle(body, every_s=0.1)(conn, stop)

    raw_upstream.serve(head_then_trickle)
    assert failure_of(lambda: ManagementApi().get_webhook("sandbox")).cause == "timeout"


def test_a_change_gets_the_longer_deadline(raw_upstream, settings):
    settings.AUTOQL_API_TIMEOUT = 0.2
    settings.AUTOQL_API_CHANGE_TIMEOUT = 0.5
    raw_upstream.serve(trickle(json_answer(envelope(WEBHOOK)), every_s=0.1))
    error = failure_of(lambda: ManagementApi().regenerate_secret("sandbox"))
    assert (error.cause, str(error)) == ("timeout", "The management API did not answer in 0.5 s.")


def test_a_body_over_the_cap_is_refused_without_reading_it_all(raw_upstream, settings):
    settings.AUTOQL_API_MAX_RESPONSE_BYTES = 64 * 1024
    limit, sent = 256 * 1024 * 1024, Sent()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % limit
    raw_upstream.serve(stream_counted(head, limit, sent))
    error = failure_of(lambda: ManagementApi().logs("sandbox", 0, 100))
    assert (error.cause, error.status) == ("too-large", 200)
    assert str(error) == "The management API's answer was larger than the 64 KiB the portal reads."
    assert "AUTOQL_API_MAX_RESPONSE_BYTES" in error.detail
    # The portal hung up: the upstream stopped long before the body's end.
    assert sent.stopped.wait(20)
    assert sent.count < limit


def test_a_gzip_bomb_is_capped_on_its_decompressed_size(raw_upstream, settings):
    settings.AUTOQL_API_MAX_RESPONSE_BYTES = 1024 * 1024
    bomb = gzip_bomb(64)  # 64 MiB once inflated, about 64 KiB as sent
    assert len(bomb) < settings.AUTOQL_API_MAX_RESPONSE_BYTES
    raw_upstream.serve(answer(upstream_answer("200 OK", [b"Content-Encoding: gzip"], bomb)))
    tracemalloc.start()
    try:
        error = failure_of(lambda: ManagementApi().get_webhook("sandbox"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.cause == "too-large"
    assert peak < 8 * settings.AUTOQL_API_MAX_RESPONSE_BYTES  # never the 64 MiB


def test_a_gzip_answer_within_the_cap_is_read(raw_upstream):
    body = gzip.compress(json.dumps(envelope({"items": [WEBHOOK]})).encode())
    raw_upstream.serve(answer(upstream_answer("200 OK", [b"Content-Encoding: gzip"], body)))
    assert ManagementApi().get_webhook("sandbox") == WEBHOOK


def test_a_body_that_does_not_decompress_is_an_unexpected_answer(raw_upstream):
    raw_upstream.serve(answer(upstream_answer("200 OK", [b"Content-Encoding: gzip"], b"not gzip at all")))
    error = failure_of(lambda: ManagementApi().get_webhook("sandbox"))
    assert error.cause == "unexpected"
    assert error.detail == (
        f"GET {API}/webhooks with the sandbox key: a body that does not decompress as its Content-Encoding says. "
        f"{CHECK_DOMAIN}"
    )


def test_a_body_that_breaks_off_says_so(raw_upstream):
    body = json.dumps(envelope({"items": [WEBHOOK]})).encode()
    raw_upstream.serve(answer(upstream_answer("200 OK", [], body[:20], length=len(body))))
    error = failure_of(lambda: ManagementApi().get_webhook("sandbox"))
    assert (error.cause, str(error)) == ("failed", "The management API's answer broke off; try again in a moment.")


NOT_CONTRACT_JSON = {
    "html": (b"<!doctype html><title>Bad gateway</title>", "not JSON"),
    "empty": (b"", "not JSON"),
    "top-level array": (b'[{"data": {"items": []}}]', "not a JSON object"),
    "NaN": (b'{"data": {"items": [], "n": NaN}}', "JSON with NaN"),
    "Infinity": (b'{"data": {"items": [], "n": -Infinity}}', "JSON with -Infinity"),
    "a number beyond a float": (b'{"data": {"items": [], "n": 1e999}}', "a number too large (1e999)"),
    "deep nesting": (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "JSON nested too deep to read"),
    "invalid UTF-8": (b'{"data": {"items": [], "s": "\xff\xfe"}}', "not UTF-8"),
    "UTF-16": ('{"data": {"items": []}}'.encode("utf-16"), "not UTF-8"),
    "a byte order mark": (b'\xef\xbb\xbf{"data": {"items": []}}', "not JSON"),
    "a lone surrogate": (b'{"data": {"items": [], "s": "\\ud800"}}', "a string with NUL or half a surrogate pair"),
    "a key with NUL": (b'{"data": {"items": [], "\\u0000": 1}}', "a string with NUL or half a surrogate pair"),
    "a number too long": (b'{"data": {"items": [], "n": ' + b"9" * 5000 + b"}}", "not JSON"),
}


@pytest.mark.parametrize("body,reason", NOT_CONTRACT_JSON.values(), ids=NOT_CONTRACT_JSON.keys())
def test_an_answer_that_is_not_json_the_portal_accepts(raw_upstream, body, reason):
    raw_upstream.serve(answer(upstream_answer("200 OK", [b"Content-Type: application/json"], body)))
    error = failure_of(lambda: ManagementApi().get_webhook("sandbox"))
    assert (error.cause, error.status, str(error)) == ("unexpected", 200, UNEXPECTED)
    assert error.detail == f"GET {API}/webhooks with the sandbox key: 200, {reason}. {CHECK_DOMAIN}"


def test_an_escaped_surrogate_pair_is_text_like_any_other(raw_upstream):
    # What Python's json.dumps makes of an emoji: two escapes that are one character together.
    raw_upstream.serve(answer(json_answer(envelope({"items": [WEBHOOK | {"url": "🦆"}]}))))
    assert ManagementApi().get_webhook("sandbox") == WEBHOOK | {"url": "🦆"}


WRONG_WEBHOOKS = {
    "a secret that is a number": ({**WEBHOOK, "secret": 12345}, "data.items.0.secret: Input should be a valid string"),
    "a secret that is null": ({**WEBHOOK, "secret": None}, "data.items.0.secret: Input should be a valid string"),
    "no secret": ({k: v for k, v in WEBHOOK.items() if k != "secret"}, "data.items.0.secret: Field required"),
    "a url that is a list": ({**WEBHOOK, "url": ["x"]}, "data.items.0.url: Input should be a valid string"),
    "a created_at that is a number": ({**WEBHOOK, "created_at": 1764338400}, "data.items.0.created_at"),
    "a time without a timezone": ({**WEBHOOK, "created_at": "2026-11-28T14:00:00"}, "with a timezone"),
    "a day that does not exist": ({**WEBHOOK, "updated_at": "2026-02-30T14:00:00Z"}, "data.items.0.updated_at"),
    "the first year": ({**WEBHOOK, "updated_at": "0001-01-01T00:00:00+01:00"}, "between the years 2 and 9998"),
    "disabled as a string": (
        {**WEBHOOK, "disabled": "false"},
        "data.items.0.disabled: Input should be a valid boolean",
    ),
}


@pytest.mark.parametrize("webhook,problem", WRONG_WEBHOOKS.values(), ids=WRONG_WEBHOOKS.keys())
def test_a_webhook_of_the_wrong_shape_is_an_unexpected_answer(raw_upstream, webhook, problem):
    raw_upstream.serve(answer(json_answer(envelope({"items": [webhook]}))))
    error = failure_of(lambda: ManagementApi().get_webhook("sandbox"))
    assert (error.cause, str(error)) == ("unexpected", UNEXPECTED)
    assert problem in error.detail
    # The value found is not repeated: it could have been the secret.
    assert "12345" not in error.detail


def test_a_redirect_is_not_an_answer(raw_upstream):
    body = json.dumps(envelope({"items": [WEBHOOK]})).encode()
    raw_upstream.serve(answer(upstream_answer("302 Found", [b"Location: http://127.0.0.1:9/"], body)))
    error = failure_of(lambda: ManagementApi().get_webhook("sandbox"))
    assert (error.status, error.cause) == (302, "refused")


def test_field_errors_of_the_wrong_shape_are_an_unexpected_answer(raw_upstream):
    raw_upstream.serve(answer(json_answer({"message": "url: no", "errors": ["url"]}, "400 Bad Request")))
    error = failure_of(lambda: ManagementApi().put_webhook("sandbox", "https://a.example.com/"))
    assert (error.status, error.cause, error.field_errors) == (400, "unexpected", {})


def test_a_long_error_sentence_is_cut(raw_upstream):
    raw_upstream.serve(answer(json_answer({"message": "No. " * 10_000}, "409 Conflict")))
    error = failure_of(lambda: ManagementApi().put_webhook("sandbox", "https://a.example.com/"))
    assert len(str(error)) == 300 and str(error).endswith("…")


# The export: no size cap, but it must start within the deadline, and each later read too.


def test_an_export_whose_first_bytes_do_not_come_in_time_fails_in_plain_words(raw_upstream, settings):
    settings.AUTOQL_API_TIMEOUT = 0.5
    raw_upstream.serve(trickle(upstream_answer("200 OK", [b"Content-Type: text/csv"], b"id\n1\n"), every_s=0.1))
    error = failure_of(lambda: ManagementApi().export_logs("sandbox", "csv", {}))
    assert (error.cause, str(error)) == ("timeout", "The management API did not answer in 0.5 s.")


def test_an_export_that_stalls_after_its_first_bytes_ends_at_the_read_timeout(raw_upstream, settings, db):
    settings.AUTOQL_API_TIMEOUT = 0.5
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 1000000\r\n\r\nid\n"

    def first_bytes_then_nothing(conn, stop):
        conn.sendall(head)
        stop.wait(30)

    raw_upstream.serve(first_bytes_then_nothing)
    exported = ManagementApi().export_logs("sandbox", "csv", {})
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        list(exported.chunks)
    assert "Read timed out" in str(caught.value)


def test_an_export_is_not_capped(raw_upstream, settings, db):
    settings.AUTOQL_API_MAX_RESPONSE_BYTES = 64 * 1024
    body = b"id\n" + b"1234567\n" * 100_000
    headers = [b"Content-Type: text/csv; charset=utf-8", b'Content-Disposition: attachment; filename="x.csv"']
    raw_upstream.serve(answer(upstream_answer("200 OK", headers, body)))
    exported = ManagementApi().export_logs("sandbox", "csv", {})
    assert (exported.filename, exported.content_type) == ("x.csv", "text/csv; charset=utf-8")
    assert b"".join(exported.chunks) == body


def test_an_exports_odd_content_type_is_not_passed_on(raw_upstream, db):
    raw_upstream.serve(answer(upstream_answer("200 OK", [b"Content-Type: text/html\r\n folded"], b"id\n")))
    assert ManagementApi().export_logs("sandbox", "csv", {}).content_type == "application/octet-stream"
