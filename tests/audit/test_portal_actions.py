"""Every action in the Webhooks tab records one event under the signed-in manager, and the
in-process API call behind it records nothing of its own."""

from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from management_api.models import Webhook
from tests.audit.conftest import ADDRESS, HX, assert_nothing_of, only_event, signed_in_client
from tests.receiver import VerifyingReceiver
from tests.webhooks_app.test_deliveries import logged_delivery

Action = AuditEvent.Action
SECRET = "whole-secret-" + "k" * 30 + "Q7zX"


def sandbox_webhook(**fields: Any) -> Webhook:
    return Webhook.objects.create(environment="sandbox", url="https://s.example.com/hook", secret=SECRET, **fields)


def assert_recorded(action: str, detail: str = "", environment: str = "sandbox") -> AuditEvent:
    event = only_event()
    assert (event.actor, event.action, event.environment, event.address, event.detail) == (
        "maria",
        action,
        environment,
        ADDRESS,
        detail,
    )
    return event


def test_generate_key_records_a_created_webhook(manager_client):
    response = manager_client.post("/webhooks/sandbox/generate", {"url": "https://hooks.example.com/a"}, **HX)
    assert response.status_code == 200
    assert_recorded(Action.WEBHOOK_CREATED, "https://hooks.example.com/a")
    assert_nothing_of(Webhook.objects.get().secret)


def test_edit_url_records_the_new_url(manager_client):
    sandbox_webhook()
    manager_client.post("/webhooks/sandbox/generate", {"url": "https://hooks.example.com/b", "updating": "1"}, **HX)
    assert_recorded(Action.URL_CHANGED, "https://hooks.example.com/b")
    assert_nothing_of(SECRET)


@pytest.mark.parametrize(
    "path,action",
    [
        ("/webhooks/sandbox/regenerate", Action.SECRET_REGENERATED),
        ("/webhooks/sandbox/delete", Action.WEBHOOK_DELETED),
        ("/webhooks/sandbox/reveal", Action.SECRET_REVEALED),
        ("/webhooks/sandbox/copy", Action.SECRET_COPIED),
    ],
)
def test_each_secret_action_records_one_event_and_nothing_of_the_secret(manager_client, path, action):
    sandbox_webhook()
    response = manager_client.post(path, **HX)
    assert response.status_code == 200
    assert_recorded(action)
    assert_nothing_of(SECRET)
    if action == Action.SECRET_REGENERATED:
        assert_nothing_of(Webhook.objects.get().secret)


def test_copy_answers_the_secret_itself_and_is_recorded_as_a_copy(manager_client):
    sandbox_webhook()
    response = manager_client.post("/webhooks/sandbox/copy")
    assert response.content.decode() == SECRET
    assert response["Content-Type"].startswith("text/plain")
    assert_recorded(Action.SECRET_COPIED)


def test_copy_needs_csrf(manager):
    client = signed_in_client(manager)
    client.handler.enforce_csrf_checks = True
    sandbox_webhook()
    assert client.post("/webhooks/sandbox/copy").status_code == 403
    assert not AuditEvent.objects.exists()


def test_enable_records_one_event(manager_client):
    sandbox_webhook(disabled_at=timezone.now(), disabled_reason="Failing for days.")
    manager_client.post("/webhooks/sandbox/enable", **HX)
    assert_recorded(Action.WEBHOOK_ENABLED)
    assert_nothing_of(SECRET)


def test_resend_records_the_log_row(manager_client):
    log = logged_delivery()
    assert manager_client.post(f"/webhooks/sandbox/logs/{log.pk}/resend", **HX).status_code == 204
    assert_recorded(Action.DELIVERY_RESENT, f"Log row {log.pk}")


@pytest.mark.usefixtures("allow_loopback")
def test_test_connection_records_the_outcome(manager_client, httpserver):
    webhook = Webhook.objects.create(environment="production", url=httpserver.url_for("/hook"), secret=SECRET)
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret=webhook.secret))
    manager_client.post("/webhooks/production/test", **HX)
    assert_recorded(Action.CONNECTION_TESTED, "Succeeded: the receiver answered 200", environment="production")
    assert_nothing_of(SECRET)


@pytest.mark.usefixtures("allow_loopback")
def test_a_failed_test_connection_records_why(manager_client, closed_port):
    Webhook.objects.create(environment="sandbox", url=f"http://127.0.0.1:{closed_port}/", secret=SECRET)
    manager_client.post("/webhooks/sandbox/test", **HX)
    assert_recorded(Action.CONNECTION_TESTED, "Failed: connection refused")


@pytest.mark.parametrize(
    "path",
    ["/webhooks/sandbox/regenerate", "/webhooks/sandbox/delete", "/webhooks/sandbox/reveal", "/webhooks/sandbox/copy"],
)
def test_an_action_the_api_refuses_records_nothing(manager_client, path):
    # No webhook: the API answers 404 and nothing happened.
    assert manager_client.post(path, **HX).status_code in (404, 502)
    assert not AuditEvent.objects.exists()


def test_a_viewer_refused_records_nothing(viewer_client):
    sandbox_webhook()
    assert viewer_client.post("/webhooks/sandbox/reveal").status_code == 403
    assert viewer_client.post("/webhooks/sandbox/copy").status_code == 403
    assert not AuditEvent.objects.exists()


def test_loading_the_tab_records_nothing(manager_client):
    # Its in-process GET /webhooks carries the whole secret, but the portal shows it masked.
    sandbox_webhook()
    assert manager_client.get("/").status_code == 200
    assert not AuditEvent.objects.exists()
