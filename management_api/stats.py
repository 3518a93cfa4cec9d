"""Delivery statistics of an environment over a recent window, for the logs page's chart.

Everything comes from one range of WebhookLog's (environment, created_at, status, duration_ms,
delivery_id, seq) index: the databases answer from the index alone, never reading the wide rows
(bodies, headers), so a window of a million attempts is a few aggregate queries.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import CharField, Count, Func
from django.utils import timezone

from management_api.models import LogStatus, WebhookLog


@dataclass(frozen=True)
class Window:
    name: str
    bucket: str  # "hour" or "day"
    buckets: int

    @property
    def step(self) -> timedelta:
        return timedelta(hours=1) if self.bucket == "hour" else timedelta(days=1)


WINDOWS = {
    "24h": Window("24h", "hour", 24),
    "7d": Window("7d", "hour", 24 * 7),
    "30d": Window("30d", "day", 30),
}


class BucketKey(Func):
    """The UTC hour or day a time falls in, as text ("2026-11-28T14" or "2026-11-28").

    Computed by the database itself: Django's TruncHour on SQLite calls back into Python once
    per row.
    """

    output_field = CharField()

    def __init__(self, expression: Any, bucket: str) -> None:
        super().__init__(expression)
        self.bucket = bucket

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        pattern = "%Y-%m-%dT%H" if self.bucket == "hour" else "%Y-%m-%d"
        return f"strftime(%s, {sql})", (pattern, *params)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        pattern = 'YYYY-MM-DD"T"HH24' if self.bucket == "hour" else "YYYY-MM-DD"
        return f"to_char({sql} AT TIME ZONE 'UTC', %s)", (*params, pattern)


def bucket_key(moment: datetime, bucket: str) -> str:
    return moment.strftime("%Y-%m-%dT%H" if bucket == "hour" else "%Y-%m-%d")


def percentile(counts: list[tuple[int, int]], total: int, percent: int) -> int | None:
    """The nearest-rank percentile of durations given as sorted (duration, how many) pairs."""
    if total == 0:
        return None
    rank = max(1, -(-total * percent // 100))  # ceil(total * percent / 100), in integers
    seen = 0
    for duration, count in counts:
        seen += count
        if seen >= rank:
            return duration
    return counts[-1][0]


def last_time(environment: str, status: str) -> datetime | None:
    # Of all the log, not only the window: "last success 3 weeks ago" is what a failing receiver needs.
    return (
        WebhookLog.objects.filter(environment=environment, status=status)
        .order_by("-seq")
        .values_list("created_at", flat=True)
        .first()
    )


def delivery_stats(environment: str, window_name: str, now: datetime | None = None) -> dict[str, Any]:
    window = WINDOWS[window_name]
    now = (now or timezone.now()).astimezone(UTC)
    if window.bucket == "hour":
        current = now.replace(minute=0, second=0, microsecond=0)
    else:
        current = now.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [current - window.step * n for n in range(window.buckets - 1, -1, -1)]
    since = starts[0]
    in_window = WebhookLog.objects.filter(environment=environment, created_at__gte=since)

    by_bucket: Counter[tuple[str, str]] = Counter()
    rows = (
        in_window.annotate(bucket=BucketKey("created_at", window.bucket))
        .values_list("bucket", "status")
        .annotate(n=Count("*"))
        .order_by()
    )
    for key, status, n in rows:
        by_bucket[(key, status)] += n
    durations = list(
        in_window.values("duration_ms").annotate(n=Count("*")).order_by("duration_ms").values_list("duration_ms", "n")
    )
    attempts = sum(n for _, n in durations)
    successes = sum(n for (_, status), n in by_bucket.items() if status == LogStatus.SUCCESS)
    failures = attempts - successes
    return {
        "window": window.name,
        "since": since,
        "bucket": window.bucket,
        "attempts": attempts,
        "deliveries": in_window.values("delivery_id").distinct().count(),
        "successes": successes,
        "failures": failures,
        "success_rate": round(successes / attempts, 4) if attempts else None,
        "p50_duration_ms": percentile(durations, attempts, 50),
        "p95_duration_ms": percentile(durations, attempts, 95),
        "last_success_at": last_time(environment, LogStatus.SUCCESS),
        "last_failure_at": last_time(environment, LogStatus.FAILURE),
        "buckets": [
            {
                "start": start,
                "successes": by_bucket[(bucket_key(start, window.bucket), LogStatus.SUCCESS)],
                "failures": by_bucket[(bucket_key(start, window.bucket), LogStatus.FAILURE)],
            }
            for start in starts
        ],
    }
