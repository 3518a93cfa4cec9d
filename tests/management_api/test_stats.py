"""GET /webhooks/{environment}/stats: totals, success rate, durations and chart buckets of a window."""

from datetime import UTC, datetime, timedelta

import pytest

from management_api import stats
from management_api.models import WebhookLog

NOW = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)


def attempt(status: str, at: datetime, duration_ms: int = 100, environment: str = "sandbox", **fields) -> WebhookLog:
    values = {
        "environment": environment,
        "type": "data_alert",
        "event": "data_alert.true",
        "status": status,
        "url": "https://hooks.example.com/",
        "duration_ms": duration_ms,
        "created_at": at,
        **fields,
    }
    return WebhookLog.objects.create(**values)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(stats.timezone, "now", lambda: NOW)


def get(api, query=""):
    return api.call("GET", "/webhooks/sandbox/stats", query=query)


def test_a_day_of_attempts(api, frozen_now):
    # Written in time order, as the log is: "last" is the newest row of the log.
    attempt("success", NOW - timedelta(hours=30), 5)  # before the window
    first = attempt("failure", NOW - timedelta(hours=2, minutes=10), 300)
    attempt("success", NOW - timedelta(hours=2, minutes=5), 40, delivery_id=first.delivery_id, attempt=2)
    attempt("failure", NOW - timedelta(minutes=5), 1000)
    for minutes, duration in ((4, 50), (3, 30), (2, 20), (1, 10)):
        attempt("success", NOW - timedelta(minutes=minutes), duration)
    attempt("success", NOW - timedelta(minutes=1), 5, environment="production")

    response = get(api)

    assert response.status_code == 200
    data = response.json()["data"]
    # 7 attempts of 6 deliveries; durations sorted: 10 20 30 40 50 300 1000
    assert {key: value for key, value in data.items() if key != "buckets"} == {
        "window": "24h",
        "since": "2026-11-27T15:00:00Z",
        "bucket": "hour",
        "attempts": 7,
        "deliveries": 6,
        "successes": 5,
        "failures": 2,
        "success_rate": 0.7143,
        "p50_duration_ms": 40,
        "p95_duration_ms": 1000,
        "last_success_at": "2026-11-28T14:29:00Z",
        "last_failure_at": "2026-11-28T14:25:00Z",
    }
    buckets = data["buckets"]
    assert len(buckets) == 24
    assert buckets[0]["start"] == "2026-11-27T15:00:00Z"
    assert buckets[-1] == {"start": "2026-11-28T14:00:00Z", "successes": 4, "failures": 1}
    assert buckets[-3] == {"start": "2026-11-28T12:00:00Z", "successes": 1, "failures": 1}
    assert sum(b["successes"] + b["failures"] for b in buckets) == 7


def test_thirty_days_in_daily_buckets_and_seven_in_hourly(api, frozen_now):
    attempt("success", NOW - timedelta(days=3))
    attempt("failure", NOW - timedelta(days=20))
    data = get(api, "&window=30d").json()["data"]
    assert (data["bucket"], len(data["buckets"]), data["since"]) == ("day", 30, "2026-10-30T00:00:00Z")
    assert {
        b["start"]: (b["successes"], b["failures"]) for b in data["buckets"] if b["successes"] or b["failures"]
    } == {
        "2026-11-25T00:00:00Z": (1, 0),
        "2026-11-08T00:00:00Z": (0, 1),
    }
    data = get(api, "&window=7d").json()["data"]
    assert (data["bucket"], len(data["buckets"]), data["attempts"]) == ("hour", 168, 1)


def test_an_empty_window(api, frozen_now):
    data = get(api).json()["data"]
    assert (data["attempts"], data["success_rate"], data["p50_duration_ms"], data["last_success_at"]) == (
        0,
        None,
        None,
        None,
    )
    assert all(b["successes"] == b["failures"] == 0 for b in data["buckets"])


def test_the_stats_are_aggregates_that_never_read_whole_rows(api, frozen_now, django_assert_max_num_queries):
    for minutes in range(50):
        attempt("success" if minutes % 3 else "failure", NOW - timedelta(minutes=minutes * 7))
    # One aggregate per bucket, one of the durations, the last success and failure.
    with django_assert_max_num_queries(24 + 3 + 2) as queries:
        assert get(api).json()["data"]["attempts"] == 50
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "request_body" not in sql and "GROUP BY" in sql.upper()


@pytest.mark.parametrize(
    "window,message",
    [
        ("1h", "window: use '24h', '7d' or '30d'"),
        ("24H", "window: use '24h', '7d' or '30d'"),
        ("", "window: use '24h', '7d' or '30d'"),
        ("30", "window: use '24h', '7d' or '30d'"),
        ("%D9%A1d", "The query parameter 'window' may only contain printable ASCII characters."),
    ],
)
def test_unknown_windows_are_400(api, window, message):
    response = get(api, f"&window={window}")
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert "window" in response.json()["errors"]


def test_percentiles_are_nearest_rank():
    assert stats.percentile([(10, 19), (99, 1)], 20, 95) == 10
    assert stats.percentile([(10, 18), (99, 2)], 20, 95) == 99
    assert stats.percentile([(7, 1)], 1, 50) == 7
    assert stats.percentile([], 0, 50) is None
