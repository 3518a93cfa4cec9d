"""Attempts and retries: each attempt signed afresh and logged; the schedule, 410, Retry-After."""

import json
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from management_api import delivery as deliveries
from management_api.alerts import send_data_alert
from management_api.models import Delivery, Webhook, WebhookLog
from management_api.signing import verify

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def seeded_random() -> Iterator[None]:
    """The same jitter on every run; the global generator is put back afterwards."""
    state = random.getstate()
    random.seed(20261129)
    yield
    random.setstate(state)


@pytest.fixture
def webhook(db, httpserver):
    return Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="s" * 43)


class FlakyReceiver:
    """Answers the given statuses in turn (then 200), verifying every signature."""

    def __init__(self, secret, statuses, headers=None):
        self.secret, self.statuses, self.headers, self.received = secret, list(statuses), headers or {}, []

    def __call__(self, request):
        body = request.get_data()
        self.received.append(
            {
                "headers": dict(request.headers),
                "problem": verify(
                    self.secret, request.headers["AutoQL-Timestamp"], request.headers["AutoQL-Signature"], body
                ),
            }
        )
        status = self.statuses.pop(0) if self.statuses else 200
        return Response(
            json.dumps({"status": status}), status=status, headers=self.headers, content_type="application/json"
        )


def run_until_settled(delivery_id, max_attempts=10):
    """What the worker does, attempt after attempt, without waiting for the schedule."""
    for _ in range(max_attempts):
        state = deliveries.attempt_delivery(str(delivery_id))
        if state in ("delivered", "failed"):
            return state
        Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
    return state


def test_two_failures_then_success_leave_three_rows_with_one_delivery_id(webhook, httpserver):
    receiver = FlakyReceiver(webhook.secret, [503, 500])
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    queued = send_data_alert("sandbox", "p1", "High Sales", "goal reached", data=[["EMEA", 120]])

    assert run_until_settled(queued.id) == "delivered"

    rows = list(WebhookLog.objects.order_by("seq"))
    assert [(r.attempt, r.status, r.code) for r in rows] == [
        (1, "failure", 503),
        (2, "failure", 500),
        (3, "success", 200),
    ]
    assert {r.delivery_id for r in rows} == {queued.id}
    assert rows[0].next_attempt_at is not None and rows[2].next_attempt_at is None
    assert [r["problem"] for r in receiver.received] == [None, None, None]
    ids = {r["headers"]["Autoql-Delivery-Id"] for r in receiver.received}
    stamps = [r["headers"]["Autoql-Timestamp"] for r in receiver.received]
    assert ids == {str(queued.id)} and len(set(stamps)) == 3  # same id, signed afresh each time
    payload = json.loads(rows[2].request_body)["payload"]
    assert payload["project_id"] == "p1" and payload["query_result"]["data"] == {"rows": [["EMEA", 120]]}
    assert webhook.secret not in json.dumps(rows[2].request_headers) + rows[2].request_body


@pytest.mark.parametrize("status", [302, 400, 404, 429, 500, 503])
def test_these_answers_are_retried(webhook, httpserver, status):
    httpserver.expect_request("/hook").respond_with_handler(FlakyReceiver(webhook.secret, [status]))
    queued = send_data_alert("sandbox", "p1", "t")
    assert deliveries.attempt_delivery(str(queued.id)) == "pending"
    next_attempt_at = Delivery.objects.get().next_attempt_at
    assert next_attempt_at is not None and next_attempt_at > timezone.now()


def test_410_stops(webhook, httpserver):
    httpserver.expect_request("/hook").respond_with_handler(FlakyReceiver(webhook.secret, [410]))
    queued = send_data_alert("sandbox", "p1", "t")
    assert deliveries.attempt_delivery(str(queued.id)) == "failed"
    assert WebhookLog.objects.get().next_attempt_at is None


def test_no_response_is_retried(db, settings, closed_port):
    Webhook.objects.create(environment="sandbox", url=f"http://127.0.0.1:{closed_port}/", secret="s" * 43)
    queued = send_data_alert("sandbox", "p1", "t")
    assert deliveries.attempt_delivery(str(queued.id)) == "pending"
    assert WebhookLog.objects.get().error == "connection refused"


def test_the_schedule_runs_out(webhook, httpserver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 1]
    httpserver.expect_request("/hook").respond_with_handler(FlakyReceiver(webhook.secret, [500] * 10))
    queued = send_data_alert("sandbox", "p1", "t")
    assert run_until_settled(queued.id) == "failed"
    assert WebhookLog.objects.count() == 3
    assert Delivery.objects.get().attempts == 3


def scheduled_delays(attempt: int, count: int) -> list[float]:
    delays = [deliveries.retry_delay(attempt, None) for _ in range(count)]
    assert all(delay is not None for delay in delays)
    return [delay for delay in delays if delay is not None]


def test_retry_delays_follow_the_schedule_with_jitter(settings, seeded_random):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800]
    first, second = scheduled_delays(1, 50), scheduled_delays(2, 50)
    assert all(4 <= delay <= 6 for delay in first)
    assert all(240 <= delay <= 360 for delay in second)
    # Jitter: the delays spread over the ±20% band instead of all being the scheduled value.
    assert min(first) < 4.5 and max(first) > 5.5
    assert min(second) < 270 and max(second) > 330
    assert deliveries.retry_delay(4, None) is None


def test_retry_after_is_honoured_within_bounds(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800]
    assert deliveries.retry_delay(1, 120) == 120
    assert deliveries.retry_delay(1, 0) == 1
    assert deliveries.retry_delay(1, 10**9) == 1800


def test_retry_after_from_the_receiver_sets_the_next_attempt(webhook, httpserver):
    httpserver.expect_request("/hook").respond_with_handler(
        FlakyReceiver(webhook.secret, [429], headers={"Retry-After": "120"})
    )
    queued = send_data_alert("sandbox", "p1", "t")
    deliveries.attempt_delivery(str(queued.id))
    next_attempt_at = Delivery.objects.get().next_attempt_at
    assert next_attempt_at is not None
    due = next_attempt_at - timezone.now()
    assert timedelta(seconds=110) < due <= timedelta(seconds=120)


def test_an_attempt_not_yet_due_is_left_alone(webhook, httpserver):
    queued = send_data_alert("sandbox", "p1", "t")
    Delivery.objects.filter(pk=queued.id).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert deliveries.attempt_delivery(str(queued.id)) == "not due"
    assert len(httpserver.log) == 0


def test_a_webhook_failing_past_the_window_is_disabled_and_can_be_enabled(webhook, httpserver, api):
    httpserver.expect_request("/hook").respond_with_handler(FlakyReceiver(webhook.secret, [500] * 5))
    queued = send_data_alert("sandbox", "p1", "t")
    deliveries.attempt_delivery(str(queued.id))
    Webhook.objects.update(failing_since=timezone.now() - timedelta(days=6))
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliveries.attempt_delivery(str(queued.id))

    webhook.refresh_from_db()
    assert webhook.disabled_at is not None
    assert "No delivery has succeeded since" in webhook.disabled_reason
    listed = api.call("GET", "/webhooks").json()["data"]["items"][0]
    assert listed["disabled"] is True and listed["disabled_reason"] == webhook.disabled_reason
    # Queued attempts stop while it is disabled.
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert deliveries.attempt_delivery(str(queued.id)) == "webhook disabled"

    response = api.call("PUT", "/webhooks/sandbox/enable", {})
    assert response.status_code == 200 and response.json()["data"]["disabled"] is False
    webhook.refresh_from_db()
    assert webhook.disabled_at is None and webhook.failing_since is None


def test_a_success_clears_the_failing_clock(webhook, httpserver):
    httpserver.expect_request("/hook").respond_with_handler(FlakyReceiver(webhook.secret, [500]))
    queued = send_data_alert("sandbox", "p1", "t")
    deliveries.attempt_delivery(str(queued.id))
    assert Webhook.objects.get().failing_since is not None
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliveries.attempt_delivery(str(queued.id))
    assert Webhook.objects.get().failing_since is None


def test_a_lease_that_ran_out_is_recovered(webhook):
    queued = send_data_alert("sandbox", "p1", "t")
    Delivery.objects.filter(pk=queued.id).update(state="in_flight", leased_until=timezone.now() - timedelta(seconds=1))
    assert deliveries.recover_stalled() == 1
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.leased_until is None


def test_an_attempt_cut_off_is_logged_and_the_schedule_goes_on(webhook, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [600, 3600]
    queued = send_data_alert("sandbox", "p1", "t")
    cut_at = timezone.now() - timedelta(seconds=1)
    Delivery.objects.filter(pk=queued.id).update(state="in_flight", attempts=1, leased_until=cut_at)
    assert deliveries.recover_stalled() == 1
    log = WebhookLog.objects.get(delivery_id=queued.id)
    assert (log.attempt, log.status, log.error) == (1, "failure", deliveries.CUT_OFF)
    delivery = Delivery.objects.get()
    # The second step waits its turn (600 s, ±20%), as after any failed attempt.
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now() + timedelta(seconds=400)
    assert log.next_attempt_at == delivery.next_attempt_at

    # Cut off again on the last attempt of the schedule: given up, and logged.
    Delivery.objects.filter(pk=queued.id).update(state="in_flight", attempts=3, leased_until=cut_at)
    deliveries.recover_stalled()
    assert Delivery.objects.get().state == "failed"
    assert list(WebhookLog.objects.order_by("seq").values_list("attempt", "next_attempt_at")) == [
        (1, delivery.next_attempt_at),
        (3, None),
    ]


def test_a_test_event_cut_off_is_given_up_not_sent_by_the_worker(webhook):
    cut_at = timezone.now() - timedelta(seconds=1)
    test = Delivery.objects.create(
        environment="sandbox", type="test", event="test", attempts=1, state="in_flight", leased_until=cut_at
    )
    deliveries.recover_stalled()
    test.refresh_from_db()
    assert test.state == "failed"
    assert WebhookLog.objects.get(delivery_id=test.id).error == deliveries.CUT_OFF


def test_a_lease_still_running_is_not_touched(webhook):
    queued = send_data_alert("sandbox", "p1", "t")
    Delivery.objects.filter(pk=queued.id).update(state="in_flight", leased_until=timezone.now() + timedelta(seconds=30))
    assert deliveries.recover_stalled() == 0
    assert Delivery.objects.get().state == "in_flight"


def test_the_recover_deliveries_command(webhook, capsys):
    from django.core.management import call_command

    queued = send_data_alert("sandbox", "p1", "t")
    Delivery.objects.filter(pk=queued.id).update(state="in_flight", leased_until=timezone.now() - timedelta(seconds=1))
    call_command("recover_deliveries")
    assert "Queued 1 delivery attempt(s) again." in capsys.readouterr().out
    assert Delivery.objects.get().state == "pending"
