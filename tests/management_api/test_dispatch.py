"""The dispatcher: due deliveries claimed in batches, sent over a kept-alive connection, logged together."""

import collections
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from management_api import delivery as deliveries
from management_api.alerts import send_data_alert
from management_api.models import AttemptTally, Delivery, LogSequence, Webhook, WebhookLog, latency_bucket
from management_api.sender import close_kept_connections
from tests.receiver import KeepAliveReceiver

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture(autouse=True)
def fresh_connections() -> Iterator[None]:
    # Kept-alive connections belong to the thread, which runs every test: start and end without any.
    close_kept_connections()
    yield
    close_kept_connections()


@pytest.fixture
def receiver() -> Iterator[KeepAliveReceiver]:
    server = KeepAliveReceiver()
    yield server
    server.close()


def webhook_to(url: str) -> Webhook:
    return Webhook.objects.create(environment="sandbox", url=url, secret="s" * 43)


def queue(count: int) -> list[str]:
    return [str(send_data_alert("sandbox", f"p{i % 3}", f"alert {i}").id) for i in range(count)]


def ready_wake_ups(environment: str = "sandbox") -> int:
    return DBTaskResult.objects.filter(
        status="READY", task_path="management_api.delivery.dispatch", queue_name=environment
    ).count()


def test_one_dispatcher_delivers_every_due_alert_once_in_batches(db, settings, receiver):
    settings.WEBHOOK_DISPATCH_BATCH = 10
    webhook_to(receiver.url)
    queued = queue(25)

    assert deliveries.deliver_due("sandbox") == 25

    assert collections.Counter(receiver.received) == collections.Counter(queued)
    assert set(Delivery.objects.values_list("state", "attempts")) == {("delivered", 1)}
    logs = list(WebhookLog.objects.order_by("seq"))
    assert [log.seq for log in logs] == list(range(1, 26))  # numbered without a gap
    assert sorted(str(log.delivery_id) for log in logs) == sorted(queued)
    assert {(log.attempt, log.status, log.code, log.url) for log in logs} == {(1, "success", 200, receiver.url)}
    assert [log.response for log in logs] == [{"received": True}] * 25
    sequence = LogSequence.of("sandbox")
    assert (sequence.first, sequence.last) == (1, 25)
    assert sum(AttemptTally.objects.filter(status="success").values_list("attempts", flat=True)) == 25


def test_a_batch_costs_a_bounded_number_of_queries_whatever_its_size(
    db, settings, receiver, monkeypatch, django_assert_max_num_queries
):
    settings.WEBHOOK_DISPATCH_BATCH = 40
    # However slowly a loaded machine sends, the 40 stay one batch.
    monkeypatch.setattr(deliveries, "BATCH_SECONDS", 3600.0)
    webhook_to(receiver.url)
    queue(40)
    with CaptureQueriesContext(connection) as queries:
        assert deliveries.deliver_due("sandbox") == 40
    logs = list(WebhookLog.objects.all())
    assert len(logs) == 40
    # One batch of 40 and the empty claim that ends the drain: about 25 queries, plus up to 4 for
    # each latency bucket of the metrics the attempts fall in, however many deliveries there are.
    buckets = {latency_bucket(log.duration_ms) for log in logs}
    assert len(queries) <= 25 + 4 * len(buckets), [q["sql"] for q in queries.captured_queries]


def test_many_deliveries_to_one_receiver_share_one_connection(db, settings, receiver):
    settings.WEBHOOK_DISPATCH_BATCH = 7
    webhook_to(receiver.url)
    queue(30)
    deliveries.deliver_due("sandbox")
    assert len(receiver.received) == 30
    assert receiver.connections == 1


def test_a_receiver_that_closes_every_connection_still_gets_every_delivery(db):
    server = KeepAliveReceiver(close_each=True)
    try:
        webhook_to(server.url)
        queued = queue(12)
        assert deliveries.deliver_due("sandbox") == 12
    finally:
        server.close()
    assert sorted(server.received) == sorted(queued)
    assert server.connections == 12
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_a_failed_attempt_closes_the_kept_connection(db, httpserver):
    webhook_to(httpserver.url_for("/hook"))
    httpserver.expect_ordered_request("/hook").respond_with_data("no", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=200)
    first, second = queue(2)
    assert deliveries.attempt_delivery(first) == "pending"
    assert deliveries.attempt_delivery(second) == "delivered"
    # Werkzeug's server notes each connection's client port: a new connection after the failure.
    ports = {request.environ["REMOTE_PORT"] for request, _ in httpserver.log}
    assert len(ports) == 2


# These commit for real: a wake-up is queued once the deliveries' transaction commits.
@pytest.mark.django_db(transaction=True)
def test_queuing_many_alerts_leaves_one_wake_up():
    webhook_to("https://hooks.example.com/autoql")
    with transaction.atomic():
        queue(20)
    assert ready_wake_ups() == 1
    queue(3)  # three more transactions find it waiting
    assert ready_wake_ups() == 1
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_running_wake_up_does_not_count():
    webhook_to("https://hooks.example.com/autoql")
    queue(1)
    # Claimed by a worker: it may have looked at the rows already, so a new alert needs its own.
    DBTaskResult.objects.update(status="RUNNING")
    queue(1)
    assert ready_wake_ups() == 1
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_takes_its_wake_up_away_but_not_the_next_ones():
    webhook_to("https://hooks.example.com/autoql")
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            queue(1)
            raise RuntimeError("rolled back")
        [kept] = queue(1)
    assert [str(pk) for pk in Delivery.objects.values_list("id", flat=True)] == [kept]
    assert ready_wake_ups() == 1


def test_a_full_batch_wakes_another_worker_to_join_in(db, settings, receiver):
    settings.WEBHOOK_DISPATCH_BATCH = 5
    webhook_to(receiver.url)
    queue(12)  # in the test's transaction: its wake-ups are never committed, so none exist
    assert ready_wake_ups() == 0
    deliveries.deliver_due("sandbox")
    assert ready_wake_ups() == 1  # left by the first full batch for idle workers


def test_a_batch_smaller_than_the_limit_wakes_no_one(db, settings, receiver):
    settings.WEBHOOK_DISPATCH_BATCH = 5
    webhook_to(receiver.url)
    queue(3)
    deliveries.deliver_due("sandbox")
    assert ready_wake_ups() == 0


def test_a_retry_leaves_a_wake_up_for_when_it_is_due(db, httpserver):
    webhook_to(httpserver.url_for("/hook"))
    httpserver.expect_request("/hook").respond_with_data("no", status=503)
    queue(1)
    deliveries.deliver_due("sandbox")
    delivery = Delivery.objects.get()
    [wake_up] = DBTaskResult.objects.filter(status="READY")
    assert delivery.state == "pending"
    assert wake_up.run_after == delivery.next_attempt_at


def test_recovery_wakes_a_dispatcher_for_a_due_delivery_that_has_none(db):
    webhook_to("https://hooks.example.com/autoql")
    queue(1)  # its wake-up is never committed
    assert not DBTaskResult.objects.exists()
    assert deliveries.recover_stalled() == 0  # nothing was cut off ...
    assert ready_wake_ups() == 1  # ... but the due delivery has a wake-up now
    deliveries.recover_stalled()
    assert ready_wake_ups() == 1


def test_a_slow_receiver_sends_the_rest_of_the_batch_back_unattempted(db, settings):
    settings.WEBHOOK_DISPATCH_BATCH = 10
    settings.WEBHOOK_DELIVERY_DEADLINE = deliveries.BATCH_SECONDS + 3
    slow = KeepAliveReceiver(hang_s=deliveries.BATCH_SECONDS + 0.5)  # slow, but within its deadline
    try:
        webhook_to(slow.url)
        queue(3)
        batch = deliveries._claim_due("sandbox", 10)
        assert deliveries._attempt_batch(Webhook.objects.get(), batch) == 1
    finally:
        slow.close()
    # The first attempt took longer than BATCH_SECONDS: the other two were handed back, never tried.
    assert len(slow.received) == 1
    states = collections.Counter(Delivery.objects.values_list("state", "attempts", "leased_until"))
    assert states == {("pending", 0, None): 2, ("delivered", 1, None): 1}
    assert WebhookLog.objects.count() == 1
