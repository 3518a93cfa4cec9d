"""Managers are emailed once when a webhook starts failing, is disabled, and recovers."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from werkzeug import Request, Response

from management_api import delivery as deliveries
from management_api import notifications
from management_api.alerts import send_data_alert
from management_api.models import AlertState, Webhook
from tests.portal.test_settings import read_setting

pytestmark = pytest.mark.usefixtures("allow_loopback")


class SwitchableReceiver:
    """Answers `status` to every delivery until told otherwise."""

    def __init__(self) -> None:
        self.status = 500
        self.received = 0

    def __call__(self, request: Request) -> Response:
        self.received += 1
        return Response("{}", status=self.status, content_type="application/json")


@pytest.fixture
def receiver(httpserver) -> SwitchableReceiver:
    receiver = SwitchableReceiver()
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    return receiver


@pytest.fixture
def webhook(db, httpserver, settings) -> Webhook:
    settings.PORTAL_URL = "https://portal.example.com/"
    return Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="s" * 43)


@pytest.fixture
def managers(db) -> list[str]:
    permission = Permission.objects.get(content_type__app_label="webhooks_app", codename="manage_webhooks")
    direct = User.objects.create_user("maria", email="maria@example.com")
    direct.user_permissions.add(permission)
    group = Group.objects.create(name="Integrators")
    group.permissions.add(permission)
    User.objects.create_user("gus", email="gus@example.com").groups.add(group)
    User.objects.create_superuser("root", email="root@example.com")
    # Not told: a viewer, a manager who left, a manager with no address.
    User.objects.create_user("victor", email="victor@example.com")
    User.objects.create_user("left", email="left@example.com", is_active=False).user_permissions.add(permission)
    User.objects.create_user("noaddress").user_permissions.add(permission)
    return ["gus@example.com", "maria@example.com", "root@example.com"]


def deliver_one(django_capture_on_commit_callbacks) -> str:
    """Queue a data alert and make its first attempt, as the worker would, emails included."""
    queued = send_data_alert("sandbox", "p1", "High Sales")
    with django_capture_on_commit_callbacks(execute=True):
        return deliveries.attempt_delivery(str(queued.id))


def test_the_first_failure_emails_every_manager_once(
    webhook, receiver, managers, mailoutbox, django_capture_on_commit_callbacks
):
    assert deliver_one(django_capture_on_commit_callbacks) == "pending"

    assert sorted(address for mail in mailoutbox for address in mail.to) == managers
    assert all(len(mail.to) == 1 for mail in mailoutbox)
    mail = mailoutbox[0]
    assert mail.subject == "[Webhooks] Sandbox webhook is failing"
    assert "Environment: Sandbox" in mail.body
    assert f"URL: {webhook.url}" in mail.body
    webhook.refresh_from_db()
    assert f"Since: {timezone.localtime(webhook.failing_since):%Y-%m-%d %H:%M}" in mail.body
    assert "Last error: the receiver answered 500" in mail.body
    assert "Delivery logs: https://portal.example.com/?env=sandbox" in mail.body
    assert webhook.secret not in mail.body
    assert webhook.alert_state == AlertState.FAILING


def test_failing_again_sends_nothing_more(webhook, receiver, managers, mailoutbox, django_capture_on_commit_callbacks):
    deliver_one(django_capture_on_commit_callbacks)
    told = len(mailoutbox)

    deliver_one(django_capture_on_commit_callbacks)

    assert receiver.received == 2
    assert len(mailoutbox) == told == len(managers)


def test_the_first_success_after_failing_emails_recovered_once(
    webhook, receiver, managers, mailoutbox, django_capture_on_commit_callbacks
):
    deliver_one(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    receiver.status = 200

    assert deliver_one(django_capture_on_commit_callbacks) == "delivered"
    assert deliver_one(django_capture_on_commit_callbacks) == "delivered"

    assert [mail.subject for mail in mailoutbox] == ["[Webhooks] Sandbox webhook has recovered"] * len(managers)
    assert "accepts deliveries again after failing since" in mailoutbox[0].body
    webhook.refresh_from_db()
    assert webhook.alert_state == AlertState.RECOVERED and webhook.failing_since is None


def test_successes_of_a_healthy_webhook_send_nothing(
    webhook, receiver, managers, mailoutbox, django_capture_on_commit_callbacks
):
    receiver.status = 200
    assert deliver_one(django_capture_on_commit_callbacks) == "delivered"
    assert mailoutbox == []


def test_disabling_emails_once(webhook, receiver, managers, mailoutbox, django_capture_on_commit_callbacks):
    # Failing for longer than WEBHOOK_DISABLE_AFTER_DAYS, and the managers already told so.
    long_ago = timezone.now() - timedelta(days=6)
    Webhook.objects.filter(pk=webhook.pk).update(failing_since=long_ago, alert_state=AlertState.FAILING)

    deliver_one(django_capture_on_commit_callbacks)

    webhook.refresh_from_db()
    assert webhook.disabled_at is not None
    assert [mail.subject for mail in mailoutbox] == ["[Webhooks] Sandbox webhook is disabled"] * len(managers)
    assert "receives no deliveries until a manager enables it" in mailoutbox[0].body
    assert "Last error: the receiver answered 500" in mailoutbox[0].body
    # A second worker that noticed the same thing claims nothing.
    assert notifications.webhook_disabled(webhook, timezone.now(), "again") is False


def test_without_managers_nobody_is_emailed_and_the_attempt_goes_on(
    webhook, receiver, mailoutbox, django_capture_on_commit_callbacks
):
    User.objects.create_user("victor", email="victor@example.com")

    assert deliver_one(django_capture_on_commit_callbacks) == "pending"

    assert mailoutbox == []
    webhook.refresh_from_db()
    assert webhook.failing_since is not None and webhook.alert_state == AlertState.FAILING


def test_a_mail_server_that_fails_does_not_fail_the_attempt(
    webhook, receiver, managers, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    assert deliver_one(django_capture_on_commit_callbacks) == "pending"

    assert "Emailing 3 manager(s) failed: [Webhooks] Sandbox webhook is failing" in caplog.text


def test_of_two_workers_seeing_the_same_change_only_one_claims_it(webhook):
    stale_copy = Webhook.objects.get(pk=webhook.pk)
    now = timezone.now()
    assert notifications.webhook_failing(webhook, now, "boom") is True
    assert notifications.webhook_failing(stale_copy, now, "boom") is False
    assert notifications.webhook_recovered(stale_copy, now) is True
    assert notifications.webhook_recovered(webhook, now) is False


def test_the_api_tells_failing_since_and_the_last_error_then_when_it_recovered(
    api, webhook, receiver, django_capture_on_commit_callbacks
):
    def listed() -> dict:
        [item] = api.call("GET", "/webhooks").json()["data"]["items"]
        return item

    assert (listed()["failing_since"], listed()["last_error"], listed()["recovered_at"]) == (None, None, None)

    deliver_one(django_capture_on_commit_callbacks)
    webhook.refresh_from_db()
    failing = listed()
    assert failing["failing_since"] == f"{webhook.failing_since:%Y-%m-%dT%H:%M:%SZ}"
    assert failing["last_error"].startswith("the receiver answered 500")
    assert failing["recovered_at"] is None

    receiver.status = 200
    deliver_one(django_capture_on_commit_callbacks)
    webhook.refresh_from_db()
    recovered = listed()
    assert (recovered["failing_since"], recovered["last_error"]) == (None, None)
    assert recovered["recovered_at"] == f"{webhook.alert_state_changed_at:%Y-%m-%dT%H:%M:%SZ}"
    assert not {"next_secret", "alert_state", "alert_state_changed_at"} & set(recovered)


def test_without_a_mail_server_alerts_go_to_the_console():
    portal = "portal.settings"
    console = read_setting("EMAIL_BACKEND", DJANGO_SETTINGS_MODULE=portal)
    assert console == "django.core.mail.backends.console.EmailBackend"
    with_server = read_setting(
        "EMAIL_BACKEND", DJANGO_SETTINGS_MODULE=portal, EMAIL_URL="smtp+tls://u:p@mail.example.com:587"
    )
    assert with_server == "django.core.mail.backends.smtp.EmailBackend"
    assert read_setting("PORTAL_URL", DJANGO_SETTINGS_MODULE=portal) == "http://127.0.0.1:8000"
