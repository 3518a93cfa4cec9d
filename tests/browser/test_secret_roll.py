"""A manager rolls a secret from the card: the next secret is shown once, then Switch now."""

import pytest
from playwright.sync_api import expect

from management_api.models import Webhook

pytestmark = pytest.mark.browser

CURRENT = "c" * 43


def test_roll_shows_the_next_secret_once_then_switch_now(as_manager, portal, screenshots):
    page = as_manager
    Webhook.objects.create(environment="sandbox", url="https://s.example.com/", secret=CURRENT)
    page.reload()
    sandbox = page.locator("#card-sandbox")

    sandbox.get_by_role("button", name="Roll secret…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("keep being signed with the current secret")
    expect(dialog.get_by_label("24 hours")).to_be_checked()
    dialog.get_by_label("72 hours").check()
    dialog.get_by_role("button", name="Roll secret").click()

    expect(dialog).to_contain_text("it is not shown again")
    webhook = Webhook.objects.get()
    assert webhook.next_secret and webhook.secret == CURRENT
    expect(dialog.get_by_label("Next secret key")).to_have_text(webhook.next_secret)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    dialog.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("#toast")).to_have_text("Secret key copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == webhook.next_secret
    # The receiver's setting with both secrets, ready to paste (issue 19, item 9).
    both = f'AUTOQL_WEBHOOK_SECRETS="{webhook.next_secret},$AUTOQL_WEBHOOK_SECRET"'
    expect(dialog.get_by_label("Both secrets for your receiver")).to_have_text(both)
    dialog.get_by_role("button", name="Copy the setting with both secrets").click()
    expect(page.locator("#toast")).to_have_text("Both secrets' setting copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == both
    # The card already says a roll is pending, swapped in while the modal was open.
    expect(sandbox).to_contain_text("Next secret takes over")
    page.screenshot(path=str(screenshots / "roll-secret-shown.png"))

    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    # Shown once: gone from the page with its modal, and not on the page after a reload.
    expect(page.get_by_label("Next secret key")).to_have_count(0)
    assert webhook.next_secret not in page.content()
    page.reload()
    expect(sandbox).to_contain_text("Next secret takes over")
    assert webhook.next_secret not in page.content()

    page.screenshot(path=str(screenshots / "roll-pending-card.png"))
    sandbox.get_by_role("button", name="Switch now").click()
    expect(dialog).to_contain_text("Switch to the next Sandbox secret now?")
    dialog.get_by_role("button", name="Switch now").click()
    expect(dialog).to_be_hidden()
    expect(sandbox).not_to_contain_text("Next secret takes over")
    expect(sandbox.locator(".secret")).to_have_text("••••••••••••" + webhook.next_secret[-4:])
    switched = Webhook.objects.get()
    assert (switched.secret, switched.next_secret) == (webhook.next_secret, None)
