"""manage.py seed_logs: many realistic log rows in bulk, numbered without gaps, newest first."""

import collections

import pytest
from django.core.management import CommandError, call_command

from management_api.models import AttemptTally, LogSequence, WebhookLog
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
