"""GET /webhooks/{environment}/logs: newest first, offset/limit, total_items."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from management_api.models import LogSequence, WebhookLog
from tests import factories


def write_logs(count: int, environment: str = "sandbox") -> list[WebhookLog]:
    return [
        WebhookLog.objects.create(
            environment=environment,
            type="data_alert",
            event="data_alert.true",
            status="success",
            code=200,
            url="https://hooks.example.com/",
            project_id=f"p{i}",
            response={"n": i},
        )
        for i in range(count)
    ]


# This implementation's additions to AutoQL's pagination: the filters it takes, and whether a
# filtered total stopped counting.
EXTRAS = {
    "total_is_lower_bound": False,
    "filters": ["status", "type", "event", "project_id", "delivery_id", "created_after", "created_before"],
}


def page(api, query="", environment="sandbox"):
    return api.call("GET", f"/webhooks/{environment}/logs", query=query, environment=environment)


def test_an_empty_log(api):
    response = page(api)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"items": [], "pagination": {"offset": 0, "limit": 10, "total_items": 0, **EXTRAS}},
        "message": "Success",
        "reference_id": "1.1.200",
    }


def test_it_returns_newest_first_ten_by_default(api):
    logs = write_logs(12)
    data = page(api).json()["data"]
    assert [row["project_id"] for row in data["items"]] == [f"p{i}" for i in range(11, 1, -1)]
    assert data["pagination"] == {"offset": 0, "limit": 10, "total_items": 12, **EXTRAS}
    row = data["items"][0]
    assert row["id"] == str(logs[11].pk)
    assert set(row) >= {
        "id",
        "environment",
        "project_id",
        "type",
        "event",
        "status",
        "code",
        "created_at",
        "url",
        "duration_ms",
        "error",
        "response",
    }
    assert row["response"] == {"n": 11}


def test_offset_and_limit_walk_every_row_once(api):
    write_logs(23)
    seen = []
    for offset in range(0, 30, 7):
        seen += [r["project_id"] for r in page(api, f"&offset={offset}&limit=7").json()["data"]["items"]]
    assert seen == [f"p{i}" for i in range(22, -1, -1)]


@pytest.mark.parametrize("limit", [1, 100])
def test_limit_edges_are_accepted(api, limit):
    write_logs(101)
    data = page(api, f"&limit={limit}").json()["data"]
    assert len(data["items"]) == limit
    assert data["pagination"]["limit"] == limit


def test_the_last_partial_page(api):
    write_logs(25)
    data = page(api, "&offset=20&limit=10").json()["data"]
    assert [r["project_id"] for r in data["items"]] == ["p4", "p3", "p2", "p1", "p0"]


def test_an_offset_past_the_end_gives_an_empty_page(api):
    write_logs(3)
    data = page(api, "&offset=3").json()["data"]
    assert data["items"] == [] and data["pagination"]["total_items"] == 3
    assert page(api, "&offset=1000000").json()["data"]["items"] == []


@pytest.mark.parametrize(
    "query,field",
    [
        ("&limit=0", "limit"),
        ("&limit=101", "limit"),
        ("&limit=-1", "limit"),
        ("&limit=abc", "limit"),
        ("&limit=1.5", "limit"),
        ("&offset=-1", "offset"),
        ("&offset=abc", "offset"),
        ("&offset=1.5", "offset"),
        ("&limit=", "limit"),
    ],
)
def test_bad_paging_is_refused(api, query, field):
    response = page(api, query)
    assert response.status_code == 400
    body = response.json()
    assert body["reference_id"] == "1.1.400"
    assert field in body["errors"]
    assert body["message"].startswith(f"{field}: ")


def test_each_environment_has_its_own_log(api):
    write_logs(2, "sandbox")
    write_logs(5, "production")
    assert page(api).json()["data"]["pagination"]["total_items"] == 2
    data = page(api, environment="production").json()["data"]
    assert data["pagination"]["total_items"] == 5
    assert {r["environment"] for r in data["items"]} == {"production"}


def captured_sql(queries) -> str:
    return " ".join(query["sql"].upper() for query in queries.captured_queries)


def test_paging_never_counts_and_walks_from_the_nearer_end(api, django_assert_max_num_queries):
    # Rows sort by time (issue 19), which the numbering alone cannot page: a page is a walk over
    # the (environment, created_at, seq) index. Unfiltered, the total is still the numbering's.
    write_logs(30)
    with django_assert_max_num_queries(3) as queries:
        data = page(api, "&offset=20&limit=5").json()["data"]
    assert [r["project_id"] for r in data["items"]] == ["p9", "p8", "p7", "p6", "p5"]
    sql = captured_sql(queries)
    assert "COUNT(" not in sql
    # 20 rows from the newest is 5 from the oldest: the walk skips 5, not 20.
    assert "OFFSET 5)" in sql and "OFFSET 20" not in sql


def test_rows_after_retention_trimmed_the_oldest_still_page(api):
    write_logs(10)
    # Retention removes the oldest rows and moves the first number on.
    WebhookLog.objects.filter(seq__lte=4).delete()
    LogSequence.objects.filter(environment="sandbox").update(first=5)
    data = page(api, "&offset=4&limit=10").json()["data"]
    assert [r["project_id"] for r in data["items"]] == ["p5", "p4"]
    assert data["pagination"]["total_items"] == 6


def test_huge_offsets_give_an_empty_page_and_never_reach_the_database_as_such(api, django_assert_max_num_queries):
    write_logs(3)
    with django_assert_max_num_queries(3) as queries:
        response = page(api, f"&offset={10**30}")
    assert response.status_code == 200
    assert response.json()["data"]["items"] == []
    # The offset is clamped to the rows there are before any query is built from it: every
    # number sent to the database fits in a 64-bit column.
    numbers = [int(n) for n in re.findall(r"\d+", captured_sql(queries))]
    assert numbers and max(numbers) < 2**63


# Rows sort by their time (issue 19, item 8).


def test_rows_sort_by_their_time_so_history_seeded_later_goes_below_a_fresh_delivery(api):
    fresh = factories.log_row(project_id="mine")
    # Seeded after it, every one older: by insertion they would all come first.
    factories.history(30, until=fresh.created_at - timedelta(minutes=1))
    items = page(api).json()["data"]["items"]
    assert items[0]["id"] == str(fresh.pk)
    times = [row["created_at"] for row in page(api, "&offset=0&limit=31").json()["data"]["items"]]
    assert times == sorted(times, reverse=True)


def test_rows_of_the_same_moment_keep_the_order_they_were_written_in(api):
    moment = timezone.now()
    first, second = (
        factories.log_row(project_id="a", created_at=moment),
        factories.log_row(project_id="b", created_at=moment),
    )
    assert [row["id"] for row in page(api).json()["data"]["items"]] == [str(second.pk), str(first.pk)]


def test_the_deep_half_is_read_from_the_oldest_end_and_gives_the_same_rows(api):
    factories.history(40, until=timezone.now())
    newest_first = [row["id"] for row in page(api, "&limit=40").json()["data"]["items"]]
    walked = []
    for offset in range(0, 40, 7):
        walked += [row["id"] for row in page(api, f"&offset={offset}&limit=7").json()["data"]["items"]]
    assert walked == newest_first


def test_end_oldest_counts_the_offset_from_the_oldest_row(api):
    logs = write_logs(12)
    data = page(api, "&end=oldest&offset=0&limit=5").json()["data"]
    # The five oldest, still listed newest first.
    assert [row["id"] for row in data["items"]] == [str(log.pk) for log in reversed(logs[:5])]
    assert data["pagination"]["end"] == "oldest"
    assert data["pagination"]["total_items"] == 12
    data = page(api, "&end=oldest&offset=10&limit=5").json()["data"]
    assert [row["id"] for row in data["items"]] == [str(logs[11].pk), str(logs[10].pk)]
    assert "end" not in page(api).json()["data"]["pagination"]


def test_an_unknown_end_is_refused(api):
    response = page(api, "&end=middle")
    assert response.status_code == 400
    assert "end" in response.json()["message"]


def test_log_numbers_are_taken_in_one_statement_once_the_environment_has_its_row(db, django_assert_num_queries):
    with transaction.atomic():
        assert LogSequence.take_next("sandbox", 3) == 3  # the environment's first: its row is made
        one_statement = connection.features.can_return_columns_from_insert
        with django_assert_num_queries(1 if one_statement else 2):
            assert LogSequence.take_next("sandbox", 2) == 5
        assert LogSequence.take_next("production") == 1
    assert (LogSequence.of("sandbox").last, LogSequence.of("production").last) == (5, 1)
