"""The logs' deliveries view and a delivery's own page, in Chromium at 1440 and 390 px: the toggle,
opening a delivery, and copying its raw body, whose HMAC must match the signature it was sent with."""

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from management_api import delivery as deliveries
from management_api.models import Delivery, Webhook
from management_api.signing import verify
from tests import factories
from tests.browser.test_accessibility import AXE_CONTEXT, serious_violations, settled
from tests.receiver import VerifyingReceiver

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("allow_loopback")]

WIDTHS: dict[str, ViewportSize] = {"wide": {"width": 1440, "height": 900}, "narrow": {"width": 390, "height": 844}}


def delivered_test_event(httpserver) -> tuple[Webhook, VerifyingReceiver, str]:
    webhook = factories.webhook(url=httpserver.url_for("/hook"))
    receiver = VerifyingReceiver(secret=webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    log, _ = deliveries.deliver_test_event(Webhook.objects.get())
    # Beside it, a delivery that failed and was given up.
    gave_up = factories.delivery(state="failed", attempts=1)
    factories.log_row(delivery_id=gave_up.id, status="failure", code=503)
    return webhook, receiver, str(log.delivery_id)


@pytest.mark.parametrize("width", WIDTHS)
def test_toggle_to_deliveries_open_one_and_copy_its_raw_body(as_manager, portal, httpserver, width, screenshots):
    webhook, receiver, delivery_id = delivered_test_event(httpserver)
    page: Page = as_manager
    page.set_viewport_size(WIDTHS[width])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal)
    page.goto(f"{portal}/?env=sandbox")
    logs = page.locator("#logs")
    expect(logs.locator(".log-row")).to_have_count(2)  # attempts: the test event and the 503

    logs.get_by_role("link", name="Deliveries", exact=True).click()
    expect(page).to_have_url(f"{portal}/?env=sandbox&size=10&page=1&view=deliveries")
    rows = logs.locator(".delivery-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Gave up")
    expect(rows.nth(1)).to_contain_text("Delivered")
    expect(page.locator(".health")).to_contain_text("Deliveries, 24 h")

    # Opening the row shows its attempts.
    rows.nth(1).get_by_role("button").click()
    expect(logs.locator(".timeline-state").first).to_have_text("Delivered on attempt 1.")
    page.screenshot(path=screenshots / f"deliveries-view-{width}.png", full_page=True)

    # Its link is the delivery's own page.
    rows.nth(1).get_by_role("link", name=f"Open delivery {delivery_id}").click()
    expect(page).to_have_url(f"{portal}/deliveries/{delivery_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(delivery_id)
    expect(page.locator(".timeline-state")).to_have_text("Delivered on attempt 1.")
    headers = page.get_by_label("Request headers").inner_text()
    timestamp = next(line.split(": ", 1)[1] for line in headers.splitlines() if line.startswith("AutoQL-Timestamp"))
    signature = next(line.split(": ", 1)[1] for line in headers.splitlines() if line.startswith("AutoQL-Signature"))

    page.screenshot(path=screenshots / f"delivery-page-{width}.png", full_page=True)
    page.get_by_role("button", name="Copy raw body").click()
    expect(page.locator("#copy-status")).to_have_text("Raw body copied to the clipboard, exactly as signed.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.encode() == receiver.received[0]["body"]
    assert verify(webhook.secret, timestamp, signature, copied.encode()) is None

    page.get_by_role("button", name="Copy delivery id").click()
    expect(page.locator("#copy-status")).to_have_text("Delivery id copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == delivery_id

    page.get_by_role("button", name="Copy curl").click()
    curl = page.evaluate("navigator.clipboard.readText()")
    assert curl.startswith("curl -X POST http://127.0.0.1:8000/webhook") and f"AutoQL-Signature: {signature}" in curl

    # Back keeps the deliveries view.
    page.go_back()
    expect(page).to_have_url(f"{portal}/?env=sandbox&size=10&page=1&view=deliveries")
    expect(page.locator("#logs .delivery-row")).to_have_count(2)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_attempt_row_links_to_its_delivery(as_viewer, portal, width):
    made = factories.delivery(state="delivered", attempts=1)
    factories.log_row(delivery_id=made.id)
    page = as_viewer
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{portal}/?env=sandbox")
    page.locator("#logs").get_by_role("link", name=f"Open delivery {made.id}").click()
    expect(page).to_have_url(f"{portal}/deliveries/{made.id}/")
    expect(page.locator(".timeline-state")).to_have_text("Delivered on attempt 1.")


def test_an_unknown_delivery_is_a_404_page(as_viewer, portal):
    page = as_viewer
    response = page.goto(f"{portal}/deliveries/{'0' * 32}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


@AXE_CONTEXT
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_the_deliveries_view_and_a_delivery_page(as_manager, portal, httpserver, theme):
    _, _, delivery_id = delivered_test_event(httpserver)
    page = as_manager
    page.emulate_media(color_scheme=theme)
    page.goto(f"{portal}/?env=sandbox&view=deliveries")
    page.locator("#logs .delivery-row").first.get_by_role("button").click()
    expect(page.locator("#logs .timeline").first).to_be_visible()
    expect(page.locator(".health")).to_be_visible()
    settled(page)
    assert serious_violations(page) == []
    page.goto(f"{portal}/deliveries/{delivery_id}/")
    assert Delivery.objects.filter(pk=delivery_id).exists()
    assert serious_violations(page) == []
