"""Prometheus metrics at /metrics, read from the database at scrape time.

The web server and the workers are separate processes (often on separate machines), so no
process's memory holds the true totals. The counters and the latency histogram come from
AttemptTally (a few dozen rows kept up to date as log rows are written), the queue gauges from
the delivery rows, the workers gauge from their heartbeats: every scrape costs a handful of
indexed queries, whatever the log's size.
"""

import hmac
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from management_api.authentication import bearer_token
from management_api.health import workers_per_environment
from management_api.models import (
    LATENCY_BUCKET_INF,
    LATENCY_BUCKETS_MS,
    AttemptTally,
    Delivery,
    DeliveryState,
    LogStatus,
    LogType,
)
from portal import environments

OUTCOMES = {LogStatus.SUCCESS: "success", LogStatus.FAILURE: "failure"}


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from self.attempt_metrics()
        yield from self.queue_metrics()

    def attempt_metrics(self) -> Iterator[Metric]:
        deliveries = CounterMetricFamily(
            "webhook_delivery_attempts",
            "Data alert delivery attempts sent, one per log row, by environment and outcome.",
            labels=["environment", "outcome"],
        )
        tests = CounterMetricFamily(
            "webhook_test_connections",
            "Test connections sent, by environment and outcome.",
            labels=["environment", "outcome"],
        )
        latency = HistogramMetricFamily(
            "webhook_attempt_duration_seconds",
            "Time one delivery attempt took (test connections included), by environment.",
            labels=["environment"],
        )
        totals: dict[tuple[str, str, str], int] = defaultdict(int)
        per_bucket: dict[tuple[str, int], int] = defaultdict(int)
        duration_ms_sums: dict[str, int] = defaultdict(int)
        for tally in AttemptTally.objects.all():
            totals[(tally.environment, tally.type, tally.status)] += tally.attempts
            per_bucket[(tally.environment, tally.le_ms)] += tally.attempts
            duration_ms_sums[tally.environment] += tally.duration_ms_sum
        for environment in environments.values():
            for status, outcome in OUTCOMES.items():
                deliveries.add_metric([environment, outcome], totals[(environment, LogType.DATA_ALERT, status)])
                tests.add_metric([environment, outcome], totals[(environment, LogType.TEST, status)])
            cumulative = 0
            buckets = []
            for bound in (*LATENCY_BUCKETS_MS, LATENCY_BUCKET_INF):
                cumulative += per_bucket[(environment, bound)]
                buckets.append(("+Inf" if bound == LATENCY_BUCKET_INF else str(bound / 1000), cumulative))
            latency.add_metric([environment], buckets, sum_value=duration_ms_sums[environment] / 1000)
        yield from (deliveries, tests, latency)

    def queue_metrics(self) -> Iterator[Metric]:
        now = timezone.now()
        depth = GaugeMetricFamily(
            "webhook_queue_depth", "Deliveries due now and not yet started, by environment.", labels=["environment"]
        )
        oldest_age = GaugeMetricFamily(
            "webhook_queue_oldest_age_seconds",
            "How long the longest-waiting due delivery has waited (0 when none waits), by environment.",
            labels=["environment"],
        )
        due = (
            Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .values("environment")
            .annotate(waiting=Count("pk"), oldest=Min("next_attempt_at"))
            .order_by()
        )
        workers = GaugeMetricFamily(
            "webhook_workers",
            "Delivery workers seen in the last minute that serve the environment (0: nobody delivers it).",
            labels=["environment"],
        )
        by_environment = {row["environment"]: row for row in due}
        serving = workers_per_environment(now)
        for environment in environments.values():
            row = by_environment.get(environment)
            depth.add_metric([environment], row["waiting"] if row else 0)
            oldest_age.add_metric([environment], (now - row["oldest"]).total_seconds() if row else 0.0)
            workers.add_metric([environment], serving[environment])
        yield from (depth, oldest_age, workers)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return HttpResponse("Metrics are disabled: set METRICS_TOKEN.", status=404, content_type="text/plain")
    if not hmac.compare_digest(bearer_token(request).encode(), settings.METRICS_TOKEN.encode()):
        return HttpResponse(
            "Send 'Authorization: Bearer <METRICS_TOKEN>'.",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
