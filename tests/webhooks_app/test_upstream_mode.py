"""AUTOQL_DOMAIN set: this portal manages the webhooks of another running instance over HTTP."""

import json

import pytest
import requests
from werkzeug import Response

from management_api.models import Webhook, WebhookLog
from tests.instances import running_instance
from tests.receiver import VerifyingReceiver
from tests.webhooks_app.conftest import HX, tab_html

API = "/autoql/management/api/v1/notifications"


@pytest.fixture
def other(tmp_path, settings):
    with running_instance(tmp_path, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8") as (url, env):
        settings.AUTOQL_DOMAIN = url
        settings.AUTOQL_SANDBOX_API_KEY = env["AUTOQL_SANDBOX_API_KEY"]
        settings.AUTOQL_PRODUCTION_API_KEY = env["AUTOQL_PRODUCTION_API_KEY"]
        settings.AUTOQL_TOKEN = env["AUTOQL_TOKEN"]
        yield url, env


def remote_webhooks(url, env, environment="sandbox"):
    key = env[f"AUTOQL_{environment.upper()}_API_KEY"]
    response = requests.get(
        f"{url}{API}/webhooks",
        params={"key": key},
        headers={"Authorization": f"Bearer {env['AUTOQL_TOKEN']}"},
        timeout=10,
    )
    return response.json()["data"]["items"]


def test_every_card_action_reaches_the_other_instance(manager_client, other, httpserver):
    url, env = other
    response = manager_client.post("/webhooks/sandbox/generate", {"url": httpserver.url_for("/hook")})
    [remote] = remote_webhooks(url, env)
    assert response.status_code == 200 and remote["secret"] in response.content.decode()
    assert remote["url"] == httpserver.url_for("/hook")
    assert not Webhook.objects.exists()  # nothing was stored locally

    html = tab_html(manager_client)
    assert httpserver.url_for("/hook") in html and remote["secret"][-4:] in html

    receiver = VerifyingReceiver(secret=remote["secret"])
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    html = manager_client.post("/webhooks/sandbox/test").content.decode()
    assert "Connection succeeded" in html and receiver.received[0]["problem"] is None
    assert not WebhookLog.objects.exists()
    assert ">test</td>" in tab_html(manager_client, "env=sandbox")
    # An opened row's detail comes from the other instance too.
    opened = tab_html(manager_client, "env=sandbox", expanded=True)
    assert 'aria-label="Logged response"' in opened and "AutoQL-Signature:" in opened

    manager_client.post("/webhooks/sandbox/regenerate")
    assert remote_webhooks(url, env)[0]["secret"] != remote["secret"]

    manager_client.post("/webhooks/sandbox/delete")
    assert remote_webhooks(url, env) == []


def test_wrong_credentials_for_the_other_instance_say_so_in_plain_words(manager_client, other, settings):
    settings.AUTOQL_TOKEN = "not-the-token"
    html = manager_client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert (
        "Couldn&#x27;t load the Sandbox webhook: the management API did not accept the portal&#x27;s credentials."
        in html
    )
    assert "Not set up" not in html and "Generate Key" not in html and ">Retry</a>" in html


def plain_autoql_row(log_id: int) -> dict:
    return {
        "id": log_id,
        "project_id": "acme",
        "type": "data_alert",
        "event": "data_alert.true",
        "status": "failure",
        "code": 502,
        "url": "https://hooks.example.com/in",
        "duration_ms": 12,
        "response": {"error": "bad gateway from the plain receiver"},
        "created_at": "2026-11-28T12:00:00Z",
    }


def plain_autoql_page(ids: list[int], offset: int, total: int) -> dict:
    items = [plain_autoql_row(i) for i in ids]
    return {"data": {"items": items, "pagination": {"offset": offset, "limit": 100, "total_items": total}}}


def test_against_an_api_without_a_rows_own_call_an_opened_row_comes_from_the_list(manager_client, settings, httpserver):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs/7").respond_with_data("Not Found", status=404)
    # Drawn at position 3; two newer rows came since, so the list has it at 5.
    page = plain_autoql_page([9, 8, 7], offset=3, total=12)
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_json(page)
    html = manager_client.get("/webhooks/sandbox/logs/7?at=3", **HX).content.decode()
    assert "bad gateway from the plain receiver" in html and "https://hooks.example.com/in" in html
    assert "no longer kept" not in html
    (asked,) = [request for request, _ in httpserver.log if request.path.endswith("/logs")]
    assert (asked.args["offset"], asked.args["limit"]) == ("3", "100")


def test_against_an_api_without_a_rows_own_call_a_row_gone_from_the_list_says_so(manager_client, settings, httpserver):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs/7").respond_with_data("Not Found", status=404)
    page = plain_autoql_page([6, 5], offset=3, total=5)
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_json(page)
    html = manager_client.get("/webhooks/sandbox/logs/7?at=3", **HX).content.decode()
    assert "This row is no longer kept." in html
    # Without a position (or with a bad one) the list is not searched at all.
    asked = len(httpserver.log)
    html = manager_client.get("/webhooks/sandbox/logs/7?at=-1", **HX).content.decode()
    assert "This row is no longer kept." in html
    assert [request.path for request, _ in httpserver.log[asked:]] == [f"{API}/webhooks/sandbox/logs/7"]


def test_the_tables_rows_say_where_they_stood_in_the_list(manager_client):
    for _ in range(3):
        WebhookLog.objects.create(
            environment="sandbox", event="test", type="test", status="success", url="https://x.example/"
        )
    html = manager_client.get("/logs?env=sandbox&size=2&page=2", **HX).content.decode()
    oldest = WebhookLog.objects.order_by("seq")[0]
    assert f"/webhooks/sandbox/logs/{oldest.pk}?at=2" in html


def test_an_upstream_autoql_is_asked_for_the_logs_with_offset_and_limit_alone(manager_client, settings, httpserver):
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_json(plain_autoql_page([9, 8], 0, 2))
    html = manager_client.get("/logs?env=sandbox&size=10", **HX).content.decode()
    assert html.count('class="log-row"') == 2
    (asked,) = [request for request, _ in httpserver.log if request.path.endswith("/logs")]
    assert set(asked.args) == {"key", "offset", "limit"}


def test_an_upstream_is_never_asked_to_page_from_the_oldest_row(manager_client, settings, httpserver):
    # An upstream with this project's filters (another instance) whose count stopped: the portal
    # keeps to offset and limit, and its Last is the furthest page it knows of.
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")

    def capped(request):
        offset = int(request.args.get("offset", 0))
        page = plain_autoql_page([9, 8], offset, 10_001 + offset)
        page["data"]["pagination"].update(total_is_lower_bound=True, filters=["status"])
        return Response(json.dumps(page), content_type="application/json")

    httpserver.expect_request(f"{API}/webhooks/sandbox/logs").respond_with_handler(capped)
    html = manager_client.get("/logs?env=sandbox&size=10&status=failure&page=-1", **HX).content.decode()
    assert "Page 1001 of at least 2001" in html
    assert "page=-1" not in html and "page=2001&amp;status=failure" in html
    assert all("end" not in request.args for request, _ in httpserver.log)
