"""The Integrate page in a real browser: samples copied with the keyboard, an example alert sent."""

import re

import pytest
from playwright.sync_api import expect

from management_api.models import Delivery, Webhook
from webhooks_app.integrator import SAMPLES

pytestmark = pytest.mark.browser


def test_copy_the_python_sample_and_send_an_example_alert(as_manager, portal, screenshots):
    page = as_manager
    Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/autoql", secret="s" * 43)
    page.get_by_role("link", name="Integrate").click()
    expect(page.get_by_role("heading", name="Integrate", exact=True)).to_be_visible()
    expect(page.locator("#event-data_alerttrue")).to_have_text("data_alert.true")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = page.get_by_role("button", name="Copy the Python sample")
    copy.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#copy-status")).to_have_text("Copied the Python sample to the clipboard.")
    python_sample = next(sample for sample in SAMPLES if sample.slug == "python")
    assert page.evaluate("navigator.clipboard.readText()") == python_sample.code

    page.get_by_role("button", name="Send an example data alert").click()
    result = page.locator("#example-result")
    expect(result).to_contain_text(re.compile(r"Queued: delivery [0-9a-f-]{36}; it appears in the Sandbox logs"))
    queued = Delivery.objects.get()
    expect(result).to_contain_text(f"Queued: delivery {queued.id}; it appears in the Sandbox logs in a moment.")
    page.screenshot(path=str(screenshots / "integrate-page.png"), full_page=True)


def test_a_phone_scrolls_the_code_not_the_page(as_viewer, portal):
    page = as_viewer
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{portal}/integrate/")
    node = page.locator("pre:has(#sample-node)")
    expect(node).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert node.evaluate("el => el.scrollWidth > el.clientWidth")  # the long lines scroll inside
    expect(page.get_by_role("button", name="Send an example data alert")).to_have_count(0)
