"""/metrics: Prometheus text behind METRICS_TOKEN, counters read from the database at scrape time."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from management_api.alerts import send_data_alert
from management_api.delivery import attempt_delivery
from management_api.models import Delivery, WorkerHeartbeat
from tests.receiver import VerifyingReceiver

TOKEN = "metrics-token-for-tests"

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_it_is_404_while_no_token_is_set(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_it_is_401_without_the_token(client, db, metrics_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert TOKEN.encode() not in response.content


def test_it_lists_every_series_at_zero_on_a_fresh_database(client, db, metrics_token):
    samples = scrape(client)
    for environment in ("sandbox", "production"):
        for outcome in ("success", "failure"):
            assert value(samples, "webhook_delivery_attempts_total", environment=environment, outcome=outcome) == 0
            assert value(samples, "webhook_test_connections_total", environment=environment, outcome=outcome) == 0
        assert value(samples, "webhook_attempt_duration_seconds_count", environment=environment) == 0
        assert value(samples, "webhook_queue_depth", environment=environment) == 0
        assert value(samples, "webhook_queue_oldest_age_seconds", environment=environment) == 0
        assert value(samples, "webhook_workers", environment=environment) == 0


def test_counters_move_with_real_deliveries(client, api, httpserver, metrics_token):
    secret = api.create("sandbox", httpserver.url_for("/hook"))["secret"]
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret))

    assert api.call("POST", "/webhooks/sandbox/test").json()["data"]["status_code"] == 200
    delivery = send_data_alert("sandbox", "p1", "High Sales")
    queued = scrape(client)
    assert attempt_delivery(str(delivery.id)) == "delivered"
    samples = scrape(client)

    assert value(samples, "webhook_test_connections_total", environment="sandbox", outcome="success") == 1
    assert value(queued, "webhook_delivery_attempts_total", environment="sandbox", outcome="success") == 0
    assert value(queued, "webhook_queue_depth", environment="sandbox") == 1
    assert value(samples, "webhook_delivery_attempts_total", environment="sandbox", outcome="success") == 1
    assert value(samples, "webhook_delivery_attempts_total", environment="production", outcome="success") == 0
    assert value(samples, "webhook_queue_depth", environment="sandbox") == 0
    assert value(samples, "webhook_attempt_duration_seconds_count", environment="sandbox") == 2
    assert value(samples, "webhook_attempt_duration_seconds_bucket", environment="sandbox", le="+Inf") == 2
    assert value(samples, "webhook_attempt_duration_seconds_sum", environment="sandbox") >= 0


def test_a_failed_attempt_counts_as_a_failure(client, api, httpserver, metrics_token):
    api.create("sandbox", httpserver.url_for("/hook"))
    httpserver.expect_request("/hook").respond_with_json({"error": "down"}, status=503)
    delivery = send_data_alert("sandbox", "p1", "High Sales")
    assert attempt_delivery(str(delivery.id)) == "pending"
    samples = scrape(client)
    assert value(samples, "webhook_delivery_attempts_total", environment="sandbox", outcome="failure") == 1
    assert value(samples, "webhook_delivery_attempts_total", environment="sandbox", outcome="success") == 0


def test_queue_gauges_show_deliveries_waiting(client, db, metrics_token):
    Delivery.objects.create(
        environment="production",
        type="data_alert",
        event="data_alert.true",
        next_attempt_at=timezone.now() - timedelta(seconds=90),
    )
    samples = scrape(client)
    assert value(samples, "webhook_queue_depth", environment="production") == 1
    assert value(samples, "webhook_queue_oldest_age_seconds", environment="production") >= 90
    assert value(samples, "webhook_queue_depth", environment="sandbox") == 0


def test_after_seed_demo_the_metrics_and_the_log_agree(client, db, metrics_token):
    from django.core.management import call_command

    from management_api.models import WebhookLog

    call_command("seed_demo", "--seed", "5", "--deliveries", "120", verbosity=0)
    samples = scrape(client)
    for environment in ("sandbox", "production"):
        logged = WebhookLog.objects.filter(environment=environment)
        for outcome in ("success", "failure"):
            alerts = logged.filter(type="data_alert", status=outcome).count()
            tests = logged.filter(type="test", status=outcome).count()
            assert value(samples, "webhook_delivery_attempts_total", environment=environment, outcome=outcome) == alerts
            assert value(samples, "webhook_test_connections_total", environment=environment, outcome=outcome) == tests
        assert value(samples, "webhook_attempt_duration_seconds_count", environment=environment) == logged.count()
    assert WebhookLog.objects.filter(type="data_alert").exists() and WebhookLog.objects.filter(type="test").exists()


def test_the_workers_gauge_counts_live_workers_per_environment(client, db, metrics_token):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="both", seen_at=now, environments=["production", "sandbox"])
    WorkerHeartbeat.objects.create(worker_id="sandbox", seen_at=now - timedelta(seconds=30), environments=["sandbox"])
    WorkerHeartbeat.objects.create(worker_id="gone", seen_at=now - timedelta(minutes=2), environments=["production"])
    samples = scrape(client)
    assert value(samples, "webhook_workers", environment="sandbox") == 2
    assert value(samples, "webhook_workers", environment="production") == 1
