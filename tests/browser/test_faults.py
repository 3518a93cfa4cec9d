"""The tab when its management API is down, slow or refusing, and a test connection cut short."""

import json
import re
import threading

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from werkzeug import Request, Response

from management_api.models import Webhook
from tests.instances import running_instance

pytestmark = pytest.mark.browser
API = "/autoql/management/api/v1/notifications"


def expect_parts_failed(page, sentence_end):
    for label, environment in (("Sandbox", "sandbox"), ("Production", "production")):
        card = page.locator(f"#card-{environment}")
        expect(card).to_contain_text(f"Couldn't load the {label} webhook: {sentence_end}")
        expect(card.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.locator("#logs")).to_contain_text(f"Couldn't load the Sandbox logs: {sentence_end}")
    expect(page.locator("#logs").get_by_role("button", name="Retry")).to_be_visible()
    # One banner for the one cause, shared by both cards and the logs.
    expect(page.locator("#banner .fault-banner")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("Not set up")
    expect(page.get_by_role("button", name="Generate Key")).to_have_count(0)
    expect(page.locator("#logs")).not_to_contain_text("0 rows")


def test_a_dead_upstream_then_retry_once_it_is_back(as_manager, portal, settings, closed_port, screenshots):
    User.objects.filter(username="maria").update(is_staff=True)
    page = as_manager
    settings.AUTOQL_DOMAIN = f"http://127.0.0.1:{closed_port}"
    page.reload()
    expect_parts_failed(page, "the management API could not be reached.")
    banner = page.locator("#banner .fault-banner")
    expect(banner).to_contain_text("The portal cannot reach AutoQL's management API right now.")
    banner.get_by_text("Details").click()
    expect(banner.locator("[data-fault-source]")).to_have_count(3)
    expect(banner).to_contain_text(f"GET {API}/webhooks with the production key")
    page.screenshot(path=str(screenshots / "api-down.png"), full_page=True)

    settings.AUTOQL_DOMAIN = ""  # the embedded API answers again
    page.locator("#card-sandbox").get_by_role("button", name="Retry").click()
    expect(page.locator("#card-sandbox")).to_contain_text("No Sandbox webhook yet.")
    expect(banner.locator("[data-fault-source]")).to_have_count(2)
    page.locator("#card-production").get_by_role("button", name="Retry").click()
    expect(page.locator("#card-production")).to_contain_text("No Production webhook yet.")
    page.locator("#logs").get_by_role("button", name="Retry").click()
    expect(page.locator("#logs")).to_contain_text("No sandbox deliveries yet.")
    expect(page.locator("#banner .fault-banner")).to_have_count(0)


def test_a_slow_upstream_does_not_hold_up_the_page(as_manager, portal, settings, httpserver):
    page = as_manager
    released = threading.Event()

    def hang(request: Request) -> Response:
        released.wait(15)
        return Response("{}", status=503)

    httpserver.expect_request(re.compile(f"{API}/.*")).respond_with_handler(hang)
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    settings.AUTOQL_API_TIMEOUT = 1.0
    try:
        page.reload()
        # The page is there while the parts still wait for the API.
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        expect(page.locator("#card-sandbox")).to_contain_text("Loading the Sandbox webhook…")
        expect_parts_failed(page, "the management API did not answer in 1 s.")
        expect(page.locator("#banner")).to_contain_text("answering too slowly")
    finally:
        released.set()


def test_a_refusing_upstream_shows_details_to_staff_only(page, portal, settings, tmp_path):
    from tests.browser.conftest import sign_in

    User.objects.create_user("sam", password="staff-pass-1", is_staff=True)
    User.objects.create_user("nina", password="plain-pass-1")
    with running_instance(tmp_path) as (url, env):
        settings.AUTOQL_DOMAIN = url
        settings.AUTOQL_SANDBOX_API_KEY = env["AUTOQL_SANDBOX_API_KEY"]
        settings.AUTOQL_PRODUCTION_API_KEY = env["AUTOQL_PRODUCTION_API_KEY"]
        settings.AUTOQL_TOKEN = "not-the-token"
        sign_in(page, portal, "sam", "staff-pass-1")
        expect_parts_failed(page, "the management API did not accept the portal's credentials.")
        banner = page.locator("#banner .fault-banner")
        expect(banner).to_contain_text("does not accept this portal's credentials")
        banner.get_by_text("Details").click()
        expect(banner).to_contain_text("401. Check AUTOQL_TOKEN and AUTOQL_SANDBOX_API_KEY.")

        page.context.clear_cookies()
        sign_in(page, portal, "nina", "plain-pass-1")
        expect_parts_failed(page, "the management API did not accept the portal's credentials.")
        expect(page.locator("#banner").get_by_text("Details")).to_have_count(0)
        expect(page.locator("#banner")).not_to_contain_text("AUTOQL_TOKEN")

        settings.AUTOQL_TOKEN = env["AUTOQL_TOKEN"]
        page.locator("#card-sandbox").get_by_role("button", name="Retry").click()
        expect(page.locator("#card-sandbox")).to_contain_text("No Sandbox webhook yet.")


@pytest.mark.usefixtures("allow_loopback")
def test_esc_during_a_test_connection_keeps_the_modal_closed(as_manager, portal, httpserver):
    released = threading.Event()

    def answer_when_released(request: Request) -> Response:
        released.wait(15)
        return Response('{"message": "ok"}', status=200, content_type="application/json")

    httpserver.expect_request("/hook").respond_with_handler(answer_when_released)
    Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="t" * 43)
    page = as_manager
    page.reload()
    page.locator("#card-sandbox").get_by_role("button", name="Test Connection").click()
    dialog = page.locator("#modal")
    expect(dialog).to_contain_text("Sending a signed test event to the Sandbox URL…")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    released.set()
    # The test finished on the server: its row shows in the logs, which refreshed; the modal
    # did not come back with the answer.
    expect(page.locator("#logs .log-row").first).to_contain_text("test")
    expect(dialog).to_be_hidden()
    expect(dialog).not_to_contain_text("Connection succeeded")


def test_an_upstream_whose_answers_are_not_autoqls_shape_shows_couldnt_load_then_retry(
    as_manager, portal, settings, httpserver
):
    webhook = {
        "environment": "sandbox",
        "url": "https://hooks.example.com/in",
        "secret": 12345,  # a number: the card cannot mask it, and must not become a 500
        "created_at": "2026-11-28T14:00:00Z",
        "updated_at": "2026-11-28T14:00:00Z",
    }
    row = {"id": "7", "type": "test", "event": "test", "status": "success", "created_at": "2026-11-28T14:00:00"}
    page_of_logs = {"items": [row], "pagination": {"offset": 0, "limit": 10, "total_items": 1}}

    def webhooks(request: Request) -> Response:
        return Response(json.dumps({"data": {"items": [webhook]}}), content_type="application/json")

    httpserver.expect_request(f"{API}/webhooks").respond_with_handler(webhooks)
    httpserver.expect_request(re.compile(f"{API}/webhooks/(sandbox|production)/logs")).respond_with_json(
        {"data": page_of_logs}
    )
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    page = as_manager
    page.reload()
    expect_parts_failed(page, "the management API answered with something the portal does not understand.")
    expect(page.locator("#banner .fault-banner")).to_contain_text("does not answer like AutoQL's")

    webhook["secret"] = "s" * 39 + "WXYZ"  # the upstream answers as AutoQL does again
    page.locator("#card-sandbox").get_by_role("button", name="Retry").click()
    expect(page.locator("#card-sandbox")).to_contain_text("••••••••••••WXYZ")
    expect(page.locator("#card-sandbox")).not_to_contain_text("Couldn't load")
