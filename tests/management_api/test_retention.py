"""Retention: the oldest log rows, finished deliveries and old heartbeats go; paging stays exact."""

from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from management_api.models import Delivery, DeliveryState, LogSequence, WebhookLog, WorkerHeartbeat
from management_api.retention import prune
from tests.workers import wait_for, workers


def write_logs(ages_in_days: Sequence[float], environment: str = "sandbox") -> list[WebhookLog]:
    """One row per age, oldest first, as they would have been written."""
    now = timezone.now()
    return [
        WebhookLog.objects.create(
            environment=environment,
            type="data_alert",
            event="data_alert.true",
            status="success",
            code=200,
            url="https://hooks.example.com/",
            project_id=f"p{index}",
            created_at=now - timedelta(days=age),
        )
        for index, age in enumerate(ages_in_days)
    ]


def logs_page(api, offset: int, limit: int) -> dict:
    return api.call("GET", "/webhooks/sandbox/logs", query=f"&offset={offset}&limit={limit}").json()["data"]


def test_rows_past_the_limit_go_and_paging_stays_exact(api, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 90
    write_logs([120 - i for i in range(23)] + [30 - i for i in range(12)])

    pruned = prune(batch_size=5)

    assert pruned.logs == 23
    kept = list(WebhookLog.objects.order_by("seq").values_list("project_id", flat=True))
    assert kept == [f"p{i}" for i in range(23, 35)]
    assert logs_page(api, 0, 10)["pagination"]["total_items"] == 12 == WebhookLog.objects.count()
    last_page = logs_page(api, 10, 10)
    assert [item["project_id"] for item in last_page["items"]] == ["p24", "p23"]
    sequence = LogSequence.of("sandbox")
    assert (sequence.first, sequence.last) == (24, 35)


def test_other_environments_and_new_rows_are_untouched(db, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 7
    write_logs([10, 1], "sandbox")
    write_logs([3, 2, 1], "production")
    prune()
    assert WebhookLog.objects.filter(environment="sandbox").count() == 1
    assert WebhookLog.objects.filter(environment="production").count() == 3
    assert LogSequence.of("production").total == 3


def test_an_old_row_behind_a_younger_one_waits_so_the_numbering_has_no_hole(db, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 90
    write_logs([100, 50, 100, 10])
    assert prune().logs == 1
    assert list(WebhookLog.objects.order_by("seq").values_list("seq", flat=True)) == [2, 3, 4]
    assert LogSequence.of("sandbox").total == 3


def test_a_second_pass_has_nothing_to_do(db, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 90
    write_logs([100, 100, 1])
    assert prune().logs == 2
    assert prune().logs == 0
    assert WebhookLog.objects.count() == 1 == LogSequence.of("sandbox").total


def test_heartbeats_of_workers_gone_a_day_go(db):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="gone", seen_at=now - timedelta(days=1, minutes=1))
    WorkerHeartbeat.objects.create(worker_id="quiet", seen_at=now - timedelta(hours=23), environments=["sandbox"])
    prune(now)
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["quiet"]


def test_finished_deliveries_past_the_log_limit_go_and_pending_ones_stay(db, settings):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 90
    long_ago = timezone.now() - timedelta(days=100)
    for state in (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.PENDING):
        Delivery.objects.create(environment="sandbox", type="data_alert", event="data_alert.true", state=state)
    # updated_at is auto_now: age them by a queryset update, which leaves it alone.
    Delivery.objects.update(updated_at=long_ago)
    Delivery.objects.create(environment="sandbox", type="data_alert", event="data_alert.true", state="delivered")
    assert prune().deliveries == 2
    assert sorted(Delivery.objects.values_list("state", flat=True)) == ["delivered", "pending"]


def test_prune_logs_runs_one_pass(db, settings, capsys):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 90
    write_logs([100, 95, 1])
    call_command("prune_logs")
    assert "Removed 2 log row(s)" in capsys.readouterr().out
    assert WebhookLog.objects.count() == 1 == LogSequence.of("sandbox").total


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_prunes_by_itself_again_and_again(tmp_path):
    with workers(1, log_dir=tmp_path, WEBHOOK_RETENTION_INTERVAL="0.3", WEBHOOK_LOG_RETENTION_DAYS="90"):
        write_logs([200, 150])
        wait_for(lambda: LogSequence.of("sandbox").first == 3, timeout=30, message="the first old rows to go")
        # Rows written after that pass are caught by a later one, with no restart.
        write_logs([120, 100, 1])
        wait_for(lambda: LogSequence.of("sandbox").first == 5, timeout=30, message="the later old rows to go")
        assert list(WebhookLog.objects.values_list("seq", flat=True)) == [5]
        assert LogSequence.of("sandbox").total == 1
        assert WorkerHeartbeat.objects.exists()
