"""GET /webhooks/{environment}/deliveries: one row per delivery, newest first, with its outcome and
its last attempt; the logs' filters apply, and status means the outcome."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from management_api.delivery_search import attempts_of, matching_deliveries
from management_api.log_search import LogFilter
from management_api.models import Delivery
from tests import factories

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def a_delivery(state: str, attempts: int, minutes: int, *codes: int, **fields):
    delivery = factories.delivery(state=state, attempts=attempts, created_at=T0 + timedelta(minutes=minutes), **fields)
    for number, code in enumerate(codes, start=1):
        factories.log_row(
            delivery_id=delivery.id,
            attempt=number,
            status="success" if code < 300 else "failure",
            code=code,
            duration_ms=100 * number,
            event=delivery.event,
            type=delivery.type,
            project_id=delivery.project_id,
        )
    return delivery


def page(api, query: str = "", environment: str = "sandbox"):
    return api.call("GET", f"/webhooks/{environment}/deliveries", environment=environment, query=query)


def test_it_lists_one_row_per_delivery_with_its_outcome_and_last_attempt(api):
    retried = a_delivery("delivered", 2, 1, 500, 200, project_id="p1")
    gave_up = a_delivery("failed", 3, 2, 503, 503, 502)
    waiting = a_delivery("pending", 1, 3, 500, next_attempt_at=T0 + timedelta(hours=1))
    response = page(api)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert [item["id"] for item in data["items"]] == [str(waiting.id), str(gave_up.id), str(retried.id)]
    assert data["pagination"]["total_items"] == 3
    assert data["pagination"]["total_is_lower_bound"] is False
    first = data["items"][2]
    assert first["outcome"] == "delivered"
    assert first["attempts"] == 2
    assert (first["last_status"], first["last_code"], first["last_duration_ms"]) == ("success", 200, 200)
    assert first["project_id"] == "p1"
    assert first["created_at"] == "2026-11-28T12:01:00Z"
    assert data["items"][1]["outcome"] == "gave_up"
    assert data["items"][1]["last_code"] == 502
    assert data["items"][0]["outcome"] == "retrying"
    assert data["items"][0]["next_attempt_at"] == "2026-11-28T13:00:00Z"


def test_a_waiting_delivery_of_a_disabled_webhook_is_disabled(api):
    factories.webhook(disabled_at=timezone.now(), disabled_reason="It kept failing.")
    a_delivery("pending", 1, 1, 500)
    assert page(api).json()["data"]["items"][0]["outcome"] == "disabled"


def test_a_delivery_not_attempted_yet_has_no_last_attempt(api):
    a_delivery("pending", 0, 1)
    item = page(api).json()["data"]["items"][0]
    assert (item["last_log_id"], item["last_code"], item["last_status"]) == (None, None, None)


def test_status_means_the_outcome_not_an_attempt(api):
    # A 500 whose delivery succeeded on attempt 2 is not a failed delivery.
    retried = a_delivery("delivered", 2, 1, 500, 200)
    gave_up = a_delivery("failed", 1, 2, 500)
    a_delivery("pending", 1, 3, 500)
    failures = page(api, "&status=failure").json()["data"]
    assert [item["id"] for item in failures["items"]] == [str(gave_up.id)]
    assert failures["pagination"]["total_items"] == 1
    successes = page(api, "&status=success").json()["data"]
    assert [item["id"] for item in successes["items"]] == [str(retried.id)]


def test_the_other_filters_apply_to_deliveries(api):
    wanted = a_delivery("delivered", 1, 5, 200, event="data_alert.false", project_id="p9")
    a_delivery("delivered", 1, 6, 200, event="data_alert.true", project_id="p9")
    a_delivery("delivered", 1, 7, 200, event="data_alert.false", project_id="p1")
    found = page(api, "&event=data_alert.false&project_id=p9").json()["data"]["items"]
    assert [item["id"] for item in found] == [str(wanted.id)]
    by_prefix = page(api, f"&delivery_id={wanted.id.hex[:8]}").json()["data"]["items"]
    assert [item["id"] for item in by_prefix] == [str(wanted.id)]
    in_time = page(api, "&created_after=2026-11-28T12:06:00Z&created_before=2026-11-28T12:07:00Z").json()["data"]
    assert [item["event"] for item in in_time["items"]] == ["data_alert.true"]


def test_it_pages_newest_first(api):
    made = [a_delivery("delivered", 1, minute, 200) for minute in range(5)]
    second = page(api, "&offset=2&limit=2").json()["data"]
    assert [item["id"] for item in second["items"]] == [str(made[2].id), str(made[1].id)]
    assert second["pagination"]["total_items"] == 5


def test_it_pages_from_the_oldest_end_when_asked(api):
    made = [a_delivery("delivered", 1, minute, 200) for minute in range(5)]
    oldest = page(api, "&end=oldest&offset=1&limit=2").json()["data"]
    assert [item["id"] for item in oldest["items"]] == [str(made[2].id), str(made[1].id)]
    assert oldest["pagination"]["end"] == "oldest"
    assert "end" not in page(api, "&limit=2").json()["data"]["pagination"]
    assert page(api, "&end=middle").status_code == 400


def test_it_shows_only_the_environment_of_the_key(api):
    factories.delivery(environment="production", state="delivered", attempts=1)
    assert page(api).json()["data"]["items"] == []
    assert len(page(api, environment="production").json()["data"]["items"]) == 1


def test_bad_filters_and_paging_are_a_400(api):
    for query in ("&status=maybe", "&limit=101", "&offset=-1", "&delivery_id=xyz", "&created_after=soon"):
        response = page(api, query)
        assert response.status_code == 400, query
        assert response.json()["reference_id"] == "1.1.400"


def test_it_requires_the_key(api):
    assert api.call("GET", "/webhooks/sandbox/deliveries", key="wrong").status_code == 401


def test_a_page_reads_a_fixed_number_of_queries_whatever_its_size(api):
    for minute in range(12):
        a_delivery("delivered", 2, minute, 500, 200)
    with CaptureQueriesContext(connection) as small:
        assert len(page(api, "&limit=2").json()["data"]["items"]) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(page(api, "&limit=12").json()["data"]["items"]) == 12
    assert len(large.captured_queries) == len(small.captured_queries)
    log_queries = [q["sql"] for q in large.captured_queries if "webhooklog" in q["sql"].lower()]
    # The last attempts are read by delivery id, never grouped over the log.
    assert log_queries and not any("GROUP BY" in sql.upper() for sql in log_queries)


@pytest.mark.parametrize(
    ("wanted", "index"),
    [
        (LogFilter(), "delivery_env_created"),
        (LogFilter(status="failure"), "delivery_env_state_page"),
        (LogFilter(type="test"), "delivery_env_type_page"),
        (LogFilter(event="data_alert.false"), "delivery_env_event_page"),
        (LogFilter(project_id="acme"), "delivery_env_project_page"),
    ],
)
def test_a_page_is_a_range_of_an_index_newest_first(db, wanted, index):
    # What keeps a page fast at a million deliveries: read off an index in its order, never sorted.
    page_ids = matching_deliveries("sandbox", wanted).order_by("-created_at", "-id").values_list("pk", flat=True)[:10]
    sql, params = page_ids.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A few days of deliveries, of both environments, every state, type, event and a few
            # projects, and their statistics: without them the planner's choice among the indexes
            # follows whatever an earlier test left in the statistics (seen in a full run).
            Delivery.objects.bulk_create(
                Delivery(
                    environment=("sandbox", "production")[i % 2],
                    state=("delivered", "delivered", "delivered", "failed", "pending")[i % 5],
                    type=("data_alert", "data_alert", "test")[i % 3],
                    event=("data_alert.true", "data_alert.false", "test")[i % 3],
                    project_id=f"project-{i % 7}",
                    payload={"title": "x"},
                    created_at=T0 - timedelta(minutes=7 * i),
                )
                for i in range(600)
            )
            cursor.execute("ANALYZE management_api_delivery")
            # A small table is cheaper to scan; what matters is that the index serves the order.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort Key" not in plan, plan


def test_the_last_attempts_are_ranges_of_the_delivery_index(db):
    # Ordered by seq alone, SQLite read the environment's whole (environment, seq) index for a page
    # of 10 deliveries (0.6 s at a million rows) rather than sort a few rows.
    delivery_ids = [a_delivery("delivered", 2, minute, 500, 200).id for minute in range(3)]
    sql, params = attempts_of("sandbox", delivery_ids).query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A day of history and its statistics: without them the planner's choice follows
            # whatever earlier tests left in the table's statistics (seen in a full run).
            factories.history(600, until=T0, days=1)
            cursor.execute("ANALYZE management_api_webhooklog")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "webhooklog_env_delivery_seq" in plan, plan
    if connection.vendor == "postgresql":
        # The index is searched by the page's delivery ids (= ANY), and PostgreSQL sorts the few
        # rows it finds: what matters is that it never reads the environment's other rows.
        assert "delivery_id = ANY" in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan
