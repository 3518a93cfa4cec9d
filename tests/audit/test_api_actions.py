"""Calls straight to the embedded API record "API key (<environment>)" as the actor."""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from management_api.models import Webhook
from tests.audit.conftest import ADDRESS, assert_nothing_of, only_event
from tests.webhooks_app.test_deliveries import logged_delivery

Action = AuditEvent.Action


def assert_recorded(action: str, detail: str = "", environment: str = "sandbox") -> None:
    event = only_event()
    assert (event.actor, event.action, event.environment, event.address, event.detail) == (
        f"API key ({environment})",
        action,
        environment,
        ADDRESS,
        detail,
    )


def created(api, environment: str = "sandbox") -> str:
    """A webhook made through the API, with its creation's event removed; returns its secret."""
    secret = api.create(environment, url=f"https://{environment}.example.com/hook")["secret"]
    AuditEvent.objects.all().delete()
    return secret


def test_create_records_the_api_key_of_the_environment(api_from_address):
    data = api_from_address.create("sandbox", url="https://hooks.example.com/a")
    assert_recorded(Action.WEBHOOK_CREATED, "https://hooks.example.com/a")
    assert_nothing_of(data["secret"])


def test_production_calls_record_the_production_key(api_from_address):
    data = api_from_address.create("production", url="https://hooks.example.com/p")
    assert_recorded(Action.WEBHOOK_CREATED, "https://hooks.example.com/p", environment="production")
    assert_nothing_of(data["secret"])


def test_a_new_url_records_the_url(api_from_address):
    secret = created(api_from_address)
    response = api_from_address.call("PUT", "/webhooks/sandbox", {"url": "https://hooks.example.com/new"})
    assert response.status_code == 200
    assert_recorded(Action.URL_CHANGED, "https://hooks.example.com/new")
    assert_nothing_of(secret)


def test_regenerate_records_nothing_of_either_secret(api_from_address):
    old = created(api_from_address)
    new = api_from_address.call("PUT", "/webhooks/sandbox/secret", {}).json()["data"]["secret"]
    assert_recorded(Action.SECRET_REGENERATED)
    assert_nothing_of(old)
    assert_nothing_of(new)


def test_delete_records_one_event(api_from_address):
    created(api_from_address)
    assert api_from_address.call("DELETE", "/webhooks/sandbox").status_code == 200
    assert_recorded(Action.WEBHOOK_DELETED)


def test_reading_the_webhook_is_a_reveal_since_the_answer_holds_the_secret(api_from_address):
    secret = created(api_from_address)
    assert api_from_address.call("GET", "/webhooks").json()["data"]["items"][0]["secret"] == secret
    assert_recorded(Action.SECRET_REVEALED, "Read the webhook through the API")
    assert_nothing_of(secret)


def test_reading_when_there_is_no_webhook_records_nothing(api_from_address):
    assert api_from_address.call("GET", "/webhooks").status_code == 200
    assert not AuditEvent.objects.exists()


def test_enable_records_one_event(api_from_address):
    Webhook.objects.create(
        environment="sandbox", url="https://s.example.com/", secret="s" * 43, disabled_at=timezone.now()
    )
    assert api_from_address.call("PUT", "/webhooks/sandbox/enable", {}).status_code == 200
    assert_recorded(Action.WEBHOOK_ENABLED)


def test_resend_records_the_log_row(api_from_address):
    log = logged_delivery()
    assert api_from_address.call("POST", f"/webhooks/sandbox/logs/{log.pk}/resend").status_code == 202
    assert_recorded(Action.DELIVERY_RESENT, f"Log row {log.pk}")


@pytest.mark.usefixtures("allow_loopback")
def test_test_connection_records_the_outcome(api_from_address, httpserver):
    secret = api_from_address.create(url=httpserver.url_for("/hook"))["secret"]
    AuditEvent.objects.all().delete()
    httpserver.expect_request("/hook").respond_with_data("gone", status=410)
    api_from_address.call("POST", "/webhooks/sandbox/test", {})
    assert_recorded(Action.CONNECTION_TESTED, "Failed: the receiver answered 410")
    assert_nothing_of(secret)


@pytest.mark.parametrize(
    "method,path,kwargs",
    [
        ("PUT", "/webhooks/sandbox", {"key": "wrong"}),  # 401
        ("PUT", "/webhooks/production", {}),  # 403: the sandbox key
        ("PUT", "/webhooks/sandbox/secret", {}),  # 404: no webhook
        ("DELETE", "/webhooks/sandbox", {}),  # 404
    ],
)
def test_a_refused_call_records_nothing(api_from_address, method, path, kwargs):
    response = api_from_address.call(method, path, {"url": "https://hooks.example.com/x"}, **kwargs)
    assert response.status_code >= 400
    assert not AuditEvent.objects.exists()


def test_no_header_can_pass_a_call_off_as_the_portals(api_from_address):
    # The portal's mark lives in the WSGI environ under a name no header can become.
    api_from_address.client.defaults["HTTP_AUDIT.RECORDED_BY_PORTAL"] = "true"
    api_from_address.client.defaults["HTTP_AUDIT_RECORDED_BY_PORTAL"] = "true"
    api_from_address.create(url="https://hooks.example.com/a")
    assert_recorded(Action.WEBHOOK_CREATED, "https://hooks.example.com/a")


def test_a_secret_roll_records_start_complete_and_cancel_and_nothing_of_the_next_secret(api_from_address):
    current = created(api_from_address)
    started = api_from_address.call("POST", "/webhooks/sandbox/secret/roll", {"expires_in_hours": 24})
    assert started.status_code == 200
    next_secret = started.json()["data"]["next_secret"]
    event = only_event()
    assert (event.actor, event.action) == ("API key (sandbox)", Action.ROLL_STARTED)
    assert event.detail.startswith("Next secret signs from ")
    AuditEvent.objects.all().delete()

    assert api_from_address.call("POST", "/webhooks/sandbox/secret/roll/complete", {}).status_code == 200
    assert_recorded(Action.ROLL_COMPLETED)
    AuditEvent.objects.all().delete()

    api_from_address.call("POST", "/webhooks/sandbox/secret/roll", {"expires_in_hours": 1})
    AuditEvent.objects.all().delete()
    assert api_from_address.call("DELETE", "/webhooks/sandbox/secret/roll").status_code == 200
    assert_recorded(Action.ROLL_CANCELLED)
    assert_nothing_of(current)
    assert_nothing_of(next_secret)
