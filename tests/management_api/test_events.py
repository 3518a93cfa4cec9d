"""POST /webhooks/{environment}/events: a data alert queued for the worker."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from management_api.alerts import data_alert_payload
from management_api.models import Delivery, Webhook
from tests.wakeups import postgresql_only, wake_ups_heard


def event(**payload_changes):
    payload = data_alert_payload("project1", "High Sales", "You've achieved your sales goal this month")
    payload.update(payload_changes)
    return {"event": "data_alert.true", "payload": payload}


def test_it_queues_one_delivery(api):
    api.create()
    response = api.call("POST", "/webhooks/sandbox/events", event())
    assert response.status_code == 202
    body = response.json()
    assert body["reference_id"] == "1.1.202"
    delivery = Delivery.objects.get()
    assert body["data"] == {"delivery_id": str(delivery.id), "status": "pending"}
    assert (delivery.event, delivery.project_id, delivery.type) == ("data_alert.true", "project1", "data_alert")
    assert delivery.payload["title"] == "High Sales"
    # The delivery row is the queue: due at once, for whichever sandbox worker claims it first.
    assert (delivery.state, delivery.attempts, delivery.leased_until) == ("pending", 0, None)
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at <= timezone.now()


def test_the_delivery_and_its_audit_record_are_one_write(api):
    api.create()
    with CaptureQueriesContext(connection) as queries:
        assert api.call("POST", "/webhooks/sandbox/events", event()).status_code == 202
    writes = [query["sql"] for query in queries.captured_queries if "INSERT" in query["sql"]]
    if connection.vendor == "postgresql":
        # The delivery and its audit record together, in one statement.
        assert len(writes) == 1 and "management_api_delivery" in writes[0] and "audit_auditevent" in writes[0]
    assert Delivery.objects.count() == 1
    assert AuditEvent.objects.filter(action="event_queued", environment="sandbox").count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_once_committed_it_wakes_the_sandbox_workers(api):
    api.create()
    with wake_ups_heard() as heard:
        assert api.call("POST", "/webhooks/sandbox/events", event()).status_code == 202
    assert heard == ["sandbox"]


def test_it_answers_404_without_a_webhook(api):
    response = api.call("POST", "/webhooks/sandbox/events", event())
    assert response.status_code == 404
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "body,field",
    [
        ({"event": "data_alert.true"}, "payload"),
        ({"payload": event()["payload"]}, "event"),
        ({**event(), "event": "user.deleted"}, "event"),
        ({**event(), "event": "data_alert."}, "event"),
        (event(title=""), "payload.title"),
        (event(created_at="yesterday"), "payload.created_at"),
        (event(created_at=True), "payload.created_at"),
        (event(created_at=-5), "payload.created_at"),
        (event(users="user1"), "payload.users"),
        (event(project_id=None), "payload.project_id"),
        (event(surprise=1), "payload.surprise"),
        ({**event(), "extra": 1}, "extra"),
    ],
)
def test_a_malformed_event_gets_field_errors_and_queues_nothing(api, body, field):
    api.create()
    response = api.call("POST", "/webhooks/sandbox/events", body)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Delivery.objects.exists()


def test_a_disabled_webhook_takes_no_events(api):
    api.create()
    Webhook.objects.update(disabled_at="2026-11-01T00:00:00Z", disabled_reason="No delivery has succeeded.")
    response = api.call("POST", "/webhooks/sandbox/events", event())
    assert response.status_code == 409
    assert "disabled" in response.json()["message"] and "Enable it first" in response.json()["message"]
    assert not Delivery.objects.exists()


def test_it_is_in_the_openapi_schema(admin_client):
    paths = admin_client.get("/autoql/management/api/v1/notifications/openapi.json").json()["paths"]
    operation = paths["/autoql/management/api/v1/notifications/webhooks/{environment}/events"]["post"]
    assert "202" in operation["responses"]
