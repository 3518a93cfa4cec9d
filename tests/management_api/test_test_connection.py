"""POST /webhooks/{environment}/test: one real signed delivery to a receiver on 127.0.0.1."""

import json
import time
import uuid

import pytest
from werkzeug import Response

from management_api.models import WebhookLog
from management_api.signing import sign, verify
from tests.receiver import VerifyingReceiver

pytestmark = pytest.mark.usefixtures("allow_loopback")


def point_at(api, httpserver, path="/hook", environment="sandbox"):
    return api.create(environment, httpserver.url_for(path))


def test_it_delivers_a_signed_test_event_and_reports_the_answer(api, httpserver):
    created = point_at(api, httpserver)
    # The receiver takes a fifth of a second to answer, which the measured duration must include.
    receiver = VerifyingReceiver(secret=created["secret"], delay=0.2)
    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)

    before_ms = int(time.time() * 1000)
    response = api.call("POST", "/webhooks/sandbox/test", {})

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["success"] is True
    assert data["status_code"] == 200
    assert data["response"] == {"message": "ok"}
    assert data["error"] is None
    assert data["duration_ms"] >= 200
    [arrived] = receiver.received
    assert arrived["problem"] is None, arrived["problem"]
    headers = arrived["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["Autoql-Event"] == "test"
    assert uuid.UUID(headers["Autoql-Delivery-Id"])
    assert before_ms <= int(headers["Autoql-Timestamp"]) <= int(time.time() * 1000)
    body = json.loads(arrived["body"])
    assert body["event"] == "test" and body["payload"]["environment"] == "sandbox"

    log = WebhookLog.objects.get(pk=data["log_id"])
    assert (log.project_id, log.type, log.event, log.status, log.code) == (None, "test", "test", "success", 200)
    assert log.response == {"message": "ok"}
    assert log.duration_ms == data["duration_ms"]
    assert str(log.delivery_id) == headers["Autoql-Delivery-Id"]
    assert created["secret"] not in json.dumps(log.request_headers) + log.request_body


def test_a_receiver_rejects_the_signature_made_with_an_old_secret(api, httpserver):
    old_secret = point_at(api, httpserver)["secret"]
    receiver = VerifyingReceiver(secret=old_secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    api.call("PUT", "/webhooks/sandbox/secret", {})

    data = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]

    assert data["success"] is False
    assert data["status_code"] == 401
    assert data["response"] == {"error": "AutoQL-Signature does not match"}
    assert data["error"] == "the receiver answered 401 UNAUTHORIZED"
    assert WebhookLog.objects.get().status == "failure"


def test_the_signature_is_only_good_for_five_minutes(api, httpserver):
    secret = point_at(api, httpserver)["secret"]
    receiver = VerifyingReceiver(secret=secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    api.call("POST", "/webhooks/sandbox/test", {})
    [arrived] = receiver.received
    stamp, signature = arrived["headers"]["Autoql-Timestamp"], arrived["headers"]["Autoql-Signature"]

    assert signature == sign(secret, stamp, arrived["body"])
    assert verify(secret, stamp, signature, arrived["body"], now_ms=int(stamp) + 299_000) is None
    too_late = verify(secret, stamp, signature, arrived["body"], now_ms=int(stamp) + 301_000)
    assert too_late is not None and "5 minutes" in too_late
    changed = verify(secret, stamp, signature, arrived["body"] + b" ")
    assert changed is not None and "does not match" in changed


def test_it_answers_404_without_a_webhook(api):
    response = api.call("POST", "/webhooks/sandbox/test", {})
    assert response.status_code == 404
    assert not WebhookLog.objects.exists()


def test_a_closed_port_is_a_failure_in_plain_words(api, closed_port):
    api.create(url=f"http://127.0.0.1:{closed_port}/hook")
    response = api.call("POST", "/webhooks/sandbox/test", {})
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["success"], data["status_code"], data["error"]) == (False, None, "connection refused")
    log = WebhookLog.objects.get()
    assert (log.status, log.code, log.error) == ("failure", None, "connection refused")


def test_a_slow_receiver_times_out_at_the_deadline(api, httpserver, settings):
    settings.WEBHOOK_DELIVERY_DEADLINE = 1
    secret = point_at(api, httpserver)["secret"]
    # The receiver would answer 200 after 2.5 s; only the 1 s deadline makes this a failure.
    receiver = VerifyingReceiver(secret=secret, delay=2.5)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    data = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]
    assert len(receiver.received) == 1
    assert (data["success"], data["status_code"], data["error"]) == (False, None, "timed out after 1 s")
    assert WebhookLog.objects.get().error == "timed out after 1 s"


def test_a_500_is_a_failure_with_the_body_kept_and_never_retried(api, httpserver):
    from management_api.models import Delivery

    point_at(api, httpserver)
    httpserver.expect_request("/hook").respond_with_json({"error": "boom"}, status=500)
    data = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]
    assert (data["success"], data["status_code"], data["response"]) == (False, 500, {"error": "boom"})
    assert "500" in data["error"]
    assert Delivery.objects.get().state == "failed"
    assert WebhookLog.objects.get().next_attempt_at is None


def test_a_redirect_is_not_followed(api, httpserver):
    point_at(api, httpserver)
    target = httpserver.url_for("/elsewhere")
    httpserver.expect_request("/hook").respond_with_response(Response(status=302, headers={"Location": target}))
    data = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]
    assert data["success"] is False and data["status_code"] == 302
    assert data["error"] == f"redirects are not followed (302 to {target})"
    assert len(httpserver.log) == 1  # /elsewhere was never requested


def test_a_huge_body_is_cut_at_64_kib(api, httpserver):
    point_at(api, httpserver)
    httpserver.expect_request("/hook").respond_with_data(b"x" * (5 * 1024 * 1024), content_type="text/plain")
    data = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]
    assert data["success"] is True and data["status_code"] == 200
    assert data["response"].startswith("x" * 1000)
    assert data["response"].endswith("[cut at 64 KiB]")
    logged = WebhookLog.objects.get().response
    assert isinstance(logged, str) and len(logged) < 65 * 1024


def test_a_text_answer_is_kept_as_text(api, httpserver):
    point_at(api, httpserver)
    httpserver.expect_request("/hook").respond_with_data("thanks", content_type="text/plain")
    data = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]
    assert data["response"] == "thanks"
    assert WebhookLog.objects.get().response == "thanks"


def test_loopback_is_refused_unless_allowed(api, httpserver, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    point_at(api, httpserver)
    data = api.call("POST", "/webhooks/sandbox/test", {}).json()["data"]
    assert data["success"] is False
    assert data["error"] == "the address 127.0.0.1 is not reachable from AutoQL (private or reserved network)"
    assert len(httpserver.log) == 0


def test_the_production_test_goes_to_the_production_webhook(api, httpserver):
    api.create("sandbox", "https://sandbox.example.com/")
    secret = point_at(api, httpserver, environment="production")["secret"]
    receiver = VerifyingReceiver(secret=secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    data = api.call("POST", "/webhooks/production/test", {}, environment="production").json()["data"]
    assert data["success"] is True
    assert WebhookLog.objects.get().environment == "production"
