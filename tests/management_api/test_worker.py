"""Real `manage.py db_worker` processes delivering to real receivers on 127.0.0.1."""

import collections
import json
import threading
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from werkzeug import Response

from management_api import delivery as deliveries
from management_api.alerts import send_data_alert
from management_api.models import Delivery, Webhook, WebhookLog
from management_api.signing import verify
from tests.receiver import KeepAliveReceiver
from tests.workers import start_worker, wait_for, workers

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Arrival:
    id: str
    problem: str | None


class CountingReceiver:
    """Verifies each delivery, answers the scripted statuses in turn, then 200."""

    def __init__(self, secret, statuses=(), hold_first: threading.Event | None = None):
        self.secret, self.statuses, self.hold_first = secret, list(statuses), hold_first
        self.received: list[Arrival] = []
        self.first_arrived = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, request):
        body = request.get_data()
        with self.lock:
            self.received.append(
                Arrival(
                    id=request.headers["AutoQL-Delivery-Id"],
                    problem=verify(
                        self.secret, request.headers["AutoQL-Timestamp"], request.headers["AutoQL-Signature"], body
                    ),
                )
            )
            first = len(self.received) == 1
            status = self.statuses.pop(0) if self.statuses else 200
        if first:
            self.first_arrived.set()
            if self.hold_first:
                self.hold_first.wait(10)
        return Response(
            json.dumps({"message": "ok" if status == 200 else "no"}), status=status, content_type="application/json"
        )


@pytest.fixture
def webhook(httpserver):
    return Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="w" * 43)


def test_a_receiver_that_fails_twice_then_recovers(webhook, httpserver, tmp_path):
    receiver = CountingReceiver(webhook.secret, statuses=[500, 503])
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    call_command("send_data_alert", "--environment", "sandbox", "--project-id", "p1", "--title", "High Sales")
    queued = Delivery.objects.get()

    with workers(1, tmp_path, WEBHOOK_RETRY_SCHEDULE="1,1"):
        wait_for(lambda: WebhookLog.objects.filter(status="success").exists(), 30, message="the third attempt")

    rows = list(WebhookLog.objects.order_by("seq"))
    assert [(r.attempt, r.status) for r in rows] == [(1, "failure"), (2, "failure"), (3, "success")]
    assert {r.delivery_id for r in rows} == {queued.id}
    assert [r.problem for r in receiver.received] == [None] * 3
    assert Delivery.objects.get().state == "delivered"


def test_queued_deliveries_wait_untouched_while_no_worker_runs(webhook, httpserver, tmp_path):
    receiver = CountingReceiver(webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    queued = [send_data_alert("sandbox", f"p{i}", "t") for i in range(3)]
    # Queueing only writes rows: nothing was sent on the way, every attempt waits for a worker.
    assert receiver.received == []
    assert set(Delivery.objects.values_list("state", flat=True)) == {"pending"}
    # One wake-up for the environment's dispatcher, not one task per delivery: the rows are the queue.
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    with workers(1, tmp_path):
        wait_for(lambda: Delivery.objects.filter(state="delivered").count() == 3, 30, message="3 deliveries")
    assert sorted(r.id for r in receiver.received) == sorted(str(d.id) for d in queued)


def test_a_delivery_cut_off_by_sigkill_is_attempted_again_with_the_same_id(webhook, httpserver, tmp_path):
    release = threading.Event()
    receiver = CountingReceiver(webhook.secret, hold_first=release)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    queued = send_data_alert("sandbox", "p1", "t")

    killed = start_worker(0, tmp_path, WEBHOOK_DELIVERY_DEADLINE="1")
    try:
        assert receiver.first_arrived.wait(30), "the first attempt never arrived"
        killed.kill()  # SIGKILL, mid-attempt
        killed.wait(5)
    finally:
        release.set()
    assert Delivery.objects.get().state == "in_flight"
    assert not WebhookLog.objects.exists()

    with workers(1, tmp_path, WEBHOOK_DELIVERY_DEADLINE="1", WEBHOOK_RETRY_SCHEDULE="1"):
        wait_for(lambda: WebhookLog.objects.filter(status="success").exists(), 30, message="the recovered attempt")

    assert [r.id for r in receiver.received] == [str(queued.id)] * 2
    # The attempt cut off is logged before the delivery is sent again: never a resend without a row.
    cut_off, recovered = WebhookLog.objects.order_by("seq")
    assert (cut_off.delivery_id, cut_off.attempt, cut_off.status) == (queued.id, 1, "failure")
    assert cut_off.error == deliveries.CUT_OFF
    assert (recovered.delivery_id, recovered.attempt, recovered.status) == (queued.id, 2, "success")


@pytest.mark.parametrize("count", [500])
def test_two_workers_share_the_queue_and_deliver_each_event_exactly_once(webhook, httpserver, tmp_path, count):
    receiver = CountingReceiver(webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    queued = {str(send_data_alert("sandbox", f"p{i % 7}", f"alert {i}").id) for i in range(count)}

    with workers(2, tmp_path):
        wait_for(
            lambda: Delivery.objects.filter(state="delivered").count() == count,
            240,
            interval=0.5,
            message=f"{count} deliveries",
        )

    arrivals = collections.Counter(r.id for r in receiver.received)
    assert set(arrivals) == queued  # every event arrived, nothing else did
    duplicates = {delivery_id: n for delivery_id, n in arrivals.items() if n > 1}
    assert duplicates == {}, "delivered more than once"
    assert WebhookLog.objects.filter(status="success").count() == count
    assert WebhookLog.objects.count() == count
    # Both workers took tasks from the one queue.
    worker_ids = {w.rsplit("-", 1)[0] for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) for w in ids}
    assert worker_ids == {"test-worker-0", "test-worker-1"}
    for log in (tmp_path / "worker-0.log", tmp_path / "worker-1.log"):
        assert "Traceback" not in log.read_text()


def test_a_hanging_receiver_never_gets_a_delivery_twice(webhook, tmp_path):
    # Every attempt runs to its deadline (2 s here). A batch that went on sending past its lease
    # would see recovery hand its last deliveries to the other worker while it still sends them.
    hanging = KeepAliveReceiver(hang_s=5)
    try:
        Webhook.objects.filter(pk=webhook.pk).update(url=hanging.url)
        queued = {str(send_data_alert("sandbox", "p1", f"alert {i}").id) for i in range(6)}
        with workers(2, tmp_path, WEBHOOK_RETRY_SCHEDULE="3600"):
            wait_for(lambda: WebhookLog.objects.count() >= 6, 60, interval=0.5, message="6 attempts")
    finally:
        hanging.close()
    assert collections.Counter(hanging.received) == collections.Counter(queued)  # each once
    assert sorted(WebhookLog.objects.values_list("attempt", "error")) == [(1, "timed out after 2 s")] * 6
    assert set(Delivery.objects.values_list("state", "attempts")) == {("pending", 1)}


def test_a_due_delivery_with_no_wake_up_is_still_delivered(webhook, httpserver, tmp_path):
    receiver = CountingReceiver(webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    # Written straight to the table: no task was ever queued for it (a lost wake-up).
    orphan = Delivery.objects.create(
        environment="sandbox",
        type="data_alert",
        event="data_alert.true",
        payload={"title": "t"},
        next_attempt_at=timezone.now(),
    )
    assert not DBTaskResult.objects.exists()
    with workers(1, tmp_path):
        wait_for(lambda: Delivery.objects.filter(state="delivered").exists(), 30, message="the orphan delivered")
    assert [r.id for r in receiver.received] == [str(orphan.id)]
