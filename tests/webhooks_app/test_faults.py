"""A management API that is down, slow or refusing: each part of the tab says so in plain words."""

import threading

import pytest
from django.contrib.auth.models import User
from werkzeug import Request, Response

from tests.webhooks_app.conftest import HX

API = "/autoql/management/api/v1/notifications"


@pytest.fixture
def dead_upstream(settings, closed_port):
    settings.AUTOQL_DOMAIN = f"http://127.0.0.1:{closed_port}"
    return closed_port


@pytest.fixture
def slow_upstream(httpserver, settings):
    """Answers nothing until the test ends (bounded: the handler gives up after 10 s)."""
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    settings.AUTOQL_API_TIMEOUT = 0.5
    released = threading.Event()

    def hang(request: Request) -> Response:
        released.wait(10)
        return Response("{}", status=503)

    httpserver.expect_request(f"{API}/webhooks").respond_with_handler(hang)
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_handler(hang)
    yield httpserver
    released.set()


@pytest.fixture
def refusing_upstream(httpserver, settings):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    body = {"message": "The API key or the token is not valid.", "reference_id": "1.1.401"}
    httpserver.expect_request(f"{API}/webhooks").respond_with_json(body, status=401)
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_json(body, status=401)
    return httpserver


def test_a_dead_upstream(manager_client, dead_upstream):
    assert manager_client.get("/").status_code == 200
    card = manager_client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert "Couldn&#x27;t load the Sandbox webhook: the management API could not be reached." in card
    assert ">Retry</a>" in card and 'hx-get="/webhooks/sandbox/card"' in card
    assert "Not set up" not in card and "Generate Key" not in card and "No Sandbox webhook yet" not in card
    assert 'data-fault-cause="unreachable"' in card
    assert "The portal cannot reach AutoQL&#x27;s management API right now." in card
    logs = manager_client.get("/logs?env=sandbox", **HX).content.decode()
    assert "Couldn&#x27;t load the Sandbox logs: the management API could not be reached." in logs
    assert 'id="logs-retry"' in logs and "0 rows" not in logs and "Page 1 of 1" not in logs
    assert "No sandbox deliveries yet" not in logs


def test_a_slow_upstream_uses_the_configured_budget_in_the_sentence(manager_client, slow_upstream):
    card = manager_client.get("/webhooks/production/card", **HX).content.decode()
    assert "Couldn&#x27;t load the Production webhook: the management API did not answer in 0.5 s." in card
    assert 'data-fault-cause="timeout"' in card and "Not set up" not in card
    logs = manager_client.get("/logs?env=sandbox", **HX).content.decode()
    assert "Couldn&#x27;t load the Sandbox logs: the management API did not answer in 0.5 s." in logs


def test_a_refusing_upstream(manager_client, refusing_upstream):
    card = manager_client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert "the management API did not accept the portal&#x27;s credentials." in card
    assert "does not accept this portal&#x27;s credentials" in card and "Not set up" not in card


def test_details_name_the_call_and_the_settings_for_staff_only(client, db, refusing_upstream):
    staff = User.objects.create_user("sam", password="staff-pass-1", is_staff=True)
    client.force_login(staff)
    card = client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert "<summary>Details</summary>" in card
    assert f"GET {API}/webhooks with the sandbox key: 401. Check AUTOQL_TOKEN and AUTOQL_SANDBOX_API_KEY." in card
    client.force_login(User.objects.create_user("nina", password="plain-pass-1"))
    card = client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert "Details" not in card and "AUTOQL_TOKEN" not in card and "does not accept" in card


def test_the_parts_as_pages_without_javascript_say_so_too(manager_client, dead_upstream):
    page = manager_client.get("/webhooks/sandbox/card").content.decode()
    assert "<html" in page and "Couldn&#x27;t load the Sandbox webhook" in page
    assert page.count('class="banner fault-banner"') == 1
    logs = manager_client.get("/logs").content.decode()
    assert "Couldn&#x27;t load the Sandbox logs" in logs and logs.count('class="banner fault-banner"') == 1


def test_the_test_connection_shows_the_apis_error_sentence_as_is(manager_client, httpserver, settings):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    sentence = "The address 10.1.2.3 is not reachable from AutoQL (private or reserved network) & <friends>."
    result = {"success": False, "status_code": None, "duration_ms": 1, "response": None, "error": sentence}
    httpserver.expect_request(f"{API}/webhooks/sandbox/test", method="POST").respond_with_json(
        {"data": result, "message": "Success", "reference_id": "1.1.200"}
    )
    html = manager_client.post("/webhooks/sandbox/test", **HX).content.decode()
    assert (
        '<dd class="error-text">The address 10.1.2.3 is not reachable from AutoQL (private or reserved network) '
        "&amp; &lt;friends&gt;.</dd>"
    ) in html
