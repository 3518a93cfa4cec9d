"""The Test Connection modal: a real signed delivery through the embedded API to 127.0.0.1."""

import pytest

from management_api.models import Webhook, WebhookLog
from tests.receiver import VerifyingReceiver
from tests.webhooks_app.conftest import HX

pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_it_shows_the_status_code_and_the_json_response(manager_client, httpserver):
    webhook = Webhook.objects.create(environment="sandbox", url=httpserver.url_for("/hook"), secret="s" * 43)
    receiver = VerifyingReceiver(secret=webhook.secret)
    httpserver.expect_request("/hook").respond_with_handler(receiver)

    response = manager_client.post("/webhooks/sandbox/test", **HX)

    html = response.content.decode()
    assert response["HX-Retarget"] == "#modal-content"
    assert "logs:refresh" in response["HX-Trigger"]
    assert "Connection succeeded" in html
    assert '<dd class="status-code">200</dd>' in html
    assert "&quot;message&quot;: &quot;ok&quot;" in html
    assert receiver.received[0]["problem"] is None
    assert WebhookLog.objects.get().status == "success"


def test_a_receiver_that_is_down_is_said_plainly(manager_client, closed_port):
    Webhook.objects.create(environment="production", url=f"http://127.0.0.1:{closed_port}/", secret="s" * 43)
    html = manager_client.post("/webhooks/production/test", **HX).content.decode()
    assert "Connection failed" in html
    assert '<dd class="error-text">connection refused</dd>' in html
    assert '<dd class="status-code">no response</dd>' in html


def test_without_a_webhook_it_says_to_create_one(manager_client):
    html = manager_client.post("/webhooks/sandbox/test", **HX).content.decode()
    assert "No webhook is configured for sandbox; create one first." in html
