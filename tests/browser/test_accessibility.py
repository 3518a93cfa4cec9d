"""Keyboard and screen readers: where focus lands after a swap, what is announced, the skip link,
and axe-core's checks on every state of the tab (light and dark)."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from management_api.models import Webhook, WebhookLog

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# axe is injected as a script of its own: the portal's CSP (script-src 'self') would refuse it.
AXE_CONTEXT = pytest.mark.browser_context_args(bypass_csp=True)


def write_logs(count: int, environment: str) -> None:
    for i in range(count):
        WebhookLog.objects.create(
            environment=environment,
            type="data_alert",
            event="data_alert.true",
            status="success" if i % 3 else "failure",
            code=200 if i % 3 else 503,
            url="https://h.example.com/hooks/autoql",
            project_id=f"{environment}-{i}",
            response={"row": i},
        )


def serious_violations(page: Page) -> list[tuple[str, str, list]]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["help"], [node["target"] for node in v["nodes"]])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def settled(page: Page) -> None:
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)


def test_focus_and_announcements_follow_the_pager_and_the_toggle(as_manager, portal):
    write_logs(2, "sandbox")
    write_logs(30, "production")
    page = as_manager
    page.goto(f"{portal}/?env=production")
    logs = page.locator("#logs")
    announcer = page.locator("#announcer")

    logs.get_by_role("button", name="Next").focus()
    page.keyboard.press("Enter")
    expect(logs).to_contain_text("Page 2 of 3")
    expect(logs.get_by_role("button", name="Next")).to_be_focused()
    expect(announcer).to_have_text("Page 2 of 3")

    page.keyboard.press("Enter")
    expect(logs).to_contain_text("Page 3 of 3")
    # On the last page "Next" is a disabled button of the same name: it keeps the focus.
    expect(logs.get_by_role("button", name="Next")).to_be_focused()
    expect(announcer).to_have_text("Page 3 of 3")

    logs.get_by_role("button", name="Previous").focus()
    page.keyboard.press("Enter")
    expect(announcer).to_have_text("Page 2 of 3")
    expect(logs.get_by_role("button", name="Previous")).to_be_focused()
    # The next Tab goes on from the pager, not from the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#logs') !== null")

    # A new page size: focus is on the select (where the keyboard changed it); the page is announced.
    page.evaluate("document.activeElement.blur()")
    logs.get_by_label("Rows per page").select_option("25")
    expect(announcer).to_have_text("Page 1 of 2")
    expect(logs.get_by_label("Rows per page")).to_be_focused()

    # Enter pressed while htmx still settles the new size would go to the plain link instead.
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    logs.get_by_role("link", name="Sandbox").focus()
    page.keyboard.press("Enter")
    expect(logs.locator(".log-row")).to_have_count(2)
    expect(logs.locator(".log-row").first).to_be_focused()
    expect(announcer).to_have_text("Sandbox logs")


def test_focus_lands_on_the_card_a_modal_changed(as_manager, portal):
    page = as_manager
    card = page.locator("#card-sandbox")
    generate = card.get_by_role("button", name="Generate Key")
    # The card loads as its own request; htmx takes its buttons over when it settles.
    expect(generate).to_be_visible()
    settled(page)
    generate.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("URL").fill("https://focus.example.com/hook")
    settled(page)  # htmx takes over the new form when it settles; before that Enter posts it plainly
    page.keyboard.press("Enter")
    # The new secret is shown once; the card behind the modal is already the new one.
    expect(dialog).to_contain_text("Your new secret key (Sandbox)")
    expect(card).to_contain_text("https://focus.example.com/hook")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(card).to_be_focused()

    settled(page)
    card.get_by_role("button", name="Regenerate").focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Regenerate")).to_be_visible()
    settled(page)
    dialog.get_by_role("button", name="Regenerate").click()
    expect(dialog).to_contain_text("Your regenerated secret key (Sandbox)")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(card).to_be_focused()


def test_the_skip_link_comes_first_and_skips_to_the_content(as_manager, portal):
    page = as_manager
    page.reload()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    # From there the next Tab lands in the content, past the top bar.
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


@AXE_CONTEXT
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_tab_and_its_modals(as_manager, portal, settings, closed_port, theme):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    Webhook.objects.create(environment="sandbox", url=f"http://127.0.0.1:{closed_port}/hook", secret="a" * 43)
    write_logs(12, "sandbox")
    page = as_manager
    page.emulate_media(color_scheme=theme)
    page.reload()
    page.locator("#logs .log-row").first.click()  # one row expanded, its detail loaded
    expect(page.locator("#logs .log-detail").first.get_by_label("Logged response")).to_be_visible()
    assert serious_violations(page) == []

    dialog = page.get_by_role("dialog")
    page.locator("#card-production").get_by_role("button", name="Generate Key").click()
    expect(dialog.get_by_label("URL")).to_be_focused()
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Continue").click()  # empty: the form's error state
    expect(dialog.locator(".field-error")).to_be_visible()
    assert serious_violations(page) == []
    page.keyboard.press("Escape")

    page.locator("#card-sandbox").get_by_role("button", name="Test Connection").click()
    expect(dialog).to_contain_text("Connection failed")
    assert serious_violations(page) == []
    page.keyboard.press("Escape")

    page.locator("#card-sandbox").get_by_role("button", name="Delete").click()
    expect(dialog).to_contain_text("Delete the Sandbox webhook?")
    assert serious_violations(page) == []


@AXE_CONTEXT
def test_the_axe_check_catches_a_serious_violation(as_viewer, portal):
    page = as_viewer
    page.evaluate("document.getElementById('main').append(document.createElement('button'))")
    assert "button-name" in [found[0] for found in serious_violations(page)]


@AXE_CONTEXT
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_the_empty_state(as_viewer, portal, theme):
    page = as_viewer
    page.emulate_media(color_scheme=theme)
    expect(page.locator("#logs")).to_contain_text("No sandbox deliveries yet.")
    assert serious_violations(page) == []


@AXE_CONTEXT
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_sign_in_page_and_the_demo_receiver(page, portal, settings, theme):
    settings.DEMO_RECEIVER_ENABLED = True
    page.emulate_media(color_scheme=theme)
    page.goto(f"{portal}/accounts/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert serious_violations(page) == []

    User.objects.create_user("dora", password="demo-pass-1")
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill("demo-pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{portal}/demo/receiver/")
    expect(page.get_by_role("heading", name="Demo receiver")).to_be_visible()
    assert serious_violations(page) == []


@AXE_CONTEXT
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_serious_when_the_management_api_is_down(as_manager, portal, settings, closed_port, theme):
    settings.AUTOQL_DOMAIN = f"http://127.0.0.1:{closed_port}"
    page = as_manager
    page.emulate_media(color_scheme=theme)
    page.reload()
    expect(page.get_by_role("alert").first).to_contain_text(re.compile("cannot reach"))
    assert serious_violations(page) == []
