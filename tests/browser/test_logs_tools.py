"""The logs' filters, a delivery's attempts, recover and the live table, as a person uses them."""

import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from management_api.models import Delivery, Webhook, WebhookLog

pytestmark = pytest.mark.browser


def log(**fields) -> WebhookLog:
    values = {
        "environment": "sandbox",
        "type": "data_alert",
        "event": "data_alert.true",
        "status": "success",
        "code": 200,
        "url": "https://hooks.example.com/",
        **fields,
    }
    return WebhookLog.objects.create(**values)


def test_filters_live_in_the_url_with_back_chips_and_clear(as_viewer, portal):
    log(project_id="p1", status="failure", code=500)
    log(project_id="p2", status="failure", code=500)
    log(project_id="p1", status="success")
    page = as_viewer
    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    logs = page.locator("#logs")
    rows = logs.locator(".log-row")
    expect(rows).to_have_count(3)

    # Keyboard only: choose the status, then Enter in a text field submits the form.
    logs.get_by_label("Status", exact=True).select_option("failure")
    logs.get_by_text("More filters").click()  # Project ID waits behind it (issue 19, item 6)
    logs.get_by_label("Project ID").fill("p1")
    logs.get_by_label("Project ID").press("Enter")
    expect(page).to_have_url(re.compile(r"status=failure.*project_id=p1"))
    expect(rows).to_have_count(1)
    expect(logs.get_by_role("link", name="Remove the filter Status: Failure")).to_be_visible()
    expect(logs.get_by_role("link", name="Remove the filter Project: p1")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0

    logs.get_by_role("link", name="Remove the filter Project: p1").click()
    expect(page).not_to_have_url(re.compile(r"project_id=p1"))
    expect(rows).to_have_count(2)
    expect(logs.get_by_label("Project ID")).to_have_value("")

    page.go_back()
    expect(rows).to_have_count(1)
    expect(logs.get_by_label("Project ID")).to_have_value("p1")

    page.reload()
    expect(rows).to_have_count(1)
    expect(logs.get_by_label("Status", exact=True)).to_have_value("failure")

    logs.get_by_label("Project ID").fill("nobody")
    logs.get_by_role("button", name="Apply").click()
    expect(logs).to_contain_text("No Sandbox deliveries match status Failure and project nobody.")

    logs.get_by_role("button", name="Clear").click()
    expect(rows).to_have_count(3)
    expect(page).not_to_have_url(re.compile(r"status="))
    expect(logs.get_by_role("link", name=re.compile("Remove the filter"))).to_have_count(0)


def test_a_bad_delivery_id_shows_its_error_beside_the_field(as_viewer, portal):
    log(project_id="p1")
    page = as_viewer
    logs = page.locator("#logs")
    logs.get_by_label("AutoQL-Delivery-Id").fill("abc")
    logs.get_by_label("AutoQL-Delivery-Id").press("Enter")
    expect(logs.locator("#filter-delivery_id-error")).to_contain_text("at least its first 8 characters")
    expect(logs.locator(".log-row")).to_have_count(0)


def test_an_expanded_row_shows_every_attempt_of_its_delivery(as_viewer, portal):
    delivery = Delivery.objects.create(
        environment="sandbox", type="data_alert", event="data_alert.true", state="delivered", attempts=2
    )
    log(delivery_id=delivery.id, attempt=1, status="failure", code=503, error="the receiver answered 503")
    log(delivery_id=delivery.id, attempt=2, status="success", code=200)
    page = as_viewer
    page.reload()
    newest = page.locator("#logs .log-row").first
    newest.get_by_role("button").focus()
    page.keyboard.press("Enter")
    detail = page.locator("#logs .log-detail").first
    # The attempts load when their slot is seen (hx-trigger="intersect once"); with the health
    # panel in the page above the table, an opened first row's attempts can start below the fold.
    detail.locator(".timeline-slot").scroll_into_view_if_needed()
    timeline = detail.locator(".timeline")
    expect(timeline).to_contain_text("Delivered on attempt 2.")
    expect(timeline.locator("tr.attempt")).to_have_count(2)
    expect(timeline.locator("tr.attempt").first).to_contain_text("the receiver answered 503")


def test_recover_asks_with_the_count_then_queues(as_manager, portal):
    Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/", secret="s" * 43)
    for _ in range(2):
        Delivery.objects.create(
            environment="sandbox", type="data_alert", event="data_alert.true", state="failed", attempts=5
        )
    page = as_manager
    page.reload()
    page.get_by_role("button", name="Recover failed deliveries…").click()
    dialog = page.locator("#modal")
    asked = re.compile(r"Resend 2 failed Sandbox deliveries since (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\?")
    expect(dialog).to_contain_text(asked)
    dialog.get_by_label("The last hour").check()
    # The question for the last hour reads like the one it replaces: wait for its answer, or the
    # Resend below may be pressed on the old form and its result replaced by that answer.
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    expect(dialog).to_contain_text(re.compile(r"Resend 2 failed Sandbox deliveries since"))
    dialog.get_by_role("button", name="Resend").click()
    expect(dialog).to_contain_text("2 failed Sandbox deliveries queued")
    assert Delivery.objects.filter(recovery_of__isnull=False).count() == 2


def test_a_viewer_has_no_recover_button(as_viewer, portal):
    log()
    page = as_viewer
    page.reload()
    expect(page.locator("#logs .health")).to_contain_text("Sandbox health")
    expect(page.get_by_role("button", name="Recover failed deliveries…")).to_have_count(0)
    expect(page.get_by_role("link", name="Export CSV")).to_be_visible()


def test_a_new_delivery_appears_on_page_one_while_an_open_row_stays_open(as_viewer, portal):
    first = log(project_id="first")
    page = as_viewer
    # The page's clock is the test's: the 5 s check runs when the test moves the clock on.
    page.clock.install()
    page.reload()
    rows = page.locator("#logs .log-row")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("button").click()
    expect(page.locator(f"#log-{first.id}")).to_be_visible()

    log(project_id="second")
    page.clock.run_for(6000)
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("second")
    expect(page.locator(f"#log-{first.id}")).to_be_visible()
    expect(page.locator(f'[data-expand="log-{first.id}"]')).to_have_attribute("aria-expanded", "true")
    # ... with its detail, loaded again into the new table.
    expect(page.locator(f"#log-{first.id}").get_by_label("Logged response")).to_be_visible()


def test_on_page_two_new_deliveries_are_offered_not_swapped_in(as_viewer, portal):
    for i in range(11):
        log(project_id=f"old-{i}")
    page = as_viewer
    page.clock.install()
    page.goto(f"{portal}/?env=sandbox&page=2")
    rows = page.locator("#logs .log-row")
    expect(rows).to_have_count(1)
    # The check has learnt the newest row there is (it is on page 1) and polls from there.
    expect(page.locator('#logs-new[hx-trigger="every 5s"]')).to_have_count(1)
    log(project_id="newest")
    page.clock.run_for(6000)
    notice = page.locator("#logs-new")
    expect(notice).to_contain_text("1 new Sandbox delivery.")
    expect(rows).to_have_count(1)
    notice.get_by_role("link", name="Go to page 1").click()
    expect(rows.first).to_contain_text("newest")


def test_relative_times_move_on_by_themselves(as_viewer, portal):
    row = log(project_id="p1")
    page = as_viewer
    page.clock.install()
    page.reload()
    created = page.locator(f'[data-expand="log-{row.id}"]').locator("xpath=ancestor::tr").locator("time")
    expect(created).not_to_contain_text("minutes ago")
    expect(created).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"))
    page.clock.run_for(120_000)
    expect(created).to_contain_text("2 minutes ago")


def test_health_shows_its_figures_and_chart_and_export_downloads_the_filtered_rows(as_viewer, portal, settings):
    # The (empty) panel seen at sign-in would be kept for HEALTH_PANEL_CACHE_SECONDS, and its
    # request may still be on its way: compute the panel afresh on every load here.
    settings.HEALTH_PANEL_CACHE_SECONDS = 0
    cache.clear()
    log(project_id="p1", status="failure", code=500, duration_ms=120)
    log(project_id="p2", status="success", duration_ms=80)
    page = as_viewer
    page.goto(f"{portal}/?env=sandbox&status=failure")
    health = page.locator("#logs .health")
    expect(health).to_contain_text("Sandbox health")
    expect(health.get_by_role("img")).to_have_accessible_name(re.compile(r"1 succeeded, 1 failed"))
    expect(health.locator("rect.bar-bad")).not_to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    exported = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "p1" in exported and "p2" not in exported


def test_a_failing_webhook_says_so_on_its_card(as_viewer, portal):
    Webhook.objects.create(
        environment="sandbox", url="https://hooks.example.com/a", failing_since=timezone.now(), alert_state="failing"
    )
    log(status="failure", code=500, error="the receiver answered 500")
    page = as_viewer
    page.reload()
    card = page.locator("#card-sandbox")
    expect(card.get_by_role("status")).to_contain_text("Failing since")
    expect(card).to_contain_text("last error: the receiver answered 500")


def test_a_kept_health_panel_comes_in_the_page_and_follows_the_environment_toggle(as_viewer, portal):
    page = as_viewer
    # The panel the sign-in page asked for is done (and kept), before the row and the clearing.
    expect(page.locator("#health-sandbox .health")).to_have_count(1)
    log(project_id="p1", status="failure", code=500, duration_ms=120)
    cache.clear()
    page.goto(f"{portal}/?env=sandbox")
    sandbox = page.locator("#health-sandbox")
    expect(sandbox).to_contain_text("0 succeeded, 1 failed")
    # Kept now: the next load brings it in the page, with no request of its own.
    page.reload()
    expect(sandbox).to_contain_text("0 succeeded, 1 failed")
    expect(sandbox).not_to_have_attribute("hx-trigger", "load")
    page.get_by_role("navigation", name="Environment of the logs").get_by_role("link", name="Production").click()
    expect(page.locator("#health-production")).to_contain_text("Production health")
    expect(sandbox).to_have_count(0)
    page.get_by_role("navigation", name="Environment of the logs").get_by_role("link", name="Sandbox").click()
    expect(sandbox).to_contain_text("0 succeeded, 1 failed")
    expect(page.locator("#health-production")).to_have_count(0)
    # A refresh of the table keeps the panel shown.
    page.evaluate("htmx.trigger(document.body, 'logs:refresh')")
    expect(page.locator("#logs .log-row")).to_have_count(1)
    expect(sandbox.locator(".health")).to_have_count(1)
    expect(sandbox).to_contain_text("Sandbox health")
