"""A manager reveals a secret, opens Activity from the top bar, and finds the reveal there."""

import pytest
from playwright.sync_api import expect

from management_api.models import Webhook

pytestmark = pytest.mark.browser


@pytest.mark.screenshots
def test_a_reveal_shows_on_the_activity_page(as_manager, portal, screenshots):
    page = as_manager
    webhook = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a", secret="b" * 39 + "R3vl")
    page.reload()
    sandbox = page.locator("#card-sandbox")
    sandbox.get_by_role("button", name="Reveal").click()
    expect(sandbox.locator(".secret")).to_have_text(webhook.secret)

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", exact=True)).to_be_visible()
    newest = page.locator("tbody tr").first
    expect(newest).to_contain_text("maria")
    expect(newest).to_contain_text("Revealed the secret")
    expect(newest).to_contain_text("Sandbox")
    expect(newest).to_contain_text("127.0.0.1")
    # The sign-in before it is there too; the secret is nowhere.
    expect(page.locator("tbody")).to_contain_text("Signed in")
    expect(page.locator("body")).not_to_contain_text(webhook.secret)
    expect(page.locator("body")).not_to_contain_text("R3vl")
    page.screenshot(path=str(screenshots / "activity.png"), full_page=True)

    # Keyboard: the filters and the pager are reachable and work with Enter.
    page.get_by_label("Environment").select_option("production")
    page.get_by_role("button", name="Filter").press("Enter")
    expect(page.locator("tbody")).to_contain_text("No activity matches these filters.")
