"""The card says when deliveries started failing and why, and when they recovered."""

from datetime import UTC, datetime

from management_api.models import AlertState, LogStatus, LogType, Webhook, WebhookLog
from tests.webhooks_app.conftest import tab_html

FAILING_SINCE = datetime(2026, 11, 29, 10, 42, tzinfo=UTC)


def sandbox_webhook(**fields) -> Webhook:
    return Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a", **fields)


def failed_attempt(error: str) -> None:
    WebhookLog.objects.create(
        environment="sandbox",
        type=LogType.DATA_ALERT,
        event="data_alert.true",
        status=LogStatus.FAILURE,
        code=500,
        url="https://hooks.example.com/a",
        error=error,
    )


def test_a_failing_webhook_says_since_when_and_the_last_error(viewer_client):
    sandbox_webhook(failing_since=FAILING_SINCE, alert_state=AlertState.FAILING)
    failed_attempt("the receiver answered 502 Bad Gateway")

    html = tab_html(viewer_client)

    assert "Failing since" in html and "2026-11-29 10:42" in html
    assert "last error: the receiver answered 502 Bad Gateway" in html
    assert "Recovered at" not in html


def test_a_recovered_webhook_says_when(viewer_client):
    sandbox_webhook(alert_state=AlertState.RECOVERED, alert_state_changed_at=FAILING_SINCE)

    html = tab_html(viewer_client)

    assert "Recovered at" in html and "2026-11-29 10:42" in html
    assert "Failing since" not in html


def test_a_healthy_webhook_says_neither(viewer_client):
    sandbox_webhook()
    html = tab_html(viewer_client)
    assert "Failing since" not in html and "Recovered at" not in html
