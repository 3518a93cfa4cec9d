"""The logs table: toggle, paging, page size, back button and reload, as a person uses them."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from management_api.log_search import NEWEST_FIRST
from management_api.models import WebhookLog
from tests import factories

pytestmark = pytest.mark.browser


def write_logs(count, environment):
    for i in range(count):
        WebhookLog.objects.create(
            environment=environment,
            type="data_alert",
            event="data_alert.true",
            status="success",
            code=200,
            url="https://h.example.com/",
            project_id=f"{environment}-{i}",
            response={"row": i, "html": "<b>x</b>"},
        )


def test_toggle_paging_and_history(as_manager, portal):
    write_logs(2, "sandbox")
    write_logs(30, "production")
    page = as_manager
    page.reload()
    logs = page.locator("#logs")
    for header in ("Project ID", "Type", "Event", "Status", "Code", "Created At"):
        expect(logs.get_by_role("columnheader", name=header)).to_be_visible()
    expect(logs.locator(".log-row")).to_have_count(2)

    logs.get_by_role("link", name="Production").click()
    expect(page).to_have_url(re.compile(r"env=production"))
    expect(logs.locator(".log-row")).to_have_count(10)
    expect(logs).to_contain_text("Page 1 of 3")
    expect(logs.locator(".log-row").first).to_contain_text("production-29")

    logs.get_by_role("button", name="Next").click()
    expect(logs).to_contain_text("Page 2 of 3")
    expect(logs.locator(".log-row").first).to_contain_text("production-19")
    expect(page).to_have_url(re.compile(r"page=2"))

    logs.get_by_label("Rows per page").select_option("25")
    expect(logs).to_contain_text("Page 1 of 2")
    expect(logs.locator(".log-row")).to_have_count(25)
    expect(page).to_have_url(re.compile(r"size=25"))

    logs.get_by_role("button", name="Next").click()
    expect(logs.locator(".log-row")).to_have_count(5)
    page.reload()
    expect(logs).to_contain_text("Page 2 of 2")
    expect(logs.locator(".log-row")).to_have_count(5)

    page.go_back()
    expect(logs).to_contain_text("Page 1 of 2")
    page.go_back()
    expect(logs).to_contain_text("Page 2 of 3")

    logs.get_by_role("button", name="Previous").click()
    expect(logs).to_contain_text("Page 1 of 3")
    # The pager answers the keyboard like buttons do: Space as well as Enter.
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    logs.get_by_role("button", name="Next").focus()
    page.keyboard.press(" ")
    expect(logs).to_contain_text("Page 2 of 3")
    logs.get_by_role("button", name="Previous").click()
    expect(logs).to_contain_text("Page 1 of 3")

    # A row expands to its response, escaped, and collapses again. Closed, the page holds none of it.
    first = logs.locator(".log-row").first
    detail = logs.locator(".log-detail").first
    expect(detail.get_by_label("Logged response")).to_have_count(0)
    first.get_by_role("button").click()
    expect(detail).to_be_visible()
    expect(detail.get_by_label("Logged response")).to_contain_text('"html": "<b>x</b>"')
    first.get_by_role("button").click()
    expect(detail).to_be_hidden()


def test_the_empty_state(as_manager, portal):
    expect(as_manager.locator("#logs")).to_contain_text("No sandbox deliveries yet.")
    expect(as_manager.locator("#logs")).to_contain_text("Page 1 of 1")


def test_first_last_the_page_jump_and_a_page_past_the_end(as_manager, portal):
    write_logs(45, "sandbox")
    page = as_manager
    page.goto(f"{portal}/?env=sandbox&size=10&page=999")
    logs = page.locator("#logs")
    expect(logs).to_contain_text("Page 5 of 5")
    expect(logs).to_contain_text("there is no page 999; this is the last")
    expect(page).to_have_url(re.compile(r"page=5$"))
    logs.get_by_role("button", name="First").click()
    expect(logs).to_contain_text("Page 1 of 5")
    logs.get_by_role("button", name="Last").click()
    expect(logs).to_contain_text("Page 5 of 5")
    expect(logs.locator(".log-row")).to_have_count(5)
    logs.get_by_label("Page", exact=True).fill("3")
    logs.get_by_role("button", name="Go").click()
    expect(logs).to_contain_text("Page 3 of 5")
    expect(page).to_have_url(re.compile(r"page=3"))
    page.reload()
    expect(logs).to_contain_text("Page 3 of 5")


def test_last_and_back_under_a_capped_count_of_50000_matching_rows(as_manager, portal):
    # Issue 19, item 2: the count stops at 10,001, yet Last reaches the oldest match and back.
    factories.history(50_000, until=timezone.now() - timedelta(hours=1), status="failure")
    factories.history(5, until=timezone.now(), status="success")
    failures = WebhookLog.objects.filter(status="failure").order_by(*NEWEST_FIRST)
    newest, oldest = failures[0], failures.reverse()[0]
    page = as_manager
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{portal}/?env=sandbox&size=10&status=failure")
    logs = page.locator("#logs")
    pager = logs.get_by_role("navigation", name="Pages of the logs")
    expect(pager).to_contain_text("Page 1 of at least 1001")
    expect(pager).to_contain_text("at least 10001 rows")

    pager.get_by_role("button", name="Last").click()
    expect(pager).to_contain_text("Last page")
    expect(page).to_have_url(re.compile(r"page=-1&status=failure"))
    expect(page.locator("#announcer")).to_have_text("Last page")
    expect(logs.locator(".log-row").last.get_by_role("button")).to_have_attribute("aria-controls", f"log-{oldest.pk}")
    # On the last page, Last is disabled and keeps the focus; Previous goes on towards newer rows.
    expect(pager.get_by_role("button", name="Last")).to_have_attribute("aria-disabled", "true")
    expect(pager.get_by_role("button", name="Last")).to_be_focused()

    pager.get_by_role("button", name="Previous").click()
    expect(pager).to_contain_text("Page 2 from the end")
    expect(page.locator("#announcer")).to_have_text("Page 2 from the end")
    page.reload()
    expect(pager).to_contain_text("Page 2 from the end")

    pager.get_by_role("button", name="First").click()
    expect(pager).to_contain_text("Page 1 of at least 1001")
    expect(logs.locator(".log-row").first.get_by_role("button")).to_have_attribute("aria-controls", f"log-{newest.pk}")
    page.go_back()
    expect(pager).to_contain_text("Page 2 from the end")
    page.go_back()
    expect(pager).to_contain_text("Last page")
