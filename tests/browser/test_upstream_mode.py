"""The same tab, in a browser, managing another running instance through AUTOQL_DOMAIN."""

import pytest
from playwright.sync_api import expect

from management_api.models import Webhook
from tests.instances import running_instance

pytestmark = pytest.mark.browser


def test_generate_and_test_against_another_instance(as_manager, portal, settings, tmp_path, closed_port):
    page = as_manager
    with running_instance(tmp_path) as (url, env):
        settings.AUTOQL_DOMAIN = url
        settings.AUTOQL_SANDBOX_API_KEY = env["AUTOQL_SANDBOX_API_KEY"]
        settings.AUTOQL_PRODUCTION_API_KEY = env["AUTOQL_PRODUCTION_API_KEY"]
        settings.AUTOQL_TOKEN = env["AUTOQL_TOKEN"]
        page.reload()
        card = page.locator("#card-production")
        card.get_by_role("button", name="Generate Key").click()
        dialog = page.get_by_role("dialog")
        hook_url = f"http://127.0.0.1:{closed_port}/hook"
        dialog.get_by_label("URL").fill(hook_url)
        dialog.get_by_role("button", name="Continue").click()
        expect(dialog).to_contain_text("Your new secret key (Production)")
        dialog.get_by_role("button", name="Done").click()
        expect(card).to_contain_text(hook_url)
        assert not Webhook.objects.exists()  # stored by the other instance, not here

        card.get_by_role("button", name="Test Connection").click()
        # The other instance keeps its own WEBHOOK_ALLOWED_NETWORKS (none): it refuses loopback.
        expect(dialog).to_contain_text("the address 127.0.0.1 is not reachable from AutoQL")
        page.keyboard.press("Escape")
        page.locator("#logs").get_by_role("link", name="Production").click()
        expect(page.locator("#logs .log-row")).to_have_count(1)

    # The other instance is gone: the page still renders, and the cards say why.
    page.reload()
    expect(page.locator("#card-production")).to_contain_text(
        "Couldn't load the Production webhook: the management API could not be reached."
    )
    expect(page.locator("#banner .fault-banner")).to_have_count(1)
