"""Real `manage.py delivery_worker` processes delivering to real receivers on 127.0.0.1."""

import collections
import json
import signal
import threading
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from werkzeug import Response

from management_api import delivery as deliveries
from management_api.alerts import send_data_alert
from management_api.models import Delivery, Webhook, WebhookLog, WorkerHeartbeat
from management_api.signing import verify
from tests.receiver import KeepAliveReceiver
from tests.wakeups import postgresql_only
from tests.workers import process_holding, start_worker, wait_for, workers

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Arrival:
    id: str
    problem: str | None
    sender: int | None = None


class CountingReceiver:
    """Verifies each delivery, answers the scripted statuses in turn, then 200.

    Given the senders' process ids, it notes which of them sent each delivery.
    """

    def __init__(self, secret, statuses=(), hold_first: threading.Event | None = None):
        self.secret, self.statuses, self.hold_first = secret, list(statuses), hold_first
        self.received: list[Arrival] = []
        self.first_arrived = threading.Event()
        self.lock = threading.Lock()
        self.senders: list[int] = []
        self.sender_of_port: dict[int, int | None] = {}

    def sender(self, port: int) -> int | None:
        # Looked up while the connection is open, once per connection (a kept-alive one carries many).
        if port not in self.sender_of_port:
            self.sender_of_port[port] = process_holding(port, self.senders)
        return self.sender_of_port[port]

    def __call__(self, request):
        body = request.get_data()
        with self.lock:
            self.received.append(
                Arrival(
                    id=request.headers["AutoQL-Delivery-Id"],
                    problem=verify(
                        self.secret, request.headers["AutoQL-Timestamp"], request.headers["AutoQL-Signature"], body
                    ),
                    sender=self.sender(int(request.environ["REMOTE_PORT"])) if self.senders else None,
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
    # The rows are the queue, and nothing else is: each due at once, held by no one.
    assert set(Delivery.objects.values_list("attempts", "leased_until")) == {(0, None)}
    assert not Delivery.objects.filter(next_attempt_at__gt=timezone.now()).exists()

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

    with workers(2, tmp_path) as processes:
        receiver.senders = [process.pid for process in processes]
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
    # Both workers took deliveries from the one queue.
    assert {arrival.sender for arrival in receiver.received} == set(receiver.senders)
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
    with workers(1, tmp_path):
        wait_for(lambda: WorkerHeartbeat.objects.exists(), 30, message="the worker to start")
        # Written straight to the table while the worker waits: nothing woke it (a lost wake-up),
        # so its next look at the rows, at most a poll interval later, finds it.
        orphan = Delivery.objects.create(
            environment="sandbox",
            type="data_alert",
            event="data_alert.true",
            payload={"title": "t"},
            next_attempt_at=timezone.now(),
        )
        wait_for(lambda: Delivery.objects.filter(state="delivered").exists(), 30, message="the orphan delivered")
    assert [r.id for r in receiver.received] == [str(orphan.id)]


def scrape_workers(client, settings) -> dict[str, float]:
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-tests")
    [family] = [f for f in text_string_to_metric_families(response.content.decode()) if f.name == "webhook_workers"]
    return {sample.labels["environment"]: sample.value for sample in family.samples}


def test_a_worker_started_with_no_options_delivers_every_environment(httpserver, tmp_path, client, settings):
    for environment in ("sandbox", "production"):
        Webhook.objects.create(environment=environment, url=httpserver.url_for(f"/{environment}"), secret="w" * 43)
        httpserver.expect_request(f"/{environment}").respond_with_data("ok")
    queued = {send_data_alert(environment, "p1", "t").id for environment in ("production", "sandbox")}

    with workers(1, tmp_path):
        wait_for(lambda: Delivery.objects.filter(state="delivered").count() == 2, 30, message="both deliveries")
        wait_for(lambda: WorkerHeartbeat.objects.exists(), 30, message="the heartbeat")
        ready = client.get("/readyz")
        serving = scrape_workers(client, settings)

    assert set(WebhookLog.objects.filter(status="success").values_list("delivery_id", flat=True)) == queued
    assert sorted(request.path for request, _ in httpserver.log) == ["/production", "/sandbox"]
    assert list(WorkerHeartbeat.objects.values_list("environments", flat=True)) == [["production", "sandbox"]]
    assert ready.status_code == 200
    assert serving == {"sandbox": 1, "production": 1}


def test_a_sandbox_worker_leaves_production_to_others_and_readyz_says_none_serves_it(
    httpserver, tmp_path, client, settings
):
    for environment in ("sandbox", "production"):
        Webhook.objects.create(environment=environment, url=httpserver.url_for(f"/{environment}"), secret="w" * 43)
        httpserver.expect_request(f"/{environment}").respond_with_data("ok")
    waiting = send_data_alert("production", "p1", "t")  # queued first: a worker for both would send it first
    send_data_alert("sandbox", "p1", "t")

    with workers(1, tmp_path, environment="sandbox"):
        wait_for(lambda: Delivery.objects.filter(state="delivered").exists(), 30, message="the sandbox delivery")
        wait_for(lambda: WorkerHeartbeat.objects.exists(), 30, message="the heartbeat")
        ready = client.get("/readyz")
        serving = scrape_workers(client, settings)

    assert [request.path for request, _ in httpserver.log] == ["/sandbox"]
    waiting.refresh_from_db()
    assert (waiting.state, waiting.attempts) == ("pending", 0)
    assert not WebhookLog.objects.filter(environment="production").exists()
    assert list(WorkerHeartbeat.objects.values_list("environments", flat=True)) == [["sandbox"]]
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "worker": "no worker serves production", "queue": "ok"}
    assert serving == {"sandbox": 1, "production": 0}


@pytest.mark.parametrize("name", ["nowhere", "sandbox,staging", "", "sandbox,"])
def test_an_unknown_environment_is_refused_by_name(name):
    with pytest.raises(CommandError, match=r"Unknown environment .*; choose from sandbox, production"):
        call_command("delivery_worker", "--environment", name)


def test_sigterm_lets_the_worker_finish_its_batch_and_leave_nothing_leased(webhook, tmp_path):
    # Each answer takes 0.5 s: the batch is still sending when the signal comes.
    slow = KeepAliveReceiver(hang_s=0.5)
    try:
        Webhook.objects.filter(pk=webhook.pk).update(url=slow.url)
        queued = [send_data_alert("sandbox", "p1", f"alert {i}") for i in range(8)]
        process = start_worker(0, tmp_path)
        try:
            wait_for(lambda: slow.received, 30, message="the first attempt")
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
        finally:
            if process.poll() is None:
                process.kill()
    finally:
        slow.close()
    sent = set(slow.received)
    assert sent  # and each of them was answered, and logged, before the worker left
    assert set(map(str, WebhookLog.objects.filter(status="success").values_list("delivery_id", flat=True))) == sent
    for delivery in Delivery.objects.filter(pk__in=[q.pk for q in queued]):
        expected = ("delivered", 1) if str(delivery.id) in sent else ("pending", 0)
        assert (delivery.state, delivery.attempts, delivery.leased_until) == (*expected, None)
    assert "Traceback" not in (tmp_path / "worker-0.log").read_text()


# A poll interval longer than every wait below: only a wake-up can bring the worker to a new delivery.
NEVER_POLLS = {"WEBHOOK_POLL_INTERVAL": "3600"}


def listener_pid() -> int | None:
    """The backend of the worker's LISTEN connection, once it listens (pg_stat_activity)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'delivery_worker test-worker-%%'"
            " AND query LIKE 'LISTEN %%'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def delivered(delivery: Delivery) -> bool:
    return Delivery.objects.filter(pk=delivery.pk, state="delivered").exists()


@postgresql_only
def test_a_queued_alert_wakes_an_idle_worker_through_notify(webhook, httpserver, tmp_path):
    receiver = CountingReceiver(webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    with workers(1, tmp_path, **NEVER_POLLS):
        wait_for(listener_pid, 30, message="the worker to listen")
        first = send_data_alert("sandbox", "p1", "first")
        wait_for(lambda: delivered(first), 30, message="the first alert")
        # The worker has looked at the rows and rests for an hour: only the NOTIFY of this commit wakes it.
        second = send_data_alert("sandbox", "p1", "second")
        wait_for(lambda: delivered(second), 30, message="the second alert")
    assert [arrival.id for arrival in receiver.received] == [str(first.id), str(second.id)]


@postgresql_only
def test_a_dropped_listen_connection_is_opened_again(webhook, httpserver, tmp_path):
    receiver = CountingReceiver(webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    with workers(1, tmp_path, **NEVER_POLLS) as [process]:
        dropped = wait_for(listener_pid, 30, message="the worker to listen")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [dropped])
        wait_for(lambda: listener_pid() not in (None, dropped), 30, message="a new LISTEN connection")
        queued = send_data_alert("sandbox", "p1", "after the drop")
        wait_for(lambda: delivered(queued), 30, message="the alert queued after the drop")
        assert process.poll() is None
    assert [arrival.id for arrival in receiver.received] == [str(queued.id)]
    assert "wake-up connection to the database failed" in (tmp_path / "worker-0.log").read_text()


def test_a_worker_has_the_garbage_collector_leave_alone_what_it_loaded_before_it_delivers(monkeypatch):
    import gc

    from management_api import worker

    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    for loop in ("deliver_forever", "recover_forever", "prune_forever", "beat_forever", "listen_forever"):
        monkeypatch.setattr(worker, loop, lambda *args, loop=loop: calls.append(loop))
    stop = threading.Event()
    stop.set()
    worker.serve(["sandbox"], "test-worker", stop)
    assert calls[:2] == ["collect", "freeze"] and "deliver_forever" in calls
