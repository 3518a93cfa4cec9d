"""GET /webhooks/{environment}/deliveries/{id}: a delivery and every attempt of it, oldest first."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from management_api import delivery as deliveries
from management_api.models import Delivery, WebhookLog
from tests.receiver import VerifyingReceiver

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def attempt_log(delivery: Delivery, attempt: int, status: str, **fields) -> WebhookLog:
    values = {
        "environment": delivery.environment,
        "delivery_id": delivery.id,
        "attempt": attempt,
        "type": delivery.type,
        "event": delivery.event,
        "project_id": delivery.project_id,
        "status": status,
        "url": "https://hooks.example.com/",
        "created_at": T0 + timedelta(minutes=attempt),
        **fields,
    }
    return WebhookLog.objects.create(**values)


def data_alert(state: str, attempts: int, **fields) -> Delivery:
    values = {
        "environment": "sandbox",
        "type": "data_alert",
        "event": "data_alert.true",
        "project_id": "project1",
        "state": state,
        "attempts": attempts,
        "created_at": T0,
        **fields,
    }
    return Delivery.objects.create(**values)


def timeline(api, delivery_id, environment="sandbox"):
    return api.call("GET", f"/webhooks/{environment}/deliveries/{delivery_id}", environment=environment)


def test_a_delivery_that_failed_then_succeeded(api):
    delivery = data_alert("delivered", 2)
    first = attempt_log(delivery, 1, "failure", code=503, duration_ms=120, error="the receiver answered 503")
    second = attempt_log(delivery, 2, "success", code=200, duration_ms=45)
    response = timeline(api, delivery.id)
    assert response.status_code == 200
    assert response.json()["data"] == {
        "id": str(delivery.id),
        "event": "data_alert.true",
        "type": "data_alert",
        "project_id": "project1",
        "state": "delivered",
        "state_text": "Delivered on attempt 2.",
        "attempts": 2,
        "next_attempt_at": None,
        "created_at": "2026-11-28T12:00:00Z",
        "recovery_of": None,
        "recovered_by": None,
        "timeline": [
            {
                "log_id": str(first.pk),
                "attempt": 1,
                "created_at": "2026-11-28T12:01:00Z",
                "status": "failure",
                "code": 503,
                "duration_ms": 120,
                "error": "the receiver answered 503",
                "request_headers": {},
            },
            {
                "log_id": str(second.pk),
                "attempt": 2,
                "created_at": "2026-11-28T12:02:00Z",
                "status": "success",
                "code": 200,
                "duration_ms": 45,
                "error": None,
                "request_headers": {},
            },
        ],
    }


def test_a_pending_and_a_given_up_delivery_say_so(api):
    due = T0 + timedelta(hours=1)
    pending = data_alert("pending", 1, next_attempt_at=due)
    attempt_log(pending, 1, "failure", next_attempt_at=due)
    data = timeline(api, pending.id).json()["data"]
    assert (data["state"], data["state_text"]) == ("pending", "Waiting for attempt 2, due at 2026-11-28T13:00:00Z.")
    assert data["next_attempt_at"] == "2026-11-28T13:00:00Z"

    failed = data_alert("failed", 3)
    for n in (1, 2, 3):
        attempt_log(failed, n, "failure")
    data = timeline(api, failed.id).json()["data"]
    assert (data["state"], data["state_text"]) == ("failed", "Given up after 3 attempts.")
    assert [a["attempt"] for a in data["timeline"]] == [1, 2, 3]


def test_a_delivery_whose_row_is_gone_is_told_from_its_log(api):
    gone = uuid.uuid4()
    WebhookLog.objects.create(
        environment="sandbox", delivery_id=gone, attempt=1, type="data_alert", event="data_alert.true",
        status="failure", url="https://h.example.com/", created_at=T0,
    )  # fmt: skip
    WebhookLog.objects.create(
        environment="sandbox", delivery_id=gone, attempt=2, type="data_alert", event="data_alert.true",
        status="failure", url="https://h.example.com/", created_at=T0 + timedelta(minutes=5),
    )  # fmt: skip
    data = timeline(api, gone).json()["data"]
    assert (data["id"], data["state"], data["attempts"]) == (str(gone), "failed", 2)
    assert data["state_text"] == "Given up after 2 attempts."
    assert data["created_at"] == "2026-11-28T12:00:00Z"


def test_a_real_test_connection_has_a_one_attempt_timeline(api, httpserver, allow_loopback):
    secret = api.create(url=httpserver.url_for("/hook"))["secret"]
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret=secret))
    api.call("POST", "/webhooks/sandbox/test", {})
    log = WebhookLog.objects.get()
    data = timeline(api, log.delivery_id).json()["data"]
    assert (data["type"], data["state"], data["state_text"]) == ("test", "delivered", "Delivered on attempt 1.")
    assert [(a["log_id"], a["code"]) for a in data["timeline"]] == [(str(log.pk), 200)]


def test_dashes_and_case_do_not_matter(api):
    delivery = data_alert("failed", 0)
    assert timeline(api, delivery.id.hex.upper()).status_code == 200


@pytest.mark.parametrize(
    "delivery_id",
    [
        str(uuid.uuid4()),
        "not-a-uuid",
        "12345",
        "0" * 33,
        "%D9%A1" * 32,  # Arabic-Indic digit one, which Python's isdigit accepts
        "%EF%BC%91" * 32,  # full-width 1
        "%ED%A0%80" * 4,  # a lone surrogate, as UTF-8 bytes
        "g" * 32,
    ],
)
def test_unknown_and_malformed_ids_are_404_with_the_error_body(api, delivery_id):
    data_alert("failed", 0)
    response = timeline(api, delivery_id)
    assert response.status_code == 404
    body = response.json()
    assert body["reference_id"] == "1.1.404"
    assert "delivery" in body["message"]


def test_a_delivery_of_the_other_environment_is_404(api):
    other = data_alert("delivered", 1, environment="production")
    attempt_log(other, 1, "success")
    assert timeline(api, other.id).status_code == 404
    assert timeline(api, other.id, environment="production").status_code == 200


def test_recovered_deliveries_point_at_each_other(api):
    failed = data_alert("failed", 5)
    replacement = data_alert("pending", 0, recovery_of=failed, next_attempt_at=None)
    data = timeline(api, failed.id).json()["data"]
    assert data["recovered_by"] == str(replacement.id)
    assert data["state_text"] == f"Given up after 5 attempts. Recover sent it again as delivery {replacement.id}."
    data = timeline(api, replacement.id).json()["data"]
    assert data["recovery_of"] == str(failed.id)
    assert data["state_text"] == "Waiting for attempt 1, due as soon as a worker is free."


def test_a_delivery_queued_through_the_api_shows_up_once_attempted(api, httpserver, allow_loopback):
    secret = api.create(url=httpserver.url_for("/hook"))["secret"]
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret=secret, status=503))
    payload = {
        "notification_id": "nt_1", "data_alert_id": "da_1", "project_id": "project1", "title": "High Sales",
        "created_at": 1605910895,
    }  # fmt: skip
    queued = api.call("POST", "/webhooks/sandbox/events", {"event": "data_alert.true", "payload": payload})
    delivery_id = queued.json()["data"]["delivery_id"]
    assert deliveries.attempt_delivery(delivery_id) == "pending"
    data = timeline(api, delivery_id).json()["data"]
    assert data["state"] == "pending"
    assert [(a["attempt"], a["status"], a["code"]) for a in data["timeline"]] == [(1, "failure", 503)]
