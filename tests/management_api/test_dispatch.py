"""A worker's loop: due deliveries claimed in batches, sent over a kept-alive connection, logged
together; its rest until the next one is due; and the wake-ups that cut that rest short."""

import collections
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from werkzeug import Response

from management_api import delivery as deliveries
from management_api import worker
from management_api.alerts import send_data_alert
from management_api.models import (
    AttemptTally,
    Delivery,
    DeliveryState,
    LogSequence,
    Webhook,
    WebhookLog,
    latency_bucket,
)
from management_api.sender import close_kept_connections
from tests import factories
from tests.receiver import KeepAliveReceiver
from tests.wakeups import postgresql_only, wake_ups_heard

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


def test_a_claim_leases_the_due_deliveries_oldest_first_in_one_statement_on_postgresql(db):
    now = timezone.now()
    later = factories.delivery(next_attempt_at=now - timedelta(seconds=1))
    first = factories.delivery(next_attempt_at=now - timedelta(minutes=1))
    oldest = factories.delivery(next_attempt_at=now - timedelta(minutes=2))
    factories.delivery(next_attempt_at=now + timedelta(minutes=1))  # not due yet
    factories.delivery(environment="production", next_attempt_at=now - timedelta(minutes=3))
    factories.delivery(next_attempt_at=now - timedelta(minutes=4), state=DeliveryState.DELIVERED)
    with CaptureQueriesContext(connection) as queries:
        claimed = deliveries._claim_due("sandbox", 2)
    if connection.vendor == "postgresql":
        assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    claimed += deliveries._claim_due("sandbox", 10)
    assert [delivery.pk for delivery in claimed] == [oldest.pk, first.pk, later.pk]
    stored = {delivery.pk: delivery for delivery in Delivery.objects.filter(pk__in=[d.pk for d in claimed])}
    for delivery in claimed:
        assert (delivery.state, delivery.attempts) == (DeliveryState.IN_FLIGHT, 1)
        assert delivery.payload == {"title": "x"} and delivery.next_attempt_at is not None
        assert timezone.is_aware(delivery.next_attempt_at)
        assert delivery.leased_until is not None and delivery.leased_until > now
        kept = stored[delivery.pk]
        assert (kept.state, kept.attempts, kept.leased_until) == (delivery.state, 1, delivery.leased_until)
    assert deliveries._claim_due("sandbox", 10) == []


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


# These commit for real: PostgreSQL delivers a wake-up when the deliveries' transaction commits.
@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_queuing_many_alerts_in_one_transaction_wakes_the_workers_once():
    webhook_to("https://hooks.example.com/autoql")
    with wake_ups_heard() as heard, transaction.atomic():
        queue(20)
    assert heard == ["sandbox"]
    # Each transaction wakes them, whatever the workers are doing: a busy one may have looked at
    # the rows already.
    with wake_ups_heard() as heard:
        queue(3)
    assert heard == ["sandbox"] * 3


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_takes_its_wake_up_away_but_not_the_next_ones():
    webhook_to("https://hooks.example.com/autoql")
    with wake_ups_heard() as heard, transaction.atomic(), pytest.raises(RuntimeError), transaction.atomic():
        queue(1)
        raise RuntimeError("rolled back")
    assert heard == []
    with wake_ups_heard() as heard, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            queue(1)
            raise RuntimeError("rolled back")
        [kept] = queue(1)
    assert [str(pk) for pk in Delivery.objects.values_list("id", flat=True)] == [kept]
    assert heard == ["sandbox"]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_batch_that_hands_back_its_rest_wakes_the_other_workers_to_take_it(settings):
    settings.WEBHOOK_DISPATCH_BATCH = 10
    settings.WEBHOOK_DELIVERY_DEADLINE = deliveries.BATCH_SECONDS + 3
    slow = KeepAliveReceiver(hang_s=deliveries.BATCH_SECONDS + 0.5)
    try:
        webhook_to(slow.url)
        queue(3)
        with wake_ups_heard() as heard:
            batch = deliveries._claim_due("sandbox", 10)
            assert deliveries._attempt_batch(Webhook.objects.get(), batch) == 1
    finally:
        slow.close()
    assert heard == ["sandbox"]  # the two handed back are due at once, for any idle worker


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_batch_that_sends_all_it_claimed_wakes_no_one(settings):
    receiver = KeepAliveReceiver()
    try:
        webhook_to(receiver.url)
        queue(3)
        with wake_ups_heard() as heard:
            assert deliveries.deliver_due("sandbox") == 3
    finally:
        receiver.close()
    assert heard == []


def test_after_a_failure_the_loop_rests_until_the_retry_is_due(db, settings, httpserver):
    settings.WEBHOOK_POLL_INTERVAL = 3600
    webhook_to(httpserver.url_for("/hook"))
    httpserver.expect_request("/hook").respond_with_data("no", status=503)
    queue(1)
    before = timezone.now()
    rest = worker.rest_after_delivering("sandbox", threading.Event())
    after = timezone.now()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at is not None
    assert (
        (delivery.next_attempt_at - after).total_seconds()
        <= rest
        <= (delivery.next_attempt_at - before).total_seconds()
    )


def test_a_due_delivery_with_no_wake_up_is_found_on_the_next_turn(db, receiver):
    webhook_to(receiver.url)
    [queued] = queue(1)  # in the test's transaction: its wake-up is never committed
    worker.rest_after_delivering("sandbox", threading.Event())
    assert receiver.received == [queued]
    assert Delivery.objects.get().state == "delivered"


def test_an_idle_turn_is_one_query_and_rests_a_poll_interval_at_most(db, settings, django_assert_num_queries):
    settings.WEBHOOK_POLL_INTERVAL = 0.25
    webhook_to("https://hooks.example.com/autoql")
    with django_assert_num_queries(1):
        assert worker.rest_after_delivering("sandbox", threading.Event()) == 0.25
    # A retry an hour away: the loop still looks again after one interval.
    Delivery.objects.create(
        environment="sandbox",
        type="data_alert",
        event="data_alert.true",
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    with django_assert_num_queries(1):
        assert worker.rest_after_delivering("sandbox", threading.Event()) == 0.25


def test_a_woken_turn_claims_without_asking_first_and_asks_once_for_its_rest(db, settings, receiver, monkeypatch):
    settings.WEBHOOK_POLL_INTERVAL = 0.25
    webhook_to(receiver.url)
    [queued] = queue(1)
    asked: list[str] = []
    next_due = deliveries.next_due

    def asking(environment: str):
        asked.append(environment)
        return next_due(environment)

    monkeypatch.setattr(worker, "next_due", asking)
    assert worker.rest_after_delivering("sandbox", threading.Event(), woken=True) == 0.25
    assert receiver.received == [queued] and asked == ["sandbox"]
    # Woken for nothing (another worker took it): one claim that finds none, and the rest.
    assert worker.rest_after_delivering("sandbox", threading.Event(), woken=True) == 0.25
    assert asked == ["sandbox", "sandbox"] and receiver.received == [queued]


def test_a_turn_woken_again_while_it_delivered_rests_not_at_all_and_asks_nothing(db, settings, receiver, monkeypatch):
    settings.WEBHOOK_POLL_INTERVAL = 0.25
    webhook_to(receiver.url)
    [queued] = queue(1)
    asked: list[str] = []
    wake_up = threading.Event()
    send = deliveries._send_guarded

    def sending(webhook, delivery, keep_alive=False):
        wake_up.set()  # another alert queued while this one is sent
        return send(webhook, delivery, keep_alive=keep_alive)

    monkeypatch.setattr(deliveries, "_send_guarded", sending)
    monkeypatch.setattr(worker, "next_due", lambda environment: asked.append(environment))
    assert worker.rest_after_delivering("sandbox", threading.Event(), woken=True, wake_up=wake_up) == 0.0
    assert receiver.received == [queued] and asked == []
    # Not woken again: it asks when the next is due, as before.
    wake_up.clear()
    assert worker.rest_after_delivering("sandbox", threading.Event(), woken=True, wake_up=wake_up) == 0.25
    assert asked == ["sandbox"]


def test_a_short_batch_ends_the_drain_where_wake_ups_are_sent(db, settings, receiver, monkeypatch):
    settings.WEBHOOK_DISPATCH_BATCH = 10
    webhook_to(receiver.url)
    queue(3)
    claims: list[int] = []
    claim = deliveries._claim_due

    def claiming(environment: str, size: int):
        claimed = claim(environment, size)
        claims.append(len(claimed))
        return claimed

    monkeypatch.setattr(deliveries, "_claim_due", claiming)
    assert deliveries.deliver_due("sandbox") == 3
    # PostgreSQL announces what is queued since, so a batch of 3 out of 10 leaves nothing to claim;
    # SQLite announces nothing, so the loop claims until it finds none.
    assert claims == ([3] if connection.vendor == "postgresql" else [3, 0])


def test_a_success_clears_the_failing_clock_another_worker_started_while_it_was_sent(db, receiver, monkeypatch):
    webhook_to(receiver.url)
    queue(1)
    send = deliveries._send_guarded

    def sending(webhook, delivery, keep_alive=False):
        # The webhook was read healthy before the batch was sent; meanwhile another worker's batch
        # ends on a failure and starts the clock.
        Webhook.objects.filter(environment="sandbox").update(failing_since=timezone.now())
        return send(webhook, delivery, keep_alive=keep_alive)

    monkeypatch.setattr(deliveries, "_send_guarded", sending)
    assert deliveries.deliver_due("sandbox") == 1
    assert Webhook.objects.get(environment="sandbox").failing_since is None


def test_a_worker_told_to_stop_finishes_its_batch_and_claims_no_other(db, settings, httpserver):
    settings.WEBHOOK_DISPATCH_BATCH = 2
    stop = threading.Event()

    def stop_at_the_first_request(request):
        stop.set()  # as SIGTERM does, mid-batch
        return Response("ok")

    webhook_to(httpserver.url_for("/hook"))
    httpserver.expect_request("/hook").respond_with_handler(stop_at_the_first_request)
    queue(5)
    assert deliveries.deliver_due("sandbox", stop) == 2
    states = collections.Counter(Delivery.objects.values_list("state", "attempts", "leased_until"))
    assert states == {("delivered", 1, None): 2, ("pending", 0, None): 3}
    assert WebhookLog.objects.count() == 2


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
