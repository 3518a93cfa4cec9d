"""A manager goes through every card action with the mouse, as a person would."""

import re

import pytest
from playwright.sync_api import expect

from management_api.models import Webhook
from tests.receiver import VerifyingReceiver

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("allow_loopback")]


def test_anonymous_visitors_are_sent_to_login(page, portal):
    page.goto(f"{portal}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_wrong_password_is_said_plainly(page, portal):
    page.goto(f"{portal}/accounts/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")


@pytest.mark.screenshots
def test_generate_test_reveal_regenerate_and_delete(as_manager, portal, httpserver, screenshots):
    page = as_manager
    sandbox = page.locator("#card-sandbox")
    expect(sandbox.get_by_role("heading", name="Sandbox")).to_be_visible()
    expect(page.locator("#card-production").get_by_role("heading", name="Production")).to_be_visible()

    # Generate Key: a bad URL is refused beside the field, a good one fills the card.
    sandbox.get_by_role("button", name="Generate Key").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("URL").fill("ftp://files.example.com")
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog.locator(".field-error")).to_have_text("The URL must start with http:// or https://.")
    assert not Webhook.objects.exists()
    hook_url = httpserver.url_for("/hook")
    dialog.get_by_label("URL").fill(hook_url)
    page.screenshot(path=str(screenshots / "generate-key-modal.png"))
    dialog.get_by_role("button", name="Continue").click()
    # The new secret is shown once, with Copy and Done; the card behind is updated already.
    expect(dialog).to_contain_text("Your new secret key (Sandbox)")
    secret = Webhook.objects.get(environment="sandbox").secret
    expect(dialog.get_by_label("New secret key")).to_have_text(secret)
    expect(sandbox).to_contain_text(hook_url)
    expect(sandbox.locator(".secret")).to_have_text("••••••••••••" + secret[-4:])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    dialog.get_by_role("button", name="Copy").click()
    expect(page.locator("#toast")).to_have_text("Secret key copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.evaluate("navigator.clipboard.writeText('')")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(f"{portal}/")
    expect(page.locator("body")).not_to_contain_text(secret)

    # Test Connection: a real signed delivery to a receiver on 127.0.0.1.
    receiver = VerifyingReceiver(secret=secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    sandbox.get_by_role("button", name="Test Connection").click()
    expect(dialog).to_contain_text("Connection succeeded")
    expect(dialog.locator(".status-code")).to_have_text("200")
    expect(dialog.get_by_label("Response")).to_contain_text('"message": "ok"')
    assert receiver.received[0]["problem"] is None
    page.screenshot(path=str(screenshots / "test-connection-modal.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The delivery shows in the logs, which refreshed on their own; its row expands.
    row = page.locator("#logs .log-row").first
    expect(row).to_contain_text("N/A")
    expect(row).to_contain_text("test")
    expect(row).to_contain_text("200")
    row.get_by_role("button").click()
    expect(page.locator("#logs .log-detail").first.get_by_label("Logged response")).to_contain_text('"message": "ok"')

    # Reveal shows the whole secret and turns into Hide, which masks it again without a request.
    sandbox.get_by_role("button", name="Reveal").click()
    expect(sandbox.locator(".secret")).to_have_text(secret)
    requests_seen = []
    page.on("request", lambda request: requests_seen.append(request.url))
    sandbox.get_by_role("button", name="Hide").click()
    expect(sandbox.locator(".secret")).to_have_text("••••••••••••" + secret[-4:])
    expect(sandbox.get_by_role("button", name="Reveal")).to_be_focused()
    assert requests_seen == []
    sandbox.get_by_role("button", name="Reveal").click()
    expect(sandbox.locator(".secret")).to_have_text(secret)
    # Copy puts it on the clipboard (the toast of the first copy is put away first, so that
    # the toast seen is this copy's).
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#toast").evaluate("toast => { toast.hidden = true; toast.textContent = ''; }")
    sandbox.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("#toast")).to_be_visible()
    expect(page.locator("#toast")).to_have_text("Secret key copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=str(screenshots / "webhooks-tab.png"), full_page=True)

    # Regenerate asks first, naming the environment.
    sandbox.get_by_role("button", name="Regenerate").click()
    expect(dialog).to_contain_text("Regenerate the Sandbox secret?")
    dialog.get_by_role("button", name="Regenerate").click()
    expect(dialog).to_contain_text("Your regenerated secret key (Sandbox)")
    new_secret = Webhook.objects.get().secret
    assert new_secret != secret
    expect(dialog.get_by_label("New secret key")).to_have_text(new_secret)
    expect(sandbox.locator(".secret")).to_have_text("••••••••••••" + new_secret[-4:])
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Delete asks first, then the card is empty again.
    sandbox.get_by_role("button", name="Delete").click()
    expect(dialog).to_contain_text("Delete the Sandbox webhook?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert Webhook.objects.exists()
    sandbox.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(sandbox).to_contain_text("No Sandbox webhook yet.")
    assert not Webhook.objects.exists()


def test_a_failed_test_connection_is_said_in_plain_words(as_manager, portal, settings, closed_port):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    Webhook.objects.create(environment="production", url=f"http://127.0.0.1:{closed_port}/hook", secret="p" * 43)
    page = as_manager
    page.reload()
    page.locator("#card-production").get_by_role("button", name="Test Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Connection failed")
    expect(dialog).to_contain_text("the address 127.0.0.1 is not reachable from AutoQL (private or reserved network)")


def test_a_viewer_sees_no_actions(as_viewer, portal):
    Webhook.objects.create(environment="sandbox", url="https://h.example.com/", secret="v" * 43)
    page = as_viewer
    page.reload()
    card = page.locator("#card-sandbox")
    expect(card).to_contain_text("https://h.example.com/")
    for name in ("Reveal", "Copy", "Test Connection", "Regenerate", "Delete"):
        expect(card.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator("#card-production").get_by_role("button", name="Generate Key")).to_have_count(0)
