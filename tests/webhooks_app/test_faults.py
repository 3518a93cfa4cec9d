"""A management API that is down, slow or refusing: each part of the tab says so in plain words."""

import re
import threading

import pytest
from django.contrib.auth.models import User
from werkzeug import Request, Response

from tests.hostile import answer, trickle
from tests.webhooks_app.conftest import HX, UPSTREAM_WEBHOOK, envelope, json_answer, tab_html, upstream_answer

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


# Answers that are not the contract's shape (webhooks_app/contract.py): each part says it couldn't
# load, never a 500. The upstream is a raw server on 127.0.0.1 (conftest.raw_upstream).

ROW = {
    "id": "7",
    "environment": "sandbox",
    "project_id": "acme",
    "type": "data_alert",
    "event": "data_alert.true",
    "status": "failure",
    "code": 502,
    "created_at": "2026-11-28T12:00:00Z",
    "url": "https://hooks.example.com/in",
    "duration_ms": 12,
    "error": "the receiver answered 502",
    "response": {"error": "bad gateway"},
    "delivery_id": "0b7f6f4c-5f6a-4d4e-9a51-1f2d3c4b5a69",
    "attempt": 1,
    "request_headers": {"Content-Type": "application/json"},
    "request_body": '{"event": "data_alert.true", "payload": {}}',
    "response_headers": {"Content-Type": "application/json"},
}


def logs_page(*rows, total=None):
    return envelope({"items": list(rows), "pagination": {"offset": 0, "limit": 10, "total_items": total or len(rows)}})


def serve_json(upstream, path, value, status="200 OK"):
    upstream.serve(answer(json_answer(value, status)), path)


@pytest.mark.parametrize("secret", [12345, None, ["s"]])
def test_a_webhook_whose_secret_is_not_text_is_couldnt_load_everywhere(manager_client, raw_upstream, secret):
    serve_json(raw_upstream, "/webhooks", envelope({"items": [UPSTREAM_WEBHOOK | {"secret": secret}]}))
    card = manager_client.get("/webhooks/sandbox/card", **HX)
    html = card.content.decode()
    assert card.status_code == 200 and ">Retry</a>" in html
    assert (
        "Couldn&#x27;t load the Sandbox webhook: the management API answered with something the portal does not "
        "understand." in html
    )
    assert 'data-fault-cause="unexpected"' in html and "Not set up" not in html
    for action in ("reveal", "copy"):
        response = manager_client.post(f"/webhooks/sandbox/{action}", **HX)
        assert response.status_code == 502
    assert "Revealing the secret failed" in manager_client.post("/webhooks/sandbox/reveal", **HX).content.decode()


def test_the_whole_tab_answers_when_every_answer_is_html(manager_client, raw_upstream):
    raw_upstream.serve(answer(upstream_answer("200 OK", [b"Content-Type: text/html"], b"<html>Sign in</html>")))
    html = tab_html(manager_client)
    assert html.count("Couldn&#x27;t load the") == 3  # both cards and the logs
    assert "Loading the Sandbox health failed" in html


def test_a_logs_page_with_a_time_without_its_timezone_is_couldnt_load(manager_client, raw_upstream):
    # Shown in the portal's timezone, such a time would be a 500 (timezone.localtime refuses it).
    serve_json(raw_upstream, "/webhooks/sandbox/logs", logs_page(ROW | {"created_at": "2026-11-28T12:00:00"}))
    logs = manager_client.get("/logs?env=sandbox", **HX).content.decode()
    assert "Couldn&#x27;t load the Sandbox logs" in logs and 'id="logs-retry"' in logs


def test_a_logs_page_with_a_total_beyond_any_page_count_is_couldnt_load(manager_client, raw_upstream):
    serve_json(raw_upstream, "/webhooks/sandbox/logs", logs_page(ROW, total=10**400))
    logs = manager_client.get("/logs?env=sandbox", **HX).content.decode()
    assert "Couldn&#x27;t load the Sandbox logs" in logs


@pytest.mark.parametrize(
    "change",
    [{"delivery_id": "../../admin"}, {"id": "seven"}, {"request_headers": ["Content-Type"]}],
    ids=["a delivery id the portal cannot link to", "an id that is not digits", "headers that are a list"],
)
def test_an_opened_row_of_the_wrong_shape_says_its_details_failed(manager_client, raw_upstream, change):
    serve_json(raw_upstream, "/webhooks/sandbox/logs/7", envelope(ROW | change))
    response = manager_client.get("/webhooks/sandbox/logs/7?at=0", **HX)
    assert response.status_code == 200
    assert "Loading the details of this row failed: The management API answered with something" in (
        response.content.decode()
    )


def test_an_opened_row_whose_request_body_nests_deep_shows_it_as_text(manager_client, raw_upstream):
    deep = "[" * 5000 + "]" * 5000
    serve_json(raw_upstream, "/webhooks/sandbox/logs/7", envelope(ROW | {"request_body": deep}))
    html = manager_client.get("/webhooks/sandbox/logs/7?at=0", **HX).content.decode()
    assert deep in html


def test_an_opened_row_whose_request_body_holds_half_a_surrogate_pair_shows_it_as_text(manager_client, raw_upstream):
    body = '{"note": "\\ud800"}'  # valid text; decoded as JSON it could not be encoded in a page
    serve_json(raw_upstream, "/webhooks/sandbox/logs/7", envelope(ROW | {"request_body": body}))
    html = manager_client.get("/webhooks/sandbox/logs/7?at=0", **HX).content.decode()
    assert "\\ud800" in html


def test_attempts_of_the_wrong_shape_say_they_failed(manager_client, raw_upstream):
    delivery_id = ROW["delivery_id"]
    attempt = {"log_id": "7", "attempt": 1, "created_at": "2026-02-30T12:00:00Z", "status": "failure"}
    delivery = {"id": delivery_id, "state": "failed", "state_text": "Given up.", "timeline": [attempt]}
    serve_json(raw_upstream, f"/webhooks/sandbox/deliveries/{delivery_id}", envelope(delivery))
    html = manager_client.get(f"/webhooks/sandbox/deliveries/{delivery_id}", **HX).content.decode()
    assert "Loading the attempts failed: The management API answered with something" in html


def test_stats_of_the_wrong_shape_say_the_health_failed(manager_client, raw_upstream):
    bucket = {"start": "2026-11-28T12:00:00Z", "successes": "3", "failures": "1"}
    serve_json(raw_upstream, "/webhooks/sandbox/stats", envelope({"success_rate": 0.75, "buckets": [bucket]}))
    html = manager_client.get("/webhooks/sandbox/health", **HX).content.decode()
    assert "Loading the Sandbox health failed: The management API answered with something" in html


def test_a_health_panel_that_failed_to_load_offers_retry_into_its_slot(manager_client, dead_upstream):
    html = manager_client.get("/webhooks/sandbox/health", **HX).content.decode()
    assert "Loading the Sandbox health failed:" in html
    retry = re.search(
        r'<a class="btn btn-small" href="([^"]+)" hx-get="([^"]+)" hx-target="([^"]+)"[^>]*>Try again</a>', html
    )
    assert retry and retry.groups() == ("/webhooks/sandbox/health", "/webhooks/sandbox/health", "#health-sandbox")


def test_a_test_connection_result_with_half_a_surrogate_pair_fails_in_plain_words(manager_client, raw_upstream):
    result = b'{"data": {"success": false, "status_code": null, "duration_ms": 1, "error": "\\udc00"}}'
    raw_upstream.serve(answer(upstream_answer("200 OK", [], result)), "/webhooks/sandbox/test")
    response = manager_client.post("/webhooks/sandbox/test", **HX)
    assert response.status_code == 502 and "The test connection failed" in response.content.decode()


def test_field_errors_of_the_wrong_shape_fail_the_form_in_plain_words(manager_client, raw_upstream):
    serve_json(raw_upstream, "/webhooks/sandbox", {"message": "url: no", "errors": ["url"]}, "400 Bad Request")
    response = manager_client.post("/webhooks/sandbox/generate", {"url": "https://a.example.com/"}, **HX)
    assert response.status_code == 400
    assert "The management API answered with something the portal does not understand." in response.content.decode()


def test_a_roll_answer_without_the_next_secret_fails_in_plain_words(manager_client, raw_upstream):
    rolled = UPSTREAM_WEBHOOK | {"next_secret_activates_at": "2026-12-01T00:00:00Z"}
    serve_json(raw_upstream, "/webhooks/sandbox/secret/roll", envelope(rolled))
    response = manager_client.post("/webhooks/sandbox/roll", {"expires_in_hours": "24"}, **HX)
    assert response.status_code == 502 and "Rolling the secret failed" in response.content.decode()


def test_an_export_that_does_not_start_in_time_says_so(manager_client, raw_upstream, settings):
    settings.AUTOQL_API_TIMEOUT = 0.5
    raw_upstream.serve(trickle(upstream_answer("200 OK", [b"Content-Type: text/csv"], b"id\n1\n"), every_s=0.1))
    response = manager_client.get("/webhooks/sandbox/logs/export?format=csv")
    assert response.status_code == 502
    assert "Exporting the Sandbox logs failed: The management API did not answer in 0.5 s." in (
        response.content.decode()
    )


def test_a_trickling_upstream_is_cut_at_the_deadline_in_every_part(manager_client, raw_upstream, settings):
    settings.AUTOQL_API_TIMEOUT = 0.5
    raw_upstream.serve(trickle(json_answer(envelope({"items": []})), every_s=0.1))
    card = manager_client.get("/webhooks/sandbox/card", **HX).content.decode()
    assert "the management API did not answer in 0.5 s." in card and 'data-fault-cause="timeout"' in card


def test_an_answer_over_the_cap_says_so(manager_client, raw_upstream, settings):
    settings.AUTOQL_API_MAX_RESPONSE_BYTES = 1024
    serve_json(raw_upstream, "/webhooks/sandbox/logs", logs_page(*[ROW] * 10))
    logs = manager_client.get("/logs?env=sandbox", **HX).content.decode()
    assert "Couldn&#x27;t load the Sandbox logs: the management API&#x27;s answer was larger than the 1 KiB" in logs
    assert 'data-fault-cause="too-large"' in logs
    assert "sent an answer larger than this portal reads" in logs
