"""The log detail, Resend, and a disabled webhook's card."""

import json

import pytest
from django.utils import timezone

from management_api.models import Delivery, Webhook, WebhookLog
from tests.webhooks_app.conftest import HX, tab_html


def logged_delivery():
    Webhook.objects.create(environment="sandbox", url="https://h.example.com/", secret="s" * 43)
    delivery = Delivery.objects.create(
        environment="sandbox",
        type="data_alert",
        event="data_alert.true",
        project_id="p1",
        payload={"title": "x"},
        state="failed",
        attempts=1,
    )
    return WebhookLog.objects.create(
        environment="sandbox",
        delivery_id=delivery.id,
        attempt=1,
        project_id="p1",
        type="data_alert",
        event="data_alert.true",
        status="failure",
        code=503,
        url="https://h.example.com/",
        duration_ms=42,
        error="the receiver answered 503",
        response={"error": "down"},
        request_headers={"AutoQL-Signature": "c2lnbmF0dXJl", "AutoQL-Delivery-Id": str(delivery.id)},
        request_body=json.dumps({"event": "data_alert.true", "payload": {"title": "x"}}),
        response_headers={"Retry-After": "120"},
        next_attempt_at=timezone.now(),
    )


def test_the_expanded_row_shows_the_request_the_response_and_the_attempt(manager_client):
    log = logged_delivery()
    html = tab_html(manager_client, expanded=True)
    assert "AutoQL-Signature: c2lnbmF0dXJl" in html
    assert "Retry-After: 120" in html
    assert "&quot;title&quot;: &quot;x&quot;" in html
    assert '<span class="muted">Attempt</span> 1' in html
    assert "Next attempt" in html and str(log.delivery_id) in html
    assert "s" * 43 not in html


def test_a_closed_row_carries_no_detail_and_loads_it_when_opened(manager_client):
    log = logged_delivery()
    html = tab_html(manager_client)
    assert ">p1<" in html
    for detail in ("AutoQL-Signature", "Retry-After", "&quot;title&quot;", "Logged response", "Resend"):
        assert detail not in html, detail
    assert f'<tr class="log-detail" id="log-{log.pk}" hidden>' in html
    assert f'data-detail-url="/webhooks/sandbox/logs/{log.pk}?at=0"' in html
    detail = manager_client.get(f"/webhooks/sandbox/logs/{log.pk}", **HX).content.decode()
    assert "AutoQL-Signature: c2lnbmF0dXJl" in detail and 'aria-label="Logged response"' in detail
    assert f'hx-get="/webhooks/sandbox/logs/{log.pk}/resend?delivery={log.delivery_id}"' in detail


def test_a_rows_detail_needs_a_login_and_its_own_environment(client, manager):
    log = logged_delivery()
    response = client.get(f"/webhooks/sandbox/logs/{log.pk}", **HX)
    # For htmx, a redirect the page itself follows (issue 19), not one htmx would paste into the row.
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/")
    assert response.content == b""
    client.force_login(manager)
    other = client.get(f"/webhooks/production/logs/{log.pk}", **HX).content.decode()
    assert "This row is no longer kept" in other and "c2lnbmF0dXJl" not in other
    assert client.get(f"/webhooks/staging/logs/{log.pk}", **HX).status_code == 404


def test_resend_queues_a_new_attempt(manager_client):
    log = logged_delivery()
    response = manager_client.post(f"/webhooks/sandbox/logs/{log.pk}/resend", **HX)
    assert response.status_code == 204
    assert "webhooks:queued" in response["HX-Trigger"]
    delivery = Delivery.objects.get()
    assert delivery.state == "pending"


def test_a_refused_resend_is_shown_in_the_modal(manager_client):
    Webhook.objects.create(environment="sandbox", url="https://h.example.com/", secret="s" * 43)
    response = manager_client.post("/webhooks/sandbox/logs/999/resend", **HX)
    assert response.status_code == 502 and response["HX-Retarget"] == "#modal-content"
    html = response.content.decode()
    assert "Resending failed" in html and "There is no sandbox log row 999." in html


@pytest.mark.parametrize("environment,label", [("sandbox", "Sandbox"), ("production", "Production")])
def test_resend_asks_first_naming_the_environment_and_the_delivery(manager_client, environment, label):
    response = manager_client.get(
        f"/webhooks/{environment}/logs/42/resend?delivery=3f2a9c1e-0000-4000-8000-000000000000", **HX
    )
    html = response.content.decode()
    assert f"Resend delivery 3f2a9c1e… to the {label} webhook?" in html
    assert 'action="/webhooks/' + environment + '/logs/42/resend"' in html
    assert not Delivery.objects.exists()
    # A delivery id that is not one is not echoed.
    odd = manager_client.get(f"/webhooks/{environment}/logs/42/resend?delivery=<b>x</b>", **HX).content.decode()
    assert f"Resend delivery of log row 42 to the {label} webhook?" in odd and "<b>x" not in odd


def test_resend_asks_first_without_javascript_too(manager_client):
    html = manager_client.get("/webhooks/production/logs/7/resend").content.decode()
    assert "<html" in html and "Resend delivery of log row 7 to the Production webhook?" in html


def test_a_viewer_cannot_resend_or_see_the_button(viewer_client):
    log = logged_delivery()
    assert ">Resend</a>" not in tab_html(viewer_client)
    assert viewer_client.post(f"/webhooks/sandbox/logs/{log.pk}/resend").status_code == 403
    assert Delivery.objects.get().state == "failed"


def test_a_disabled_webhook_says_so_and_why_and_can_be_enabled(manager_client):
    Webhook.objects.create(
        environment="production",
        url="https://p.example.com/",
        secret="s" * 43,
        disabled_at=timezone.now(),
        disabled_reason="No delivery has succeeded since 2026-11-20.",
    )
    html = tab_html(manager_client)
    assert "Deliveries to this webhook are paused." in html
    assert "No delivery has succeeded since 2026-11-20." in html
    response = manager_client.post("/webhooks/production/enable", **HX)
    assert response["HX-Retarget"] == "#card-production"
    assert "paused" not in response.content.decode()
    assert Webhook.objects.get().disabled_at is None
