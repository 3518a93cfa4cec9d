"""The logs' deliveries view (?view=deliveries) and a delivery's own page, /deliveries/<id>/."""

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from html import unescape

from django.core.cache import cache

from management_api import delivery as deliveries
from management_api.models import Webhook, WebhookLog
from management_api.signing import verify
from portal.signatures import HIDDEN_SIGNATURE
from tests import factories
from tests.receiver import VerifyingReceiver
from tests.webhooks_app.conftest import HX

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def a_delivery(state: str, minutes: int, *codes: int, **fields):
    made = factories.delivery(
        state=state, attempts=len(codes), created_at=T0 + timedelta(minutes=minutes), project_id="acme", **fields
    )
    for number, code in enumerate(codes, start=1):
        factories.log_row(
            delivery_id=made.id,
            attempt=number,
            status="success" if code < 300 else "failure",
            code=code,
            duration_ms=10 * number,
            project_id="acme",
        )
    return made


def section(client, query: str) -> str:
    response = client.get(f"/logs?env=sandbox&{query}", **HX)
    assert response.status_code == 200
    return response.content.decode()


def json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


# The deliveries view.


def test_the_deliveries_view_has_one_row_per_delivery_with_its_outcome(viewer_client):
    retried = a_delivery("delivered", 1, 500, 200)
    a_delivery("failed", 2, 503, 503, 503)
    html = section(viewer_client, "view=deliveries")
    assert html.count('class="log-row delivery-row"') == 2
    assert "Delivered" in html and "Gave up" in html
    assert "Page 1 of 1" in html and "2 deliveries" in html
    assert f'href="/deliveries/{retried.id}/"' in html
    # Its attempts load when it opens.
    assert f'data-detail-url="/webhooks/sandbox/deliveries/{retried.id}"' in html
    # Attempts view: five rows for the same two deliveries.
    assert section(viewer_client, "").count('class="log-row"') == 5


def test_failure_in_the_deliveries_view_is_a_delivery_given_up(viewer_client):
    a_delivery("delivered", 1, 500, 200)
    gave_up = a_delivery("failed", 2, 503)
    html = section(viewer_client, "view=deliveries&status=failure")
    assert html.count('class="log-row delivery-row"') == 1
    assert str(gave_up.id) in html
    assert 'id="status-meaning"' in html
    # In the attempts view the 500 of the delivered one is a failure too.
    assert section(viewer_client, "status=failure").count('class="log-row"') == 2


def test_the_view_is_kept_in_every_link(viewer_client):
    a_delivery("delivered", 1, 200)
    html = unescape(section(viewer_client, "view=deliveries&status=success&size=10"))
    assert '<input type="hidden" name="view" value="deliveries">' in html
    production = re.search(r'href="(/logs\?env=production[^"]*)"', html)
    assert production and "view=deliveries" in production.group(1)
    chip = re.search(r'class="chip" href="([^"]+)"', html)
    assert chip and "view=deliveries" in chip.group(1) and "status" not in chip.group(1)
    response = viewer_client.get("/logs?env=sandbox&view=deliveries&size=10&status=success", **HX)
    assert "view=deliveries" in response["HX-Push-Url"]


def test_the_toggle_links_both_views_with_the_same_filters(viewer_client):
    a_delivery("delivered", 1, 200)
    html = unescape(section(viewer_client, "status=success"))
    toggle = re.search(r'<nav class="toggle view-toggle"(.*?)</nav>', html, re.S)
    assert toggle
    links = re.findall(r'href="([^"]+)"', toggle.group(1))
    assert len(links) == 2
    assert "view=deliveries" not in links[0] and "view=deliveries" in links[1]
    assert all("status=success" in link for link in links)
    assert 'aria-current="true" class="on">Attempts' in toggle.group(1)


def test_every_attempt_row_links_to_its_delivery(viewer_client):
    made = a_delivery("delivered", 1, 200)
    assert f'href="/deliveries/{made.id}/"' in section(viewer_client, "")


def test_the_health_panel_counts_what_the_rows_are(viewer_client, settings):
    settings.HEALTH_PANEL_CACHE_SECONDS = 0
    cache.clear()
    factories.webhook()
    attempts = viewer_client.get("/webhooks/sandbox/health", **HX).content.decode()
    by_delivery = viewer_client.get("/webhooks/sandbox/health?view=deliveries", **HX).content.decode()
    assert "<dt>Attempts, 24 h</dt>" in attempts and "<dt>Deliveries, 24 h</dt>" not in attempts
    assert "<dt>Deliveries, 24 h</dt>" in by_delivery and "<dt>Attempts, 24 h</dt>" not in by_delivery
    html = section(viewer_client, "view=deliveries")
    assert 'hx-get="/webhooks/sandbox/health?view=deliveries"' in html


def test_an_api_without_deliveries_shows_attempts_and_no_toggle(manager_client, settings, httpserver):
    api = "/autoql/management/api/v1/notifications"
    settings.AUTOQL_DOMAIN = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(f"{api}/webhooks/sandbox/deliveries").respond_with_data("Not Found", status=404)
    row = {
        "id": 9,
        "status": "success",
        "event": "data_alert.true",
        "type": "data_alert",
        "created_at": "2026-11-28T12:00:00Z",
        "url": "https://hooks.example.com/in",
    }
    page = {"data": {"items": [row], "pagination": {"offset": 0, "limit": 10, "total_items": 1}}}
    httpserver.expect_request(f"{api}/webhooks/sandbox/logs").respond_with_json(page)
    html = section(manager_client, "view=deliveries")
    assert html.count('class="log-row"') == 1
    assert "view-toggle" not in html


# A delivery's own page.


def test_a_delivery_page_shows_its_attempts(manager_client):
    made = a_delivery("delivered", 1, 500, 200)
    html = manager_client.get(f"/deliveries/{made.id}/").content.decode()
    assert "Delivered on attempt 2." in html
    assert html.count('<tr class="attempt">') == 2
    assert json_script(html, "delivery-id-json") == str(made.id)
    assert "data_alert.true" in html and "Project ID acme" in html


def test_the_raw_body_and_curl_replay_exactly_what_was_signed(manager_client, httpserver, allow_loopback):
    webhook = factories.webhook(url=httpserver.url_for("/hook"))
    receiver = VerifyingReceiver(secret=webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    log, _ = deliveries.deliver_test_event(Webhook.objects.get())
    assert receiver.received and receiver.received[0]["problem"] is None
    response = manager_client.get(f"/deliveries/{log.delivery_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    body = json_script(html, "delivery-body-json")
    headers = dict(line.split(": ", 1) for line in json_script(html, "delivery-headers-json").splitlines())
    assert body.encode() == receiver.received[0]["body"]
    assert verify(webhook.secret, headers["AutoQL-Timestamp"], headers["AutoQL-Signature"], body.encode()) is None
    # The curl, run for real against the receiver, is accepted by its signature check.
    curl = json_script(html, "delivery-curl-json").replace("http://127.0.0.1:8000/webhook", httpserver.url_for("/hook"))
    assert "--data-binary" in curl
    done = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert len(receiver.received) == 2
    assert receiver.received[1]["body"] == receiver.received[0]["body"]
    assert receiver.received[1]["problem"] is None


def test_a_viewer_sees_a_fresh_signature_hidden_on_the_delivery_page(viewer_client, httpserver, allow_loopback):
    webhook = factories.webhook(url=httpserver.url_for("/hook"))
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver(secret=webhook.secret))
    log, _ = deliveries.deliver_test_event(Webhook.objects.get())
    html = viewer_client.get(f"/deliveries/{log.delivery_id}/").content.decode()
    signature = log.request_headers["AutoQL-Signature"]
    assert signature not in html
    assert HIDDEN_SIGNATURE in json_script(html, "delivery-headers-json")
    assert HIDDEN_SIGNATURE in json_script(html, "delivery-curl-json")


def test_an_unknown_delivery_is_a_clear_404_page(viewer_client):
    for delivery_id in ("0" * 32, "12345678-1234-1234-1234-123456789abc", "not-a-delivery", "١" * 32):
        response = viewer_client.get(f"/deliveries/{delivery_id}/")
        assert response.status_code == 404, delivery_id
        assert "no longer kept" in response.content.decode()


def test_the_delivery_page_requires_signing_in(client, db):
    made = a_delivery("delivered", 1, 200)
    response = client.get(f"/deliveries/{made.id}/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_a_production_delivery_is_found_by_its_id_alone(viewer_client):
    made = factories.delivery(environment="production", state="failed", attempts=1)
    factories.log_row(environment="production", delivery_id=made.id, status="failure", code=503)
    html = viewer_client.get(f"/deliveries/{made.id}/").content.decode()
    assert "Given up after 1 attempt." in html
    assert "Production deliveries" in html


def test_the_live_check_of_the_deliveries_view_watches_the_newest_attempt_it_shows(viewer_client):
    made = a_delivery("retrying", 1, 500)
    newest = WebhookLog.objects.get(delivery_id=made.id)
    html = unescape(section(viewer_client, "view=deliveries"))
    poll = re.search(r'id="logs-new" data-live-poll hx-get="([^"]+)"', html)
    assert poll and f"newest={newest.pk}" in poll.group(1) and "view=deliveries" in poll.group(1)
    quiet = viewer_client.get(poll.group(1), **HX)
    assert quiet.status_code == 200 and "HX-Trigger" not in quiet
    # Its next attempt lands: the table refreshes.
    factories.log_row(delivery_id=made.id, attempt=2, status="success", project_id="acme")
    refreshed = viewer_client.get(poll.group(1), **HX)
    assert refreshed.status_code == 204 and "logs:refresh" in refreshed["HX-Trigger"]


def test_an_opened_attempt_links_to_its_delivery(viewer_client):
    made = a_delivery("delivered", 1, 200)
    row = WebhookLog.objects.get(delivery_id=made.id)
    html = viewer_client.get(f"/webhooks/sandbox/logs/{row.pk}", **HX).content.decode()
    assert f'<a class="mono" href="/deliveries/{made.id}/">{made.id}</a>' in html
