"""The Integrate page: events, headers and samples for everyone signed in; the example alert for managers."""

import html
import json
import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from management_api import delivery as deliveries
from management_api.models import Delivery, Webhook
from management_api.schemas import EventIn
from management_api.sender import signed_headers
from tests.webhooks_app.conftest import HX
from webhooks_app.integrator import EVENTS, SAMPLES

PAGE = "/integrate/"
SEND = "/integrate/example-alert"
SEND_BUTTON = "Send an example data alert"


@pytest.fixture
def sandbox_webhook(db) -> Webhook:
    return Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/autoql")


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    assert client.get(PAGE)["Location"].startswith("/accounts/login/")
    response = client.post(SEND)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Delivery.objects.exists()


def test_a_viewer_reads_every_event_header_and_sample(viewer_client):
    page = viewer_client.get(PAGE).content.decode()

    for event in ("test", "data_alert.true", "data_alert.false"):
        assert f"<code>{event}</code>" in page
    for header in ("AutoQL-Timestamp", "AutoQL-Signature", "AutoQL-Event", "AutoQL-Delivery-Id"):
        assert f"<code>{header}</code>" in page
    for sample in SAMPLES:
        assert html.escape(sample.code) in page
        assert f'aria-label="Copy the {sample.title} sample"' in page
    assert SEND_BUTTON not in page
    assert "Managers can send an example data alert" in page


def test_the_top_bar_links_to_the_page(viewer_client):
    assert f'href="{PAGE}">Integrate</a>' in viewer_client.get("/").content.decode()


def test_the_examples_have_the_shapes_deliveries_really_have(viewer_client):
    page = html.unescape(viewer_client.get(PAGE).content.decode())
    bodies = re.findall(r'<pre class="code"[^>]*><code>(\{.*?\})</code></pre>', page, re.S)
    shown = [json.loads(body) for body in bodies]

    assert [body["event"] for body in shown] == [name for name, _, _ in EVENTS]
    assert set(shown[0]["payload"]) == set(deliveries.test_payload("sandbox"))
    for data_alert in shown[1:]:
        EventIn.model_validate(data_alert)  # what the events call accepts is what gets delivered
    header_names = re.findall(r"<dt><code>([^<]+)</code></dt>", page)
    assert set(header_names) == set(signed_headers("s", "test", b"{}", Delivery().id))


def test_a_viewer_cannot_send(viewer_client, sandbox_webhook):
    assert viewer_client.post(SEND).status_code == 403
    assert not Delivery.objects.exists()


def test_sending_needs_the_csrf_token(manager, sandbox_webhook):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post(SEND).status_code == 403
    assert not Delivery.objects.exists()


def test_a_manager_queues_one_example_data_alert(manager_client, sandbox_webhook):
    page = manager_client.get(PAGE).content.decode()
    assert SEND_BUTTON in page and 'name="csrfmiddlewaretoken"' in page

    before = int(time.time())
    response = manager_client.post(SEND)

    assert response.status_code == 202
    queued = Delivery.objects.get()
    assert (queued.environment, queued.event, queued.state) == ("sandbox", "data_alert.true", "pending")
    assert queued.payload["title"] == "Example data alert"
    assert before <= queued.payload["created_at"] <= int(time.time())  # sent now, not the docs' example
    EventIn.model_validate({"event": queued.event, "payload": queued.payload})
    sentence = f"Queued: delivery <code>{queued.id}</code>; it appears in the"
    assert sentence in response.content.decode()
    assert "Sandbox logs</a> in a moment." in response.content.decode()


def test_with_htmx_only_the_sentence_comes_back(manager_client, sandbox_webhook):
    response = manager_client.post(SEND, **HX)
    body = response.content.decode()
    assert response.status_code == 202
    assert body.startswith("<p>Queued: delivery") and "<html" not in body


def test_without_a_sandbox_webhook_it_says_so_and_links_to_the_tab(manager_client, db):
    Webhook.objects.create(environment="production", url="https://hooks.example.com/prod")

    response = manager_client.post(SEND, **HX)

    assert response.status_code == 409
    body = response.content.decode()
    assert "There is no Sandbox webhook yet" in body and 'href="/">Webhooks</a>' in body
    assert not Delivery.objects.exists()


def test_a_disabled_sandbox_webhook_is_not_sent_to(manager_client, sandbox_webhook):
    Webhook.objects.filter(pk=sandbox_webhook.pk).update(disabled_at=timezone.now(), disabled_reason="Failing.")
    response = manager_client.post(SEND)
    assert response.status_code == 409
    assert "Sending the example failed: The sandbox webhook is disabled" in response.content.decode()
    assert not Delivery.objects.exists()


def test_the_send_address_takes_post_only(manager_client, sandbox_webhook):
    assert manager_client.get(SEND).status_code == 405
    assert manager_client.put(SEND).status_code == 405
    assert not Delivery.objects.exists()
