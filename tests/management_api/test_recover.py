"""Recover: GET (how many) and POST (send again) .../recover for deliveries given up since a time."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from management_api import delivery as deliveries
from management_api.models import Delivery, Webhook
from management_api.schemas import iso
from tests.receiver import VerifyingReceiver
from tests.wakeups import postgresql_only, wake_ups_heard

pytestmark = pytest.mark.usefixtures("allow_loopback")

PAYLOAD = {"notification_id": "nt_1", "data_alert_id": "da_1", "project_id": "project1", "title": "High Sales"}


def delivery(state: str, hours_ago: float, environment: str = "sandbox", **fields) -> Delivery:
    values = {
        "environment": environment,
        "type": "data_alert",
        "event": "data_alert.true",
        "project_id": "project1",
        "payload": PAYLOAD,
        "state": state,
        "attempts": 5 if state == "failed" else 1,
        "created_at": timezone.now() - timedelta(hours=hours_ago),
        **fields,
    }
    return Delivery.objects.create(**values)


def since(hours_ago: float) -> str:
    return iso(timezone.now() - timedelta(hours=hours_ago))


def count(api, when: str, environment: str = "sandbox"):
    return api.call("GET", f"/webhooks/{environment}/recover", query=f"&since={quote(when)}", environment=environment)


def recover(api, body, environment: str = "sandbox"):
    return api.call("POST", f"/webhooks/{environment}/recover", body, environment=environment)


def test_it_sends_every_failed_data_alert_since_the_time_again_each_with_a_new_id(api, httpserver):
    secret = api.create(url=httpserver.url_for("/hook"))["secret"]
    receiver = VerifyingReceiver(secret=secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    failed = [delivery("failed", 2), delivery("failed", 1)]
    delivery("failed", 30)  # before `since`
    delivery("delivered", 1)
    delivery("pending", 1)
    delivery("failed", 1, type="test", event="test")  # test events are never sent again
    delivery("failed", 1, environment="production")

    assert count(api, since(3)).json() == {"data": {"count": 2}, "message": "Success", "reference_id": "1.1.200"}
    response = recover(api, {"since": since(3)})

    assert response.status_code == 202
    assert response.json()["data"] == {"queued": 2}
    replacements = list(Delivery.objects.filter(recovery_of__in=failed).order_by("created_at"))
    assert [r.recovery_of_id for r in replacements] == [f.id for f in failed]
    assert all(r.state == "pending" and r.payload == PAYLOAD for r in replacements)
    assert {r.id for r in replacements}.isdisjoint({f.id for f in failed})
    for replacement in replacements:
        assert deliveries.attempt_delivery(str(replacement.id)) == "delivered"
    assert sorted(r["headers"]["Autoql-Delivery-Id"] for r in receiver.received) == sorted(
        str(r.id) for r in replacements
    )
    assert all(r["problem"] is None for r in receiver.received)
    # The originals stay as they were: given up, and now recovered, so never sent twice.
    assert count(api, since(3)).json()["data"] == {"count": 0}
    assert recover(api, {"since": since(3)}).json()["data"] == {"queued": 0}
    assert not Delivery.objects.filter(recovery_of__in=replacements).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_once_committed_a_recover_wakes_the_workers_once_and_one_that_queues_nothing_does_not(api):
    api.create()
    delivery("failed", 2)
    delivery("failed", 1)
    with wake_ups_heard() as heard:
        assert recover(api, {"since": since(3)}).json()["data"] == {"queued": 2}
    assert heard == ["sandbox"]
    with wake_ups_heard() as heard:
        assert recover(api, {"since": since(3)}).json()["data"] == {"queued": 0}
    assert heard == []


def test_a_recovery_that_fails_again_can_be_recovered_again(api):
    api.create()
    original = delivery("failed", 2)
    recover(api, {"since": since(3)})
    replacement = Delivery.objects.get(recovery_of=original)
    Delivery.objects.filter(pk=replacement.pk).update(state="failed")
    assert count(api, since(3)).json()["data"] == {"count": 1}
    assert recover(api, {"since": since(3)}).json()["data"] == {"queued": 1}
    assert Delivery.objects.filter(recovery_of=replacement).count() == 1


def test_naive_times_are_utc(api):
    api.create()
    delivery("failed", 2)
    naive = (timezone.now() - timedelta(hours=3)).replace(tzinfo=None).isoformat()
    assert count(api, naive).json()["data"] == {"count": 1}
    later = (timezone.now() - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert count(api, later).json()["data"] == {"count": 0}


def test_a_disabled_webhook_is_409_and_nothing_is_queued(api):
    api.create()
    delivery("failed", 1)
    Webhook.objects.update(disabled_at=timezone.now(), disabled_reason="Failing for 5 days.")
    for response in (recover(api, {"since": since(3)}), count(api, since(3))):
        assert response.status_code == 409
        assert "disabled" in response.json()["message"]
    assert Delivery.objects.count() == 1


def test_no_webhook_is_404(api):
    delivery("failed", 1)
    assert recover(api, {"since": since(3)}).status_code == 404
    assert count(api, since(3)).status_code == 404
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    "body,message",
    [
        ({"since": "tomorrow"}, "since: use an ISO 8601 time"),
        ({"since": ""}, "since: use an ISO 8601 time"),
        ({"since": 1764288000}, "since: use an ISO 8601 time"),
        ({"since": None}, "since: use an ISO 8601 time"),
        ({}, "since: "),
        ({"since": "2026-11-28T00:00:00Z", "extra": 1}, "extra: "),
        ("FUTURE", "since: is in the future"),
        ("BEYOND_RETENTION", "since: is older than the 90 days deliveries are kept"),
    ],
)
def test_bad_since_is_400_and_queues_nothing(api, settings, body, message):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 90
    api.create()
    delivery("failed", 1)
    if body == "FUTURE":
        body = {"since": iso(timezone.now() + timedelta(minutes=5))}
    elif body == "BEYOND_RETENTION":
        body = {"since": iso(timezone.now() - timedelta(days=91))}
    response = recover(api, body)
    assert response.status_code == 400, response.content
    assert response.json()["message"].startswith(message)
    assert response.json()["reference_id"] == "1.1.400"
    assert Delivery.objects.count() == 1
    if message.startswith("since") and isinstance(body.get("since"), str) and body["since"]:
        assert count(api, body["since"]).status_code == 400


def test_the_count_needs_since(api):
    api.create()
    response = api.call("GET", "/webhooks/sandbox/recover")
    assert response.status_code == 400
    assert "since" in response.json()["errors"]
