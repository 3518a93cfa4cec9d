"""Delivery statistics of an environment over a recent window, for the logs page's chart.

Everything comes from ranges of WebhookLog's (environment, created_at, status, duration_ms,
attempt, seq) index: the databases answer from the index alone, never reading the wide rows
(bodies, headers).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
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


@dataclass
class Bucket:
    start: datetime
    successes: int = 0
    failures: int = 0
    first_attempts: int = 0


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

    # One aggregate per bucket, each a closed range of the index. (Grouping by status instead
    # lets SQLite pick the status index for its order and read the whole log.)
    buckets = []
    for start in starts:
        counts = WebhookLog.objects.filter(
            environment=environment, created_at__gte=start, created_at__lt=start + window.step
        ).aggregate(
            successes=Count("seq", filter=Q(status=LogStatus.SUCCESS)),
            failures=Count("seq", filter=Q(status=LogStatus.FAILURE)),
            first_attempts=Count("seq", filter=Q(attempt=1)),
        )
        buckets.append(Bucket(start, **counts))
    durations = list(
        in_window.values("duration_ms").annotate(n=Count("*")).order_by("duration_ms").values_list("duration_ms", "n")
    )
    attempts = sum(n for _, n in durations)
    successes = sum(bucket.successes for bucket in buckets)
    return {
        "window": window.name,
        "since": since,
        "bucket": window.bucket,
        "attempts": attempts,
        "deliveries": sum(bucket.first_attempts for bucket in buckets),
        "successes": successes,
        "failures": attempts - successes,
        "success_rate": round(successes / attempts, 4) if attempts else None,
        "p50_duration_ms": percentile(durations, attempts, 50),
        "p95_duration_ms": percentile(durations, attempts, 95),
        "last_success_at": last_time(environment, LogStatus.SUCCESS),
        "last_failure_at": last_time(environment, LogStatus.FAILURE),
        "buckets": [
            {"start": bucket.start, "successes": bucket.successes, "failures": bucket.failures} for bucket in buckets
        ],
    }
