"""A phone (390 px), a wide screen (1440 px), and the dark theme."""

import pytest
from playwright.sync_api import Page, expect

from management_api.models import Webhook, WebhookLog

pytestmark = pytest.mark.browser

LONG_URL = "https://receiver.integrations.example.com/autoql/webhooks/production/deliveries/inbound/events/v2"


def write_long_row() -> None:
    WebhookLog.objects.create(
        environment="sandbox",
        type="data_alert",
        event="data_alert.true",
        status="failure",
        code=503,
        url=LONG_URL + "/" + "segment" * 12,
        project_id="project-1",
        response={"error": "Service Unavailable"},
    )


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, has_touch=True)
def test_on_a_phone_the_whole_row_expands_and_nothing_is_cut_off(as_manager, portal, screenshots):
    write_long_row()
    page = as_manager
    page.reload()
    row = page.locator("#logs .log-row").first
    detail = page.locator("#logs .log-detail").first
    expander = row.get_by_role("button")
    box = expander.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44

    row.get_by_text("project-1").tap()
    expect(detail).to_be_visible()
    expect(expander).to_have_attribute("aria-expanded", "true")
    assert sideways_overflow(page) <= 0
    # The long URL wraps inside the detail instead of running off the screen.
    url = detail.get_by_text(LONG_URL)
    url_box, detail_box = url.bounding_box(), detail.bounding_box()
    assert url_box is not None and detail_box is not None
    assert url_box["x"] + url_box["width"] <= detail_box["x"] + detail_box["width"]
    page.screenshot(path=str(screenshots / "webhooks-tab-phone-expanded.png"), full_page=True)

    row.get_by_text("data_alert.true").tap()
    expect(detail).to_be_hidden()


def test_on_a_phone_the_top_links_are_in_a_menu_that_the_keyboard_opens(as_manager, portal):
    page = as_manager
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    integrate_link = page.get_by_role("link", name="Integrate")
    expect(integrate_link).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(integrate_link).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Webhooks", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(integrate_link).to_be_hidden()
    expect(menu).to_be_focused()
    assert sideways_overflow(page) <= 0


def test_on_a_wide_screen_the_top_links_show_without_a_menu(as_manager, portal):
    page = as_manager
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(page.get_by_role("link", name="Integrate")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()


def line_ends(page: Page, selector: str) -> list[str]:
    """The last character of each rendered line of an element's text but the last line."""
    return page.evaluate(
        """(selector) => {
          const root = document.querySelector(selector);
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          const chars = [];
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i++) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const rect = range.getClientRects()[0];
              if (rect) chars.push([node.data[i], Math.round(rect.top)]);
            }
          }
          const ends = [];
          for (let i = 1; i < chars.length; i++) if (chars[i][1] > chars[i - 1][1]) ends.push(chars[i - 1][0]);
          return ends;
        }""",
        selector,
    )


@pytest.mark.browser_context_args(viewport={"width": 1440, "height": 900})
def test_on_a_wide_screen_card_urls_wrap_at_slashes_and_copy_without_the_server(as_manager, portal):
    Webhook.objects.create(environment="production", url=LONG_URL, secret="w" * 43)
    page = as_manager
    page.reload()
    expect(page.locator("#url-production")).to_be_visible()  # the card loads as its own request
    ends = line_ends(page, "#url-production")
    assert ends, "the URL should need more than one line in a card at 1440 px"
    assert set(ends) == {"/"}

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    asked = []
    page.on("request", lambda request: None if "/static/" in request.url else asked.append(request.url))
    page.locator("#card-production").get_by_role("button", name="Copy URL").click()
    expect(page.locator("#announcer")).to_have_text("URL copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == LONG_URL
    assert asked == []


def background_luminance(page: Page) -> float:
    red, green, blue = page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.browser_context_args(color_scheme="dark")
def test_the_dark_system_setting_gives_a_dark_page(as_manager, portal):
    assert background_luminance(as_manager) < 0.2


@pytest.mark.browser_context_args(color_scheme="light")
def test_the_light_system_setting_gives_a_light_page(as_manager, portal):
    assert background_luminance(as_manager) > 0.8


@pytest.mark.browser_context_args(color_scheme="dark")
def test_the_theme_toggle_overrides_the_system_and_is_remembered(as_manager, portal):
    page = as_manager
    toggle = page.get_by_role("button", name="Colour theme")
    expect(toggle).to_have_accessible_name("Colour theme: Auto")
    toggle.click()
    expect(toggle).to_have_accessible_name("Colour theme: Light")
    assert background_luminance(page) > 0.8
    page.reload()
    expect(toggle).to_have_accessible_name("Colour theme: Light")
    assert background_luminance(page) > 0.8
    # Applied before the first paint: by a script file (no inline script under the CSP) that
    # <head> runs before the stylesheet, neither deferred nor async.
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    head = page.evaluate("[...document.head.children].map((el) => el.outerHTML)")
    theme_script = next(i for i, html in enumerate(head) if "/theme.js" in html)
    stylesheet = next(i for i, html in enumerate(head) if 'rel="stylesheet"' in html)
    assert theme_script < stylesheet
    assert "defer" not in head[theme_script] and "async" not in head[theme_script]

    toggle.click()
    expect(toggle).to_have_accessible_name("Colour theme: Dark")
    page.emulate_media(color_scheme="light")
    page.reload()
    assert background_luminance(page) < 0.2

    toggle.click()  # back to Auto: the system's setting again
    expect(toggle).to_have_accessible_name("Colour theme: Auto")
    page.reload()
    assert background_luminance(page) > 0.8
