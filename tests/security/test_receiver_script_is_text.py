"""A receiver's answer is shown as text: a <script> in its body or a header never runs."""

import pytest
from playwright.sync_api import expect
from werkzeug import Response

from management_api.models import Webhook

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("allow_loopback")]

SCRIPT = "<script>window.__xss = 1</script>"


def test_a_receivers_script_is_shown_as_text(as_manager, portal, httpserver):
    page = as_manager
    httpserver.expect_request("/hook").respond_with_response(
        Response(f'{{"message": "{SCRIPT}"}}', content_type="application/json", headers={"X-Note": SCRIPT})
    )
    Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"))
    page.reload()

    page.locator("#card-sandbox").get_by_role("button", name="Test Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Response")).to_contain_text(SCRIPT)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.locator("#logs .log-row").first.get_by_role("button").click()
    detail = page.locator("#logs .log-detail").first
    expect(detail.get_by_label("Logged response")).to_be_visible()
    expect(detail.get_by_label("Logged response")).to_contain_text(SCRIPT)
    expect(detail.get_by_label("Response headers")).to_contain_text(f"X-Note: {SCRIPT}")
    assert page.evaluate("typeof window.__xss") == "undefined"
    # The same after a full page load, where the rows come from the server's HTML rather than htmx.
    page.reload()
    page.locator("#logs .log-row").first.get_by_role("button").click()
    expect(page.locator("#logs .log-detail").first.get_by_label("Logged response")).to_contain_text(SCRIPT)
    assert page.evaluate("typeof window.__xss") == "undefined"
