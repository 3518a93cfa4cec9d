"""Logs first (issue 19, item 6): the table starts in the first screen, the filters keep to one
line with the rest behind "More filters", and the keyboard reaches the first row in a few Tabs."""

import re

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from management_api.models import Webhook
from tests.browser.test_accessibility import AXE_CONTEXT, serious_violations, settled, write_logs

pytestmark = pytest.mark.browser

WIDE, PHONE = ViewportSize(width=1440, height=900), ViewportSize(width=390, height=844)


def configured_tab(page: Page, portal: str, viewport: ViewportSize, query: str = "") -> Page:
    for environment in ("sandbox", "production"):
        Webhook.objects.create(environment=environment, url=f"https://{environment}.example.com/hook", secret="s" * 43)
    write_logs(30, "sandbox")
    page.set_viewport_size(viewport)
    page.goto(f"{portal}/?env=sandbox{query}")
    page.locator("#logs .health").wait_for()
    settled(page)
    return page


def first_row_top(page: Page) -> float:
    box = page.locator("#logs .log-row").first.bounding_box()
    assert box is not None
    return box["y"]


def test_the_first_row_is_in_the_first_screen_at_1440_px(as_manager, portal):
    page = configured_tab(as_manager, portal, WIDE)
    assert first_row_top(page) < WIDE["height"]
    # The filter bar is one line: every control in it shares the first control's row.
    bar = page.locator("#logs .log-filters")
    tops = bar.locator("select:visible, input:visible, button:visible, summary").evaluate_all(
        "els => els.map(el => Math.round(el.getBoundingClientRect().bottom))"
    )
    assert len(tops) >= 4 and max(tops) - min(tops) <= 8, tops
    expect(bar.get_by_label("Project ID")).to_be_hidden()


def test_the_first_row_is_within_two_screens_at_390_px(as_manager, portal):
    page = configured_tab(as_manager, portal, PHONE)
    assert first_row_top(page) < 2 * PHONE["height"]
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1440", "390"])
def test_the_keyboard_reaches_the_first_row_in_at_most_8_tabs_from_the_toggle(as_manager, portal, viewport):
    page = configured_tab(as_manager, portal, viewport)
    page.get_by_role("navigation", name="Environment of the logs").get_by_role("link", name="Sandbox").focus()
    first_expander = page.locator("#logs .log-row").first.locator("[data-expand]")
    stops: list[str] = []
    while len(stops) < 8 and not first_expander.evaluate("el => el === document.activeElement"):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.textContent.trim() || document.activeElement.name"))
    assert first_expander.evaluate("el => el === document.activeElement"), stops


def test_more_filters_is_closed_until_a_filter_behind_it_is_set(as_viewer, portal):
    page = configured_tab(as_viewer, portal, WIDE)
    logs = page.locator("#logs")
    more = logs.locator("details.more-filters")
    expect(more).not_to_have_attribute("open", re.compile(".*"))
    logs.get_by_text("More filters").click()
    logs.get_by_label("Project ID").fill("sandbox-7")
    logs.get_by_label("Project ID").press("Enter")
    expect(page).to_have_url(re.compile(r"project_id=sandbox-7"))
    expect(logs.locator(".log-row")).to_have_count(1)
    # Reloaded with the filter set, it opens by itself and shows the field's value.
    page.reload()
    expect(logs.locator("details.more-filters")).to_have_attribute("open", "")
    expect(logs.get_by_label("Project ID")).to_have_value("sandbox-7")
    # A filter in the bar's line leaves it closed.
    page.goto(f"{portal}/?env=sandbox&status=failure")
    expect(logs.locator(".log-row")).to_have_count(10)
    expect(logs.locator("details.more-filters")).not_to_have_attribute("open", re.compile(".*"))
    # A custom time range opens it: its From and To are there.
    logs.get_by_label("Time", exact=True).select_option("custom")
    expect(logs.get_by_label("From (UTC)")).to_be_visible()


@AXE_CONTEXT
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1440", "390"])
def test_axe_finds_nothing_serious_with_more_filters_closed_and_open(as_manager, portal, theme, viewport):
    as_manager.emulate_media(color_scheme=theme)
    page = configured_tab(as_manager, portal, viewport)
    assert serious_violations(page) == []
    page.locator("#logs").get_by_text("More filters").click()
    expect(page.locator("#logs").get_by_label("Project ID")).to_be_visible()
    assert serious_violations(page) == []
