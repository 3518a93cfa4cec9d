"""The built-in demo receiver and `seed_demo`."""

import itertools
import json
import os
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from demo_receiver.models import DemoReceipt
from management_api.models import Delivery, LogSequence, Webhook, WebhookLog
from management_api.signing import sign, verify
from tests import factories
from tests.instances import ROOT


@pytest.fixture(autouse=True)
def enabled(settings):
    settings.DEMO_RECEIVER_ENABLED = True


def post(client, environment, secret, body=b'{"event":"test","payload":{}}', timestamp=None, delivery_id="d-1"):
    timestamp = timestamp or str(int(time.time() * 1000))
    return client.post(
        f"/demo/receiver/{environment}",
        data=body,
        content_type="application/json",
        HTTP_AUTOQL_TIMESTAMP=timestamp,
        HTTP_AUTOQL_SIGNATURE=sign(secret, timestamp, body),
        HTTP_AUTOQL_EVENT="test",
        HTTP_AUTOQL_DELIVERY_ID=delivery_id,
    )


def test_it_accepts_a_delivery_signed_with_the_current_secret(client, db):
    Webhook.objects.create(environment="sandbox", url="http://127.0.0.1:8000/demo/receiver/sandbox", secret="s" * 43)
    response = post(client, "sandbox", "s" * 43)
    assert response.status_code == 200 and response.json() == {"message": "ok"}
    receipt = DemoReceipt.objects.get()
    assert receipt.verified and receipt.delivery_id == "d-1" and receipt.event == "test"
    assert receipt.headers["AutoQL-Signature"]


def test_it_rejects_an_old_secret_and_an_old_timestamp(client, db):
    Webhook.objects.create(environment="sandbox", url="http://x/", secret="new" * 15)
    response = post(client, "sandbox", "old" * 15)
    assert response.status_code == 401 and response.json() == {"error": "AutoQL-Signature does not match"}
    stale = str(int(time.time() * 1000) - 6 * 60 * 1000)
    response = post(client, "sandbox", "new" * 15, timestamp=stale)
    assert response.status_code == 401 and "5 minutes" in response.json()["error"]
    assert not DemoReceipt.objects.exists()  # what it refuses, it does not keep


def test_it_refuses_without_a_webhook_and_for_unknown_environments(client, db):
    response = post(client, "production", "x")
    assert response.status_code == 404
    assert response.json() == {"error": "No webhook is configured for this environment."}
    assert post(client, "staging", "x").status_code == 404
    assert not DemoReceipt.objects.exists()


def test_it_refuses_an_oversized_body_and_keeps_nothing(client, db):
    Webhook.objects.create(environment="sandbox", url="http://x/", secret="s" * 43)
    body = json.dumps({"event": "test", "payload": {"pad": "x" * 300_000}}).encode()
    response = post(client, "sandbox", "s" * 43, body=body)  # signed correctly, but too large
    assert response.status_code == 413 and "256 KiB" in response.json()["error"]
    assert not DemoReceipt.objects.exists()


def test_it_keeps_the_newest_receipts_of_each_environment(client, db, settings):
    settings.DEMO_RECEIVER_MAX_RECEIPTS = 3
    Webhook.objects.create(environment="sandbox", url="http://x/", secret="s" * 43)
    Webhook.objects.create(environment="production", url="http://y/", secret="p" * 43)
    assert post(client, "production", "p" * 43, delivery_id="p-1").status_code == 200
    for number in range(1, 6):
        assert post(client, "sandbox", "s" * 43, delivery_id=f"s-{number}").status_code == 200
    kept = DemoReceipt.objects.filter(environment="sandbox").values_list("delivery_id", flat=True)
    assert sorted(kept) == ["s-3", "s-4", "s-5"]
    assert list(DemoReceipt.objects.filter(environment="production").values_list("delivery_id", flat=True)) == ["p-1"]


def test_when_not_enabled_it_does_not_exist(client, admin_client, db, settings):
    settings.DEMO_RECEIVER_ENABLED = False
    Webhook.objects.create(environment="sandbox", url="http://x/", secret="s" * 43)
    assert post(client, "sandbox", "s" * 43).status_code == 404
    assert admin_client.get("/demo/receiver/").status_code == 404
    assert not DemoReceipt.objects.exists()
    assert "Demo receiver" not in admin_client.get("/").content.decode()
    settings.DEMO_RECEIVER_ENABLED = True
    assert 'href="/demo/receiver/">Demo receiver</a>' in admin_client.get("/").content.decode()


def test_it_is_off_unless_the_environment_enables_it():
    read = "import django; django.setup(); from django.conf import settings; print(settings.DEMO_RECEIVER_ENABLED)"
    env = {k: v for k, v in os.environ.items() if k != "DEMO_RECEIVER_ENABLED"}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    output = subprocess.run([sys.executable, "-c", read], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "False"


def test_what_it_received_is_shown_to_signed_in_people(client, admin_client, db):
    Webhook.objects.create(environment="sandbox", url="http://x/", secret="s" * 43)
    post(client, "sandbox", "s" * 43, body=json.dumps({"event": "test", "payload": {"hello": "<world>"}}).encode())
    html = admin_client.get("/demo/receiver/").content.decode()
    assert "verified" in html and "&quot;hello&quot;: &quot;&lt;world&gt;&quot;" in html


def test_seed_demo_points_both_environments_at_the_receiver_and_writes_history(db):
    call_command("seed_demo", "--base-url", "http://127.0.0.1:8123", "--seed", "7", "--deliveries", "200", verbosity=0)
    urls = dict(Webhook.objects.values_list("environment", "url"))
    assert urls == {
        "sandbox": "http://127.0.0.1:8123/demo/receiver/sandbox",
        "production": "http://127.0.0.1:8123/demo/receiver/production",
    }
    logs = WebhookLog.objects.all()
    assert logs.count() >= 200
    assert logs.filter(type="test").exists() and logs.filter(status="failure").exists()
    assert logs.filter(attempt__gt=1, status="success").exists()  # retries that recovered
    assert logs.values("project_id").distinct().count() >= 5
    oldest, newest = logs.order_by("created_at").first(), logs.order_by("created_at").last()
    assert oldest is not None and newest is not None
    span = newest.created_at - oldest.created_at
    assert span.days >= 20
    for environment in ("sandbox", "production"):
        sequence = LogSequence.of(environment)
        rows = list(logs.filter(environment=environment).order_by("seq"))
        assert [r.seq for r in rows] == list(range(1, sequence.last + 1))
        assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)
    assert Delivery.objects.filter(pk__in=logs.values("delivery_id")).count() == Delivery.objects.count()


def test_every_seeded_row_is_what_the_sender_would_have_logged(db):
    call_command("seed_demo", "--url-base", "http://127.0.0.1:8123", "--seed", "3", "--deliveries", "300", verbosity=0)
    secrets = dict(Webhook.objects.values_list("environment", "secret"))
    rows = list(WebhookLog.objects.order_by("delivery_id", "attempt"))
    mismatches = 0
    for row in rows:
        headers = row.request_headers
        body = row.request_body.encode()
        timestamp_ms = int(row.created_at.timestamp() * 1000)
        assert headers["AutoQL-Timestamp"] == str(timestamp_ms)
        assert headers["AutoQL-Delivery-Id"] == str(row.delivery_id)
        assert headers["AutoQL-Event"] == row.event == json.loads(body)["event"]
        problem = verify(
            secrets[row.environment], headers["AutoQL-Timestamp"], headers["AutoQL-Signature"], body, timestamp_ms
        )
        if row.response == {"error": "AutoQL-Signature does not match"}:
            assert problem == "AutoQL-Signature does not match"
            mismatches += 1
        else:
            assert problem is None, row
    assert mismatches > 0

    by_delivery: dict = {}
    for row in rows:
        by_delivery.setdefault(row.delivery_id, []).append(row)
    for delivery_id, attempts in by_delivery.items():
        first = attempts[0]
        delivery = Delivery.objects.get(pk=delivery_id)
        assert [a.attempt for a in attempts] == list(range(1, len(attempts) + 1))
        assert delivery.attempts == len(attempts) and delivery.created_at == first.created_at
        # One event, one body: every attempt sends the same bytes, made when the event was.
        assert {a.request_body for a in attempts} == {first.request_body}
        payload = json.loads(first.request_body)["payload"]
        if first.type == "data_alert":
            assert payload["created_at"] == int(first.created_at.timestamp())
        else:
            assert payload["sent_at"] == first.created_at.isoformat()
        for earlier, later in itertools.pairwise(attempts):
            assert earlier.status == "failure" and earlier.next_attempt_at == later.created_at
        assert attempts[-1].next_attempt_at is None
        assert delivery.state == ("delivered" if attempts[-1].status == "success" else "failed")


def test_seed_demo_points_the_webhooks_at_the_port_in_the_environment(db, monkeypatch):
    monkeypatch.setenv("PORT", "8765")
    call_command("seed_demo", "--deliveries", "1", verbosity=0)
    assert Webhook.objects.get(environment="sandbox").url == "http://127.0.0.1:8765/demo/receiver/sandbox"


def test_seed_demo_refuses_to_repoint_a_webhook_someone_set_up(db):
    factories.webhook("production", url="https://hooks.example.com/ours")
    audit_events = AuditEvent.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", "--deliveries", "5", "--seed", "1", verbosity=0)
    message = str(refused.value)
    assert "Production delivers to https://hooks.example.com/ours" in message and "--replace" in message
    # Nothing changed: not the other environment's webhook, no history, no audit event.
    assert list(Webhook.objects.values_list("environment", "url")) == [("production", "https://hooks.example.com/ours")]
    assert not WebhookLog.objects.exists() and not Delivery.objects.exists()
    assert AuditEvent.objects.count() == audit_events


def test_seed_demo_exits_non_zero_from_the_command_line_when_it_refuses(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = "from tests import factories; factories.webhook('sandbox', url='https://hooks.example.com/ours')"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)
    command = [sys.executable, "manage.py", "seed_demo", "--deliveries", "1"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "Sandbox delivers to https://hooks.example.com/ours" in done.stderr and "Traceback" not in done.stderr


def test_seed_demo_replaces_it_when_asked_and_runs_again_over_its_own(db):
    factories.webhook("sandbox", url="https://hooks.example.com/ours")
    call_command("seed_demo", "--replace", "--base-url", "http://127.0.0.1:8123", "--deliveries", "2", verbosity=0)
    assert Webhook.objects.get(environment="sandbox").url == "http://127.0.0.1:8123/demo/receiver/sandbox"
    # A second demo, served on another port, may re-point the demo's own webhooks without --replace.
    call_command("seed_demo", "--base-url", "http://127.0.0.1:9000", "--deliveries", "2", verbosity=0)
    assert Webhook.objects.get(environment="production").url == "http://127.0.0.1:9000/demo/receiver/production"
