"""/healthz and /readyz: unauthenticated, tiny, 200 or 503, answered before host and HTTPS checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from management_api.models import Delivery, WorkerHeartbeat
from tests.workers import wait_for, workers

EVERY_ENVIRONMENT = ["production", "sandbox"]


def heartbeat(seconds_ago: float, environments: list[str] = EVERY_ENVIRONMENT, worker_id: str = "w1") -> None:
    seen_at = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.create(worker_id=worker_id, seen_at=seen_at, environments=environments)


@pytest.fixture
def as_in_production(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.com"]


def test_healthz_answers_ok_without_login_or_database(client):
    # No `db` fixture: any query, a session or a user lookup included, would fail this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_probes_by_address_over_plain_http_are_answered(client, db, as_in_production):
    # A load balancer probes each node by its IP over HTTP: no redirect, no "bad host" 400.
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code == 503
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400


def test_healthz_takes_get_only(client):
    assert client.post("/healthz").status_code == 405


def test_readyz_is_503_without_a_worker_heartbeat(client, db):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "worker": "no worker seen in the last minute", "queue": "ok"},
    }


def test_readyz_is_200_with_a_fresh_heartbeat(client, db):
    heartbeat(seconds_ago=20)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "worker": "ok", "queue": "ok"}}
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_503_when_the_only_heartbeat_is_old(client, db):
    heartbeat(seconds_ago=120)
    assert client.get("/readyz").status_code == 503


def due_delivery(seconds_ago: float, environment: str = "sandbox") -> Delivery:
    return Delivery.objects.create(
        environment=environment,
        type="data_alert",
        event="data_alert.true",
        next_attempt_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def test_readyz_is_503_while_a_due_delivery_waits_too_long(client, db, settings):
    settings.READYZ_MAX_QUEUE_LAG = 300
    heartbeat(seconds_ago=0)
    due_delivery(seconds_ago=30)
    assert client.get("/readyz").status_code == 200
    due_delivery(seconds_ago=600)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "worker": "ok", "queue": "lagging"}


def test_a_delivery_scheduled_for_later_is_no_lag(client, db):
    heartbeat(seconds_ago=0)
    due_delivery(seconds_ago=-3600)
    Delivery.objects.create(
        environment="sandbox",
        type="data_alert",
        event="data_alert.true",
        state="delivered",
        next_attempt_at=timezone.now() - timedelta(hours=2),
    )
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_naming_an_environment_with_a_due_delivery_that_no_live_worker_serves(client, db):
    heartbeat(seconds_ago=5, environments=["sandbox"])
    heartbeat(seconds_ago=90, environments=EVERY_ENVIRONMENT, worker_id="gone")
    assert client.get("/readyz").status_code == 200  # nothing is owed to production yet
    due_delivery(seconds_ago=-3600, environment="production")
    assert client.get("/readyz").status_code == 200  # owed, but not due for an hour
    due_delivery(seconds_ago=1, environment="production")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "worker": "no worker serves production", "queue": "ok"}
    heartbeat(seconds_ago=5, environments=["production"], worker_id="w2")
    assert client.get("/readyz").status_code == 200


def test_readyz_names_every_environment_nobody_serves(client, db):
    heartbeat(seconds_ago=5, environments=[])  # a worker that serves nothing (an older version's row)
    due_delivery(seconds_ago=1, environment="sandbox")
    due_delivery(seconds_ago=1, environment="production")
    assert client.get("/readyz").json()["checks"]["worker"] == "no worker serves sandbox or production"


def test_with_no_live_worker_readyz_says_so_whatever_is_due(client, db):
    heartbeat(seconds_ago=90)
    due_delivery(seconds_ago=1, environment="production")
    assert client.get("/readyz").json()["checks"]["worker"] == "no worker seen in the last minute"


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_makes_readyz_ready(client, tmp_path):
    assert client.get("/readyz").status_code == 503
    with workers(1, log_dir=tmp_path):
        wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=30, message="the worker's heartbeat")
        assert client.get("/readyz").status_code == 200
