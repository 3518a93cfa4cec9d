"""Whatever a receiver answers, the sender logs one attempt in plain words and keeps its schedule.

Each receiver is a raw socket server on 127.0.0.1 (tests/hostile.py), so that answers no HTTP
library would produce (bad status lines, huge or non-ASCII headers, broken compression) are real.
"""

import gzip
import json
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone

from management_api import delivery as deliveries
from management_api.models import Delivery, Webhook, WebhookLog
from tests.hostile import Sent, answer, answer_then_stream, gzip_bomb, hang, raw_receiver, stream_counted, trickle

pytestmark = pytest.mark.usefixtures("allow_loopback")

SCHEDULE = [600, 3600]


def http(status: str, headers: list[bytes], body: bytes = b"") -> bytes:
    head = [f"HTTP/1.1 {status}".encode(), *headers, f"Content-Length: {len(body)}".encode()]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


deep_json = b"[" * 30000 + b"]" * 30000

# name -> (what the receiver does, a phrase the logged error must contain)
HOSTILE = {
    "retry-after in unicode digits": (
        answer(http("503 Busy", [b"Retry-After: \xb2"], b"{}")),
        "the receiver answered 503 Busy",
    ),
    "retry-after in utf-8 arabic digits": (
        answer(http("503 Busy", ["Retry-After: ٣".encode()], b"{}")),
        "the receiver answered 503",
    ),
    "retry-after as nonsense date": (
        answer(http("429 Slow down", [b"Retry-After: Mon, 99 Foo 99999 99:99:99 GMT"])),
        "the receiver answered 429 Slow down",
    ),
    "deeply nested json": (answer(http("500 Oops", [b"Content-Type: application/json"], deep_json)), "500 Oops"),
    "json with nul and lone surrogate": (
        answer(http("400 Bad", [b"Content-Type: application/json"], b'{"a": "\\u0000", "b": "\\ud800"}')),
        "400 Bad",
    ),
    "invalid utf-8 with nul": (answer(http("502 Bad Gateway", [], b"\xff\xfe\x00\x00\xc3(")), "502"),
    "status 999": (answer(http("999 Whatever", [], b"?")), "the receiver answered 999 Whatever"),
    "status 199": (answer(http("199 Odd", [])), "the receiver answered 199 Odd"),
    "status 101 with no upgrade": (answer(b"HTTP/1.1 101 Switching\r\n\r\n"), "the receiver answered 101"),
    "status line not a number": (answer(b"HTTP/1.1 abc OK\r\n\r\n"), "not valid HTTP"),
    "not http at all": (answer(b"SSH-2.0-OpenSSH_9.6\r\n"), "not valid HTTP"),
    "reason phrase with control characters": (answer(http("503 A\x01\x7fB", [])), "the receiver answered 503 A"),
    "endless body": (
        answer_then_stream(b"HTTP/1.1 500 Endless\r\nContent-Type: text/plain\r\n\r\n", b"x" * 65536),
        "500 Endless",
    ),
    "gzip bomb": (
        answer(http("500 Boom", [b"Content-Encoding: gzip"], gzip_bomb(256))),
        "500 Boom",
    ),
    "gzip header over a plain body": (
        answer(http("200 OK", [b"Content-Encoding: gzip"], b"not gzip at all")),
        "could not be decompressed",
    ),
    "closed before answering": (answer(b""), "the connection broke before the receiver answered"),
    "closed mid-body": (
        answer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this"),
        "the connection broke before the receiver answered",
    ),
    "a header line too long": (
        answer(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * 70000 + b"\r\nContent-Length: 0\r\n\r\n"),
        "a line too long",
    ),
    "too many headers": (
        answer(http("200 OK", [f"X-H{i}: v".encode() for i in range(150)])),
        "too many headers",
    ),
    "headers huge in total": (
        answer(http("503 Big", [f"X-H{i}: {'v' * 60000}".encode() for i in range(90)])),
        "503 Big",
    ),
    "non-ascii and nul in headers": (
        answer(http("503 Odd", [b"X-Name: caf\xe9 \xff", b"X-Nul: a\x00b", "X-Utf8: 東京".encode()])),
        "503 Odd",
    ),
    "redirect to a huge location": (
        answer(http("302 Found", [b"Location: http://" + b"a" * 5000])),
        "redirects are not followed (302 to http://aaa",
    ),
    "headers one byte at a time": (trickle(http("200 OK", [b"X-Slow: " + b"s" * 100]), 0.05), "timed out after 1 s"),
    "never answers": (hang, "timed out after 1 s"),
}

# Receivers whose answer is a success, however odd its form.
ACCEPTING = {
    "deflate-compressed json": answer(
        http("200 OK", [b"Content-Encoding: deflate", b"Content-Type: application/json"], zlib.compress(b'{"ok": 1}'))
    ),
    "gzip-compressed json": answer(http("200 OK", [b"Content-Encoding: gzip"], gzip.compress(b'{"ok": 1}'))),
}


@pytest.fixture(autouse=True)
def short_deadline(settings):
    settings.WEBHOOK_DELIVERY_DEADLINE = 1
    settings.WEBHOOK_RETRY_SCHEDULE = SCHEDULE


def assert_bounded(log: WebhookLog) -> None:
    if isinstance(log.response, str):
        assert len(log.response) <= 65 * 1024
    else:
        assert len(json.dumps(log.response)) <= 65 * 1024
    assert len(json.dumps(log.response_headers)) <= 64 * 1024


@pytest.mark.parametrize("name", HOSTILE)
def test_test_connection_answers_200_with_a_sentence(api, name):
    behaviour, phrase = HOSTILE[name]
    with raw_receiver(behaviour) as url:
        api.create(url=url)
        response = api.call("POST", "/webhooks/sandbox/test")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["success"] is False
    assert phrase in data["error"]
    log = WebhookLog.objects.get(pk=data["log_id"])
    assert (log.status, log.error) == ("failure", data["error"])
    assert_bounded(log)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_queued_alert_is_logged_and_keeps_the_retry_schedule(db, name):
    behaviour, phrase = HOSTILE[name]
    with raw_receiver(behaviour) as url:
        Webhook.objects.create(environment="sandbox", url=url, secret="s" * 43)
        queued = deliveries.queue_event("sandbox", "data_alert.true", {"title": "t"}, project_id="p1")
        before = timezone.now()
        state = deliveries.attempt_delivery(str(queued.id))
    assert state == "pending"
    log = WebhookLog.objects.get(delivery_id=queued.id)
    assert (log.status, log.attempt) == ("failure", 1)
    assert log.error is not None and phrase in log.error
    assert_bounded(log)
    # The first step of the schedule (±20% jitter): no odd Retry-After shortened or broke it.
    delivery = Delivery.objects.get(pk=queued.id)
    assert delivery.next_attempt_at is not None
    assert before + timedelta(seconds=SCHEDULE[0] * 0.8) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=SCHEDULE[0] * 1.2)
    assert log.next_attempt_at == delivery.next_attempt_at


# JSON that Python's parser takes but no database column stores: kept as the text it was.
UNSTORABLE_JSON = ["NaN", "Infinity", "-Infinity", "1e999", "[1e400]", '{"n": -1e999}', "1" * 150]


@pytest.mark.parametrize("status", ["200 OK", "500 Oops"])
@pytest.mark.parametrize("body", UNSTORABLE_JSON)
def test_a_test_connection_keeps_json_no_database_stores_as_text(api, body, status):
    with raw_receiver(answer(http(status, [b"Content-Type: application/json"], body.encode()))) as url:
        api.create(url=url)
        response = api.call("POST", "/webhooks/sandbox/test")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["response"] == body
    log = WebhookLog.objects.get(pk=data["log_id"])
    assert (log.status, log.response) == (("success" if status == "200 OK" else "failure"), body)


@pytest.mark.parametrize("body", UNSTORABLE_JSON)
def test_a_queued_alert_answered_with_unstorable_json_is_logged_once(db, body):
    with raw_receiver(answer(http("503 Busy", [b"Content-Type: application/json"], body.encode()))) as url:
        Webhook.objects.create(environment="sandbox", url=url, secret="s" * 43)
        queued = deliveries.queue_event("sandbox", "data_alert.true", {"title": "t"}, project_id="p1")
        assert deliveries.deliver_due("sandbox") == 1
    log = WebhookLog.objects.get(delivery_id=queued.id)
    assert (log.attempt, log.status, log.response) == (1, "failure", body)
    delivery = Delivery.objects.get(pk=queued.id)
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now()


def test_a_row_the_database_refuses_is_still_written_with_less_of_it(db, monkeypatch):
    """Defence in depth: should a value still be refused, the row is stored without the answer,
    and failing that as a minimal row, within the same batch's numbering."""
    webhook = Webhook.objects.create(environment="sandbox", url="http://127.0.0.1:1/hook", secret="s" * 43)
    delivery = Delivery.objects.create(environment="sandbox", type="data_alert", event="e", attempts=1)
    result = deliveries.DeliveryResult(
        success=False,
        status_code=500,
        response={"n": float("nan")},  # what the old parser let through
        error="the receiver answered 500",
        duration_ms=5,
        request_headers={"AutoQL-Delivery-Id": str(delivery.id)},
        request_body="\x00 is refused by PostgreSQL, and a lone surrogate \ud800 by both",
    )
    log = deliveries.record_attempt(webhook, result=result, delivery=delivery, attempt=1)
    stored = WebhookLog.objects.get(pk=log.pk)
    assert stored.response is None
    assert stored.error is not None and stored.error.startswith("the receiver answered 500")
    assert stored.seq == 1


@pytest.mark.parametrize("name", ACCEPTING)
def test_compressed_answers_are_read(api, name):
    with raw_receiver(ACCEPTING[name]) as url:
        api.create(url=url)
        data = api.call("POST", "/webhooks/sandbox/test").json()["data"]
    assert (data["success"], data["response"]) == (True, {"ok": 1})


def test_a_gzip_bomb_is_kept_cut_at_the_cap(api):
    with raw_receiver(answer(http("500 Boom", [b"Content-Encoding: gzip"], gzip_bomb(256)))) as url:
        api.create(url=url)
        data = api.call("POST", "/webhooks/sandbox/test").json()["data"]
    assert data["response"].endswith("[cut at 64 KiB]")


def test_a_redirect_with_a_huge_body_is_read_no_further_than_the_cap(api):
    limit, sent = 256 * 1024 * 1024, Sent()
    head = b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example/\r\nContent-Length: %d\r\n\r\n" % limit
    with raw_receiver(stream_counted(head, limit, sent)) as url:
        api.create(url=url)
        data = api.call("POST", "/webhooks/sandbox/test").json()["data"]
        # The sender hung up: the receiver stopped long before the body's end.
        assert sent.stopped.wait(20)
    assert data["error"] == "redirects are not followed (302 to https://elsewhere.example/)"
    assert data["response"].endswith("[cut at 64 KiB]")
    assert sent.count < limit


def test_a_sender_that_raises_still_logs_and_schedules(db, monkeypatch):
    """Defence in depth: should sending ever raise, the attempt is logged and retried on schedule."""

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(deliveries, "send_signed", broken)
    Webhook.objects.create(environment="sandbox", url="http://127.0.0.1:9/hook", secret="s" * 43)
    queued = deliveries.queue_event("sandbox", "data_alert.true", {"title": "t"})
    assert deliveries.attempt_delivery(str(queued.id)) == "pending"
    log = WebhookLog.objects.get(delivery_id=queued.id)
    assert log.error == "the delivery failed unexpectedly (RecursionError)"
    next_attempt_at = Delivery.objects.get(pk=queued.id).next_attempt_at
    assert next_attempt_at is not None
    assert next_attempt_at >= timezone.now() + timedelta(seconds=SCHEDULE[0] * 0.7)


def test_test_connection_with_a_sender_that_raises_answers_200(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(deliveries, "send_signed", broken)
    api.create(url="http://127.0.0.1:9/hook")
    response = api.call("POST", "/webhooks/sandbox/test")
    assert response.status_code == 200
    assert response.json()["data"]["error"] == "the delivery failed unexpectedly (RecursionError)"
