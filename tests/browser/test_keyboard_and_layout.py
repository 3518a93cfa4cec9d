"""Keyboard alone, a phone-sized screen, and nothing fetched from outside the machine."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from management_api.models import Webhook, WebhookLog

pytestmark = pytest.mark.browser


def test_generate_key_with_the_keyboard_alone(as_manager, portal):
    page = as_manager
    button = page.locator("#card-production").get_by_role("button", name="Generate Key")
    for _ in range(30):
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Generate Key could not be reached with Tab")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("URL")).to_be_focused()
    page.keyboard.type("https://keys.example.com/hook")
    page.keyboard.press("Enter")
    # The new secret is shown once, with Done focused: Enter closes it.
    expect(dialog.get_by_role("button", name="Done")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#card-production")).to_contain_text("https://keys.example.com/hook")
    assert Webhook.objects.get().environment == "production"
    # Keys pressed faster than htmx settles the new card would follow the plain link instead.
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)

    # Focus stays inside an open dialog; Esc closes it and focus returns to the opener.
    regenerate = page.locator("#card-production").get_by_role("button", name="Regenerate")
    regenerate.focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Regenerate")).to_be_visible()
    for _ in range(6):
        page.keyboard.press("Tab")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(regenerate).to_be_focused()


def logged_test_event(message: str) -> WebhookLog:
    return WebhookLog.objects.create(
        environment="sandbox",
        type="test",
        event="test",
        status="success",
        code=200,
        url="https://h.example.com/",
        response={"message": message},
    )


def test_a_log_row_opens_with_the_keyboard_and_loads_its_detail(as_viewer, portal):
    row = logged_test_event("keyboard")
    page = as_viewer
    page.reload()
    expander = page.locator(f'[data-expand="log-{row.pk}"]')
    expander.focus()
    page.keyboard.press("Enter")
    expect(expander).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#log-{row.pk}").get_by_label("Logged response")).to_contain_text('"message": "keyboard"')
    expect(expander).to_be_focused()
    page.keyboard.press("Enter")
    expect(expander).to_have_attribute("aria-expanded", "false")
    expect(page.locator(f"#log-{row.pk}")).to_be_hidden()


def test_a_rows_detail_that_fails_to_load_says_so_and_loads_when_the_row_opens_again(as_viewer, portal):
    row = logged_test_event("second time")
    page = as_viewer
    page.reload()
    # The connection drops while the detail loads.
    page.route(f"**/webhooks/sandbox/logs/{row.pk}?*", lambda route: route.abort())
    expander = page.locator(f'[data-expand="log-{row.pk}"]')
    expander.click()
    detail = page.locator(f"#log-{row.pk}")
    expect(detail).to_contain_text("Couldn't load this row's details.")
    page.unroute(f"**/webhooks/sandbox/logs/{row.pk}?*")
    expander.click()
    expect(expander).to_have_attribute("aria-expanded", "false")
    expander.click()
    expect(detail.get_by_label("Logged response")).to_contain_text('"message": "second time"')


@pytest.mark.screenshots
@pytest.mark.parametrize("width", [1280, 390])
def test_no_sideways_scrolling(as_manager, portal, width, screenshots):
    Webhook.objects.create(
        environment="sandbox", url="https://a-rather-long-host-name.example.com/" + "p" * 120, secret="s" * 43
    )
    for i in range(12):
        WebhookLog.objects.create(
            environment="sandbox",
            type="data_alert",
            event="data_alert.true",
            status="failure",
            code=503,
            url="https://h.example.com/",
            project_id=f"project-{i}",
            response={"error": "x" * 300},
        )
    page = as_manager
    page.set_viewport_size({"width": width, "height": 844})
    page.reload()
    page.locator(".log-row").first.get_by_role("button").click()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    if width == 390:
        page.screenshot(path=str(screenshots / "webhooks-tab-phone.png"), full_page=True)


def test_no_request_leaves_the_machine(page, portal, as_manager):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page.reload()
    page.locator("#card-sandbox").get_by_role("button", name="Generate Key").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert hosts == {urlsplit(portal).hostname}


def test_the_strict_content_security_policy_blocks_nothing_the_tab_uses(page, portal, as_manager):
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on(
        "response",
        lambda response: problems.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    response = page.reload()
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator("#card-sandbox").get_by_role("button", name="Generate Key").click()
    page.get_by_role("dialog").get_by_label("URL").fill("https://csp.example.com/")
    page.get_by_role("dialog").get_by_role("button", name="Continue").click()
    expect(page.locator("#card-sandbox")).to_contain_text("https://csp.example.com/")
    page.goto(f"{portal}/admin/")  # not staff: the admin's own login page, under the same policy
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto(f"{portal}/autoql/management/api/v1/notifications/docs")
    page.wait_for_load_state("networkidle")
    assert problems == []
