"""Filters on GET /webhooks/{environment}/logs: what each one matches, its validation, the capped total."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from management_api import log_search
from management_api.api import api as ninja_api
from management_api.models import WebhookLog
from tests import factories

FILTERS = ["status", "type", "event", "project_id", "delivery_id", "created_after", "created_before"]
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def log(name: str, **fields) -> WebhookLog:
    values = {
        "environment": "sandbox",
        "type": "data_alert",
        "event": "data_alert.true",
        "status": "success",
        "url": "https://hooks.example.com/",
        "project_id": name,
        "created_at": T0,
        **fields,
    }
    return WebhookLog.objects.create(**values)


def names(api, query: str, environment: str = "sandbox") -> list[str]:
    response = api.call("GET", f"/webhooks/{environment}/logs", query=query, environment=environment)
    assert response.status_code == 200, response.content
    return [row["project_id"] for row in response.json()["data"]["items"]]


def pagination(api, query: str) -> dict:
    return api.call("GET", "/webhooks/sandbox/logs", query=query).json()["data"]["pagination"]


def test_status_type_event_and_project_filter_exactly(api):
    log("a", status="success")
    log("b", status="failure")
    log("c", status="failure", type="test", event="test")
    log("d", event="data_alert.false")
    log("a-2", project_id="a-2")
    assert names(api, "&status=failure") == ["c", "b"]
    assert names(api, "&type=test") == ["c"]
    assert names(api, "&event=data_alert.false") == ["d"]
    assert names(api, "&project_id=a") == ["a"]
    assert names(api, "&status=failure&type=data_alert") == ["b"]


def test_filters_never_cross_environments(api):
    log("here", status="failure")
    log("there", status="failure", environment="production")
    assert names(api, "&status=failure") == ["here"]
    assert names(api, "&status=failure", environment="production") == ["there"]


def test_a_delivery_id_matches_whole_or_by_a_prefix_of_8_or_more(api):
    wanted = uuid.UUID("0123abcd-0000-4000-8000-000000000001")
    log("first", delivery_id=wanted)
    log("second", delivery_id=wanted, attempt=2)
    log("neighbour", delivery_id=uuid.UUID("0123abce-0000-4000-8000-000000000001"))
    log("other", delivery_id=uuid.UUID("ffffffff-0000-4000-8000-000000000001"))
    assert names(api, f"&delivery_id={wanted}") == ["second", "first"]
    assert names(api, f"&delivery_id={wanted.hex.upper()}") == ["second", "first"]
    assert names(api, "&delivery_id=0123abcd") == ["second", "first"]
    assert names(api, "&delivery_id=0123abcd-0000") == ["second", "first"]
    assert names(api, "&delivery_id=0123abce") == ["neighbour"]
    assert names(api, "&delivery_id=0123abcf") == []


def test_created_after_and_before_take_iso_times_and_naive_means_utc(api):
    for hour in range(5):
        log(f"h{hour}", created_at=T0 + timedelta(hours=hour))
    assert names(api, "&created_after=2026-11-28T14:00:00Z") == ["h4", "h3", "h2"]
    assert names(api, "&created_after=2026-11-28T14:00:00") == ["h4", "h3", "h2"]
    assert names(api, "&created_before=2026-11-28T14:00:00Z") == ["h1", "h0"]
    assert names(api, f"&created_after={quote('2026-11-28T15:00:00+02:00')}") == ["h4", "h3", "h2", "h1"]
    assert names(api, "&created_after=2026-11-28T13:00:00Z&created_before=2026-11-28T15:00:00Z") == ["h2", "h1"]
    assert names(api, "&created_after=2026-11-29") == []


def test_empty_values_are_no_filter(api):
    log("a", status="failure")
    log("b")
    assert names(api, "&status=&type=&created_after=") == ["b", "a"]


def test_filtered_pages_walk_every_match_once_with_an_exact_total(api):
    for i in range(25):
        log(f"p{i}", status="failure" if i % 2 else "success")
    seen: list[str] = []
    for offset in range(0, 20, 5):
        seen += names(api, f"&status=failure&offset={offset}&limit=5")
    assert seen == [f"p{i}" for i in range(23, 0, -2)]
    assert pagination(api, "&status=failure") == {
        "offset": 0,
        "limit": 10,
        "total_items": 12,
        "total_is_lower_bound": False,
        "filters": FILTERS,
    }
    assert names(api, f"&status=failure&offset={10**30}") == []


def test_the_filtered_total_stops_counting_at_the_cap(api, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(log_search, "COUNT_CAP", 5)
    for i in range(8):
        log(f"p{i}", status="failure")
    log("other")
    with django_assert_max_num_queries(6) as queries:
        page = pagination(api, "&status=failure")
    assert (page["total_items"], page["total_is_lower_bound"]) == (6, True)
    assert any("LIMIT 6" in q["sql"].upper() for q in queries.captured_queries)
    page = pagination(api, "&status=success")
    assert (page["total_items"], page["total_is_lower_bound"]) == (1, False)


def test_the_count_goes_on_past_the_offset_so_a_deep_page_knows_there_is_more(api, monkeypatch):
    monkeypatch.setattr(log_search, "COUNT_CAP", 5)
    for i in range(20):
        log(f"p{i}", status="failure")
    # At offset 10 it counts up to 10 + 5 rows and one more: there are at least 16.
    page = pagination(api, "&status=failure&offset=10&limit=5")
    assert (page["total_items"], page["total_is_lower_bound"]) == (16, True)
    # Near the end the count reaches every row and is exact again.
    page = pagination(api, "&status=failure&offset=15&limit=5")
    assert (page["total_items"], page["total_is_lower_bound"]) == (20, False)


def test_under_a_capped_count_the_oldest_matches_are_reached_from_the_oldest_end(api, monkeypatch):
    monkeypatch.setattr(log_search, "COUNT_CAP", 5)
    for i in range(20):
        log(f"p{i}", status="failure" if i % 2 else "success")
    assert pagination(api, "&status=success")["total_is_lower_bound"] is True
    assert names(api, "&status=success&end=oldest&offset=0&limit=3") == ["p4", "p2", "p0"]
    assert names(api, "&status=success&end=oldest&offset=3&limit=3") == ["p10", "p8", "p6"]
    assert pagination(api, "&status=success&end=oldest")["end"] == "oldest"


def test_filtered_rows_sort_by_their_time_not_their_insertion(api):
    log("late", status="failure", created_at=T0)
    log("early", status="failure", created_at=T0 - timedelta(hours=1))
    log("middle", status="failure", created_at=T0 - timedelta(minutes=30))
    assert names(api, "&status=failure") == ["late", "middle", "early"]


def test_a_filtered_page_reads_seq_numbers_off_an_index_then_the_rows(api, django_assert_max_num_queries):
    for i in range(30):
        log(f"p{i}", status="failure")
    with django_assert_max_num_queries(6) as queries:
        assert names(api, "&status=failure&offset=20&limit=5") == ["p9", "p8", "p7", "p6", "p5"]
    sql = [q["sql"] for q in queries.captured_queries]
    # The offset is taken over seq numbers alone; the wide rows are read only for the page itself.
    offset_query = next(s for s in sql if "OFFSET" in s.upper())
    # The walk is the subquery that picks the page's seq numbers; the outer query reads the rows.
    walk = offset_query[offset_query.index("(SELECT") :]
    assert "OFFSET" in walk.upper()
    assert "request_body" not in walk


@pytest.mark.django_db
def test_one_projects_failures_in_a_window_are_counted_from_one_index_range():
    for i in range(3):
        log("acme", status="failure", created_at=T0 - timedelta(days=i))
    log("acme", status="success")
    log("other", status="failure")
    # A day of history, the project's and others' (mostly successes), so that a planner with
    # statistics sees both the project and the status narrow the range (PostgreSQL: ANALYZE below).
    # The project's successes fill the window itself: there only the status tells the one row
    # apart, so an index without it would read hundreds (in a full run, whatever earlier tests left
    # in the table's statistics made a planner take the project-and-time index when they did not).
    factories.history(600, until=T0, days=1, project_id="acme", status="success")
    factories.history(600, until=T0 - timedelta(days=1), days=1)
    window = log_search.LogFilter(
        status="failure", project_id="acme", created_after=T0 - timedelta(days=1), created_before=T0
    )
    counted = log_search.matching_logs("sandbox", window).values("seq")
    assert counted.count() == 1
    sql, params = counted.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tiny table is read whole by choice; what matters is that the index serves the filter.
            cursor.execute("SET LOCAL enable_seqscan = off")
            # Without statistics the planner cannot tell the status apart and may take the
            # (environment, project_id, created_at, seq) index that paging by project needs.
            cursor.execute("ANALYZE management_api_webhooklog")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    # Every condition is part of the index range, and the count never reads the wide rows.
    assert "webhooklog_env_project_status" in plan
    assert ("Index Only Scan" if connection.vendor == "postgresql" else "COVERING INDEX") in plan


@pytest.mark.parametrize(
    "query,field,message",
    [
        ("&status=ok", "status", "status: use 'success' or 'failure'"),
        ("&status=SUCCESS", "status", "status: use 'success' or 'failure'"),
        ("&type=alert", "type", "type: use 'test' or 'data_alert'"),
        ("&event=" + "e" * 101, "event", "event: use at most 100 characters"),
        ("&event=a%00b", "event", "The query parameter 'event' may only contain printable ASCII characters."),
        ("&project_id=" + "p" * 201, "project_id", "project_id: use at most 200 characters"),
        ("&delivery_id=0123abc", "delivery_id", "delivery_id: use a delivery id, or its first 8 or more hex digits"),
        ("&delivery_id=0123abcg", "delivery_id", "delivery_id: use a delivery id, or its first 8 or more hex digits"),
        (
            "&delivery_id=" + "a" * 33,
            "delivery_id",
            "delivery_id: use a delivery id, or its first 8 or more hex digits",
        ),
        ("&delivery_id=" + "%D9%A1" * 8, "delivery_id", "The query parameter 'delivery_id' may only contain printable"),
        ("&created_after=yesterday", "created_after", "created_after: use an ISO 8601 time, e.g. 2026-11-28T14:00:00Z"),
        ("&created_before=2026-13-01", "created_before", "created_before: use an ISO 8601 time"),
        ("&created_after=0001-01-01T00:00:00%2B01:00", "created_after", "created_after: use an ISO 8601 time"),
        ("&created_before=%ED%A0%80", "created_before", "The query parameter 'created_before' may only contain"),
        ("&created_before=2026-11-28T14:00:00%2B99:00", "created_before", "created_before: use an ISO 8601 time"),
    ],
)
def test_bad_filters_are_refused_and_say_what_is_allowed(api, query, field, message):
    log("a")
    response = api.call("GET", "/webhooks/sandbox/logs", query=query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["reference_id"] == "1.1.400"
    assert field in body["errors"]
    assert body["message"].startswith(message)


def test_the_openapi_schema_lists_the_filters(api):
    paths = ninja_api.get_openapi_schema()["paths"]
    operation = paths["/autoql/management/api/v1/notifications/webhooks/{environment}/logs"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= set(FILTERS) | {"offset", "limit", "key"}


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [(), ("id", "status")])
def test_a_pages_rows_are_read_by_their_numbers_and_put_in_time_order_here(fields):
    # Asked to order the page itself, SQLite walked the environment's whole time index (150 ms at a
    # million rows): the page is read by its numbers, unordered, and sorted in Python.
    older = log("acme", created_at=T0 - timedelta(hours=1))
    newer = log("acme", created_at=T0)
    oldest_written_last = log("acme", created_at=T0 - timedelta(hours=2))
    with CaptureQueriesContext(connection) as queries:
        page = log_search.log_page("sandbox", log_search.LogFilter(), offset=0, limit=10, fields=fields)
    rows = [row["id"] if fields else row.id for row in page.rows]
    assert rows == [newer.id, older.id, oldest_written_last.id]
    if fields:
        assert all(set(row) == set(fields) for row in page.rows)
    (read,) = [q["sql"] for q in queries.captured_queries if '"seq" IN (SELECT' in q["sql"]]
    assert "ORDER BY" not in read.rsplit(")", 1)[1]
