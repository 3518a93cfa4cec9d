"""Resend and Recover keep the reader's place: focus stays where it was, the row being read stays
where it was on the screen (the page never jumps to the top), its details stay loaded, and the
new attempt shows up in the open row when it lands."""

import pytest
from playwright.sync_api import expect

from management_api import delivery as deliveries
from management_api.alerts import send_data_alert
from management_api.models import Delivery, Webhook, WebhookLog
from tests import factories
from tests.receiver import VerifyingReceiver

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("allow_loopback")]

# Where the page is and what has focus; every scroll position the page passes through is recorded.
PLACE = """(rowId) => {
  const row = document.querySelector(`[data-expand="${rowId}"]`).closest("tr");
  return {
    y: window.scrollY,
    top: row.getBoundingClientRect().top,
    focusedMarked: document.activeElement.hasAttribute("data-was-focused"),
    focused: document.activeElement.textContent.trim(),
    lowest: Math.min(...window.scrolls),
  };
}"""


def a_failed_delivery_with_newer_rows(httpserver):
    webhook = Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="b" * 43)
    receiver = VerifyingReceiver(secret=webhook.secret, status=503)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    queued = send_data_alert("sandbox", "sales-emea", "High Sales")
    deliveries.attempt_delivery(str(queued.id))
    # Newer rows above it, so that it is read well down the page.
    for i in range(12):
        factories.log_row("sandbox", project_id=f"other-{i}", status="success", code=200)
    return queued, receiver


def open_the_row_mid_screen(page, portal, log_id):
    page.goto(f"{portal}/?env=sandbox&size=25")
    # The health panel above the table loads by itself: once it has, nothing above the row moves.
    expect(page.locator("#logs .health")).to_contain_text("Sandbox health")
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    expander = page.locator(f'[data-expand="log-{log_id}"]')
    expander.evaluate("el => el.closest('tr').scrollIntoView({block: 'center'})")
    expander.click()
    detail = page.locator(f"#log-{log_id}")
    expect(detail.locator(".timeline .attempt")).to_have_count(1)
    return detail


def start_recording_scrolls(page):
    page.evaluate("window.scrolls = [scrollY]; addEventListener('scroll', () => window.scrolls.push(scrollY))")


@pytest.mark.parametrize("width", [1440, 390])
def test_resend_keeps_focus_and_the_row_in_place_and_the_new_attempt_joins_the_open_row(
    as_manager, portal, httpserver, width
):
    queued, receiver = a_failed_delivery_with_newer_rows(httpserver)
    log_id = WebhookLog.objects.get(delivery_id=queued.id, attempt=1).pk
    page = as_manager
    page.set_viewport_size({"width": width, "height": 900})
    # The page's clock is the test's: the tab looks at the logs again when the test moves it on,
    # after the worker's attempt, instead of 2.5 s after the click.
    page.clock.install()
    detail = open_the_row_mid_screen(page, portal, log_id)

    receiver.status = 200
    detail.get_by_role("button", name="Resend").click()
    dialog = page.get_by_role("dialog")
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    dialog.get_by_role("button", name="Resend").click()
    expect(dialog).to_be_hidden()
    page.evaluate("document.activeElement.setAttribute('data-was-focused', '')")
    start_recording_scrolls(page)
    before = page.evaluate(PLACE, f"log-{log_id}")
    assert before["focused"] == "Resend" and before["y"] > 300

    assert deliveries.attempt_delivery(str(queued.id)) == "delivered"
    page.clock.run_for(3000)
    # The table was refreshed: the new attempt is its first row...
    expect(page.locator("#logs .log-row").first).to_contain_text("success")
    expect(page.locator("#logs .log-row")).to_have_count(14)
    # ... and the open row stayed open, with its details, and gained the attempt.
    expect(detail.locator(".timeline .attempt")).to_have_count(2)
    expect(detail.locator(".timeline .attempt").last).to_contain_text("success")
    expect(detail).not_to_contain_text("Loading")
    after = page.evaluate(PLACE, f"log-{log_id}")
    assert after["focusedMarked"] and after["focused"] == "Resend"
    # The row is where it was on the screen: the page moved down by the new row above it, and at
    # no moment towards the top.
    assert abs(after["top"] - before["top"]) <= 1
    assert after["y"] > before["y"] and after["lowest"] >= before["y"]
    # Resend still works in the details carried over.
    detail.get_by_role("button", name="Resend").click()
    expect(dialog).to_contain_text("Resend delivery")


def test_recover_keeps_the_open_row_and_focus(as_manager, portal, httpserver):
    queued, _receiver = a_failed_delivery_with_newer_rows(httpserver)
    Delivery.objects.filter(pk=queued.id).update(state="failed")  # given up: Recover sends it again
    log_id = WebhookLog.objects.get(delivery_id=queued.id, attempt=1).pk
    page = as_manager
    detail = open_the_row_mid_screen(page, portal, log_id)
    recover = page.get_by_role("button", name="Recover failed deliveries…")
    recover.scroll_into_view_if_needed()
    start_recording_scrolls(page)
    recover.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Resend 1 failed Sandbox delivery since")
    dialog.get_by_role("button", name="Resend").click()
    expect(dialog).to_contain_text("queued")
    before = page.evaluate(PLACE, f"log-{log_id}")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(recover).to_be_focused()
    # The refresh that Recover asked for kept the row open with its details.
    expect(page.locator(f'[data-expand="log-{log_id}"]')).to_have_attribute("aria-expanded", "true")
    expect(detail.locator(".timeline .attempt")).to_have_count(1)
    expect(detail).not_to_contain_text("Loading")
    after = page.evaluate(PLACE, f"log-{log_id}")
    assert after["y"] == before["y"] and after["lowest"] >= before["y"] - 1
