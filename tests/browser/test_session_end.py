"""When the session ends (here: signed out in another tab), whatever the tab asks next (the live
check, Next, opening a row) leads to one clean sign-in page, and signing in brings back the same
environment, filters and page."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from management_api.models import Webhook, WebhookLog

pytestmark = pytest.mark.browser

TAB_QUERY = "env=production&status=failure&page=2"


def write_failures(count):
    for i in range(count):
        WebhookLog.objects.create(
            environment="production",
            type="data_alert",
            event="data_alert.true",
            status="failure",
            code=500,
            url="https://h.example.com/",
            project_id=f"failing-{i}",
        )


def sign_out_in_another_tab(page, portal):
    other = page.context.new_page()
    other.goto(f"{portal}/")
    other.get_by_role("button", name="Log out").click()
    expect(other).to_have_url(re.compile(r"/accounts/login/"))
    other.close()


def expect_one_clean_sign_in_page(page, portal):
    page.wait_for_url(re.compile(r"/accounts/login/\?next="), timeout=15_000)
    expect(page.get_by_role("heading", name="Sign in")).to_have_count(1)
    expect(page.locator("header")).to_have_count(1)
    expect(page.locator("#logs")).to_have_count(0)


def sign_in_again(page):
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("manager-pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()


def expect_back_where_it_was(page, query):
    shown = urlsplit(page.url)
    assert shown.path == "/" and dict(parse_qsl(shown.query)) == dict(parse_qsl(query))
    expect(page.locator("#logs")).to_contain_text("Page 2 of 3")
    expect(page.locator("#logs .log-row").first).to_contain_text("failing-19")


def stop_the_live_check(page):
    # So that the control pressed next, not the 5-second check, is what meets the ended session.
    page.evaluate("document.getElementById('logs-new') && document.getElementById('logs-new').remove()")


@pytest.mark.parametrize("width", [1440, 390])
def test_the_live_check_next_and_opening_a_row_each_lead_to_sign_in_and_back(as_manager, portal, width):
    write_failures(30)
    WebhookLog.objects.create(environment="production", type="test", event="test", status="success", code=200)
    page = as_manager
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{portal}/?{TAB_QUERY}")
    expect_back_where_it_was(page, TAB_QUERY)

    # The live check, every 5 s.
    sign_out_in_another_tab(page, portal)
    expect_one_clean_sign_in_page(page, portal)
    sign_in_again(page)
    expect_back_where_it_was(page, TAB_QUERY)

    # Next: the page it was on, not the one it was going to.
    stop_the_live_check(page)
    sign_out_in_another_tab(page, portal)
    page.locator("#logs").get_by_role("button", name="Next").click()
    expect_one_clean_sign_in_page(page, portal)
    sign_in_again(page)
    expect_back_where_it_was(page, TAB_QUERY)

    # Opening a row, which loads its request and response.
    stop_the_live_check(page)
    sign_out_in_another_tab(page, portal)
    page.locator("#logs .log-row").first.get_by_role("button").click()
    expect_one_clean_sign_in_page(page, portal)
    sign_in_again(page)
    expect_back_where_it_was(page, TAB_QUERY)


def test_copy_after_the_session_ended_leads_to_sign_in(as_manager, portal):
    Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/", secret="s" * 40 + "WXYZ")
    page = as_manager
    page.goto(f"{portal}/?env=sandbox")
    stop_the_live_check(page)
    sign_out_in_another_tab(page, portal)
    page.locator("#card-sandbox").get_by_role("button", name="Copy", exact=True).click()
    expect_one_clean_sign_in_page(page, portal)
    sign_in_again(page)
    assert dict(parse_qsl(urlsplit(page.url).query)) == {"env": "sandbox"}
