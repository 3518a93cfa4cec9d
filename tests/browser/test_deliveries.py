"""A manager reads a delivery's detail and resends it; the worker's attempt shows up in the logs."""

import pytest
from playwright.sync_api import expect

from management_api import delivery as deliveries
from management_api.alerts import send_data_alert
from management_api.models import Webhook, WebhookLog
from tests.receiver import VerifyingReceiver

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("allow_loopback")]


def test_expand_a_delivery_and_resend_it(as_manager, portal, httpserver):
    webhook = Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="b" * 43)
    receiver = VerifyingReceiver(secret=webhook.secret, status=503)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    queued = send_data_alert("sandbox", "sales-emea", "High Sales")
    deliveries.attempt_delivery(str(queued.id))  # what the worker does

    page = as_manager
    # The page's clock is the test's: the look at the logs after a resend happens when the
    # test moves the clock on, after the worker's attempt, instead of 2.5 s after the click.
    page.clock.install()
    page.reload()
    row = page.locator("#logs .log-row").first
    expect(row).to_contain_text("sales-emea")
    expect(row).to_contain_text("data_alert.true")
    expect(row).to_contain_text("503")
    row.get_by_role("button").click()
    log_id = WebhookLog.objects.get(delivery_id=queued.id, attempt=1).pk
    detail = page.locator("#logs .log-detail").first
    expect(detail.get_by_label("Request headers")).to_contain_text("AutoQL-Signature:")
    expect(detail.get_by_label("Request body")).to_contain_text('"title": "High Sales"')
    expect(detail).to_contain_text("Next attempt")
    expect(detail).not_to_contain_text(webhook.secret)

    receiver.status = 200
    detail.get_by_role("button", name="Resend").click()
    # Resend asks first, naming the environment and the delivery; nothing is queued until then.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Resend delivery {str(queued.id)[:8]}… to the Sandbox webhook?")
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    dialog.get_by_role("button", name="Resend").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("Resend queued")
    assert deliveries.attempt_delivery(str(queued.id)) == "delivered"
    assert WebhookLog.objects.filter(delivery_id=queued.id, status="success", attempt=2).exists()
    # The tab looks again by itself a moment after a resend.
    page.clock.run_for(3000)
    expect(page.locator("#logs .log-row").first).to_contain_text("success")
    # The row being read stays open across that refresh.
    expect(page.locator(f"#log-{log_id}")).to_be_visible()
