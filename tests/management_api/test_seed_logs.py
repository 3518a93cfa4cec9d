"""manage.py seed_logs: many realistic log rows in bulk, numbered without gaps, newest first."""

import collections
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from management_api.management.commands import seed_logs
from management_api.models import AttemptTally, Delivery, LogSequence, WebhookLog
from management_api.schemas import iso
from management_api.signing import sign


def test_500_rows_page_through_the_api_without_gaps(api):
    call_command("seed_logs", "--rows", "500", "--environment", "sandbox", "--seed", "7")

    items = []
    for offset in range(0, 600, 100):
        data = api.call("GET", "/webhooks/sandbox/logs", query=f"&offset={offset}&limit=100").json()["data"]
        assert data["pagination"]["total_items"] == 500
        items += data["items"]
    assert len(items) == 500
    assert len({item["id"] for item in items}) == 500
    created = [item["created_at"] for item in items]
    assert created == sorted(created, reverse=True)
    sequence = LogSequence.of("sandbox")
    assert (sequence.first, sequence.last) == (1, 500)
    assert sorted(WebhookLog.objects.values_list("seq", flat=True)) == list(range(1, 501))
    # Newest first by seq, and created_at grows with seq.
    seqs_in_page_order = [WebhookLog.objects.get(pk=item["id"]).seq for item in items]
    assert seqs_in_page_order == list(range(500, 0, -1))


def test_rows_look_like_real_deliveries(api):
    secret = api.create("sandbox")["secret"]
    call_command("seed_logs", "--rows", "500", "--environment", "sandbox", "--seed", "7")
    rows = list(WebhookLog.objects.order_by("seq"))

    successes = sum(row.status == "success" for row in rows)
    assert 0.75 < successes / len(rows) < 0.95
    assert {row.code for row in rows if row.status == "success"} <= {200, 201, 204}
    assert {row.code for row in rows if row.status == "failure"} <= {400, 401, 404, 410, 429, 500, 502, 503, None}
    assert {"test", "data_alert.true", "data_alert.false"} == {row.event for row in rows}
    assert 5 <= len({row.project_id for row in rows if row.project_id}) <= 20
    for row in rows:
        headers = row.request_headers
        assert headers["AutoQL-Signature"] == sign(secret, headers["AutoQL-Timestamp"], row.request_body.encode())
        assert headers["AutoQL-Delivery-Id"] == str(row.delivery_id)
        assert headers["AutoQL-Event"] == row.event
        assert abs(int(headers["AutoQL-Timestamp"]) - row.created_at.timestamp() * 1000) < 1
    by_delivery = collections.defaultdict(list)
    for row in rows:
        by_delivery[row.delivery_id].append(row.attempt)
    # Each delivery's attempts are 1, 2, ... in the order they were logged.
    assert all(attempts == list(range(1, len(attempts) + 1)) for attempts in by_delivery.values())
    assert max(max(attempts) for attempts in by_delivery.values()) > 1


def test_seeded_rows_count_in_the_metrics_totals(db):
    call_command("seed_logs", "--rows", "300", "--environment", "production", "--seed", "3")
    tallied = sum(t.attempts for t in AttemptTally.objects.filter(environment="production"))
    assert tallied == WebhookLog.objects.filter(environment="production").count() == 300


def test_a_second_run_continues_the_numbering(db):
    call_command("seed_logs", "--rows", "120", "--environment", "sandbox")
    call_command("seed_logs", "--rows", "80", "--environment", "sandbox")
    assert sorted(WebhookLog.objects.values_list("seq", flat=True)) == list(range(1, 201))
    assert LogSequence.of("sandbox").total == 200


@pytest.mark.parametrize("rows", ["0", "-5"])
def test_it_refuses_a_count_below_one(db, rows):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_logs", "--rows", rows, "--environment", "sandbox")
    assert not WebhookLog.objects.exists()


def seeded_attempts(environment: str = "sandbox") -> dict:
    by_delivery = collections.defaultdict(list)
    for row in WebhookLog.objects.filter(environment=environment).order_by("seq"):
        by_delivery[str(row.delivery_id)].append(row)
    return by_delivery


def all_deliveries(api) -> list[dict]:
    items: list[dict] = []
    while True:
        query = f"&offset={len(items)}&limit=100"
        data = api.call("GET", "/webhooks/sandbox/deliveries", query=query).json()["data"]
        items += data["items"]
        if len(items) >= data["pagination"]["total_items"]:
            assert data["pagination"]["total_is_lower_bound"] is False
            return items


# One batch is invented and stored in this process; five are invented by a child process while
# this one stores them.
@pytest.mark.parametrize("batch_size", [5000, 100], ids=["one process", "invented by a child"])
def test_the_deliveries_view_lists_the_seeded_deliveries_with_their_attempts(api, monkeypatch, batch_size):
    monkeypatch.setattr(seed_logs, "BATCH_SIZE", batch_size)
    api.create("sandbox")
    call_command("seed_logs", "--rows", "500", "--environment", "sandbox", "--seed", "7")
    by_delivery = seeded_attempts()
    assert sorted(WebhookLog.objects.values_list("seq", flat=True)) == list(range(1, 501))

    items = all_deliveries(api)
    assert len(items) == len(by_delivery) == Delivery.objects.count()
    assert {item["id"] for item in items} == set(by_delivery)
    outcomes: collections.Counter[str] = collections.Counter()
    for item in items:
        attempts = by_delivery[item["id"]]
        last = attempts[-1]
        assert item["attempts"] == len(attempts) == last.attempt
        assert (item["last_log_id"], item["last_status"], item["last_code"]) == (str(last.pk), last.status, last.code)
        assert item["last_duration_ms"] == last.duration_ms
        assert item["created_at"] == iso(attempts[0].created_at)
        assert (item["type"], item["event"], item["project_id"]) == (last.type, last.event, last.project_id)
        expected = "delivered" if last.status == "success" else "retrying" if last.next_attempt_at else "gave_up"
        assert item["outcome"] == expected
        outcomes[item["outcome"]] += 1
    # Most deliveries are delivered at once, some after retries; a few are given up.
    assert outcomes["delivered"] > 0.8 * len(items)
    assert outcomes["gave_up"] > 0
    assert sum(item["attempts"] > 1 and item["outcome"] == "delivered" for item in items) > 0
    # The delivery carries the payload its attempts signed, stored as JSON (an object, not a string).
    for delivery in Delivery.objects.all():
        assert {"event": delivery.event, "payload": delivery.payload} == json.loads(
            by_delivery[str(delivery.pk)][0].request_body
        )


def test_a_delivery_whose_retry_is_still_to_come_is_retrying(api):
    # Over the last two hours, some retries (5 s to 2 h apart) fall after now.
    before = timezone.now()
    call_command("seed_logs", "--rows", "2000", "--environment", "sandbox", "--seed", "11", "--days", "0.08")
    by_delivery = seeded_attempts()

    waiting = Delivery.objects.filter(state="pending")
    assert waiting.exists()
    for delivery in waiting:
        last = by_delivery[str(delivery.pk)][-1]
        assert last.status == "failure"
        assert delivery.next_attempt_at == last.next_attempt_at > before
        assert delivery.attempts == last.attempt
    # Every other delivery is settled, and its last attempt schedules nothing.
    for delivery in Delivery.objects.exclude(state="pending"):
        last = by_delivery[str(delivery.pk)][-1]
        assert last.next_attempt_at is None
        assert delivery.state == ("delivered" if last.status == "success" else "failed")
    retrying = [item for item in all_deliveries(api) if item["outcome"] == "retrying"]
    assert {item["id"] for item in retrying} == {str(delivery.pk) for delivery in waiting}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="VACUUM is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_seeded_tables_are_vacuumed_so_pages_come_from_the_indexes():
    call_command("seed_logs", "--rows", "300", "--environment", "sandbox", "--seed", "3")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables"
            " WHERE relname IN (%s, %s)",
            [Delivery._meta.db_table, WebhookLog._meta.db_table],
        )
        vacuumed = {name: (vacuum, analyze) for name, vacuum, analyze in cursor.fetchall()}
    assert vacuumed == {Delivery._meta.db_table: (True, True), WebhookLog._meta.db_table: (True, True)}
