"""The health panel's chart (issue 19, item 7): a time axis, an hour's figures on hover and on
keyboard focus, the panel's width, a click that filters the table to that hour, and a panel that
follows the deliveries that land."""

import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from management_api.models import WebhookLog
from tests.browser.test_accessibility import AXE_CONTEXT, serious_violations, settled
from tests.browser.test_logs_first import PHONE, WIDE

pytestmark = pytest.mark.browser


def log(**fields) -> WebhookLog:
    values = {"environment": "sandbox", "type": "data_alert", "event": "data_alert.true", "status": "success"}
    return WebhookLog.objects.create(**{"code": 200, "url": "https://hooks.example.com/", **values, **fields})


def two_hours_of_logs() -> tuple[str, str]:
    """Two successes two hours ago and a failure now; the two hours' labels as the chart says them."""
    now = timezone.now()
    for _ in range(2):
        WebhookLog.objects.filter(pk=log().pk).update(created_at=now - timedelta(hours=2))
    log(status="failure", code=503)
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    earlier = hour - timedelta(hours=2)
    return (
        f"{earlier:%H:%M}–{earlier + timedelta(hours=1):%H:%M} UTC: 2 succeeded, 0 failed",
        f"{hour:%H:%M}–{hour + timedelta(hours=1):%H:%M} UTC: 0 succeeded, 1 failed",
    )


def health_of(page: Page, portal: str) -> Page:
    page.goto(f"{portal}/?env=sandbox")
    page.locator("#health-sandbox .health").wait_for()
    settled(page)
    return page


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1440", "390"])
def test_an_hour_shows_its_figures_on_hover_and_focus_and_a_click_filters_the_table(as_viewer, portal, viewport):
    earlier, latest = two_hours_of_logs()
    page = as_viewer
    page.set_viewport_size(viewport)
    health = health_of(page, portal).locator("#health-sandbox")
    hours = health.locator(".chart-hour")
    tip = health.locator(".chart-tip")
    expect(hours).to_have_count(24)

    # The chart fills the panel, with a time axis under it.
    chart, panel = health.locator("svg").bounding_box(), health.locator(".health").bounding_box()
    assert chart and panel and chart["width"] > 0.9 * panel["width"]
    expect(health.locator(".chart-axis span").filter(has_text=re.compile(r"^\d\d:00$"))).to_have_count(4)

    hours.last.hover()
    expect(tip).to_have_text(latest)
    # The keyboard: one Tab stop, the arrow keys move between the hours and show each one's figures.
    expect(hours.locator("xpath=self::*[not(@tabindex='-1')]")).to_have_count(1)
    hours.last.focus()
    expect(tip).to_have_text(latest)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(hours.nth(21)).to_be_focused()
    expect(tip).to_have_text(earlier)
    expect(hours.nth(21)).to_have_accessible_name(f"{earlier}. Show them in the table.")

    # Enter (or a click) filters the table to that hour, in the URL like any filter.
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"range=custom&since=[^&]+&until="))
    rows = page.locator("#logs .log-row")
    expect(rows).to_have_count(2)
    expect(page.locator("#logs .pill-bad")).to_have_count(0)
    expect(page.locator("#logs details.more-filters")).to_have_attribute("open", "")
    health.locator(".chart-hour").last.click()
    expect(rows).to_have_count(1)
    expect(page.locator("#logs .pill-bad")).to_have_count(1)
    page.reload()
    expect(rows).to_have_count(1)


def test_the_panel_follows_the_deliveries_that_land_while_the_tab_is_open(as_viewer, portal):
    log()
    page = health_of(as_viewer, portal)
    health = page.locator("#health-sandbox")
    expect(health.get_by_role("img")).to_have_accessible_name(re.compile(r"1 succeeded, 0 failed"))
    expect(health).to_contain_text(re.compile(r"as of \S"))
    log(status="failure", code=500)
    # The live check (every 5 s) refreshes the table, and the panel with it: no reload, no clearing.
    expect(page.locator("#logs .log-row")).to_have_count(2, timeout=20_000)
    expect(health.get_by_role("img")).to_have_accessible_name(re.compile(r"1 succeeded, 1 failed"), timeout=10_000)


@AXE_CONTEXT
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_chart_with_an_hour_focused(as_viewer, portal, theme):
    two_hours_of_logs()
    as_viewer.emulate_media(color_scheme=theme)
    page = health_of(as_viewer, portal)
    page.locator("#health-sandbox .chart-hour").last.focus()
    expect(page.locator("#health-sandbox .chart-tip")).to_contain_text("1 failed")
    assert serious_violations(page) == []
