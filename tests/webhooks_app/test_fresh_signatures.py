"""Viewers never see a delivery's signature while a receiver would still accept it (five minutes)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from management_api.models import WebhookLog
from tests.webhooks_app.conftest import tab_html
from tests.webhooks_app.test_deliveries import logged_delivery

SIGNATURE = "c2lnbmF0dXJl"
HIDDEN = "AutoQL-Signature: (hidden for 5 minutes after sending)"


def sent(minutes_ago: float) -> WebhookLog:
    log = logged_delivery()
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    log.request_headers = {
        "AutoQL-Timestamp": str(int(moment.timestamp() * 1000)),
        "AutoQL-Signature": SIGNATURE,
    }
    log.created_at = moment
    log.save(update_fields=["request_headers", "created_at"])
    return log


def test_a_viewer_sees_no_signature_of_a_fresh_delivery(viewer_client):
    sent(minutes_ago=1)
    html = tab_html(viewer_client, expanded=True)
    assert SIGNATURE not in html
    assert HIDDEN in html
    assert "AutoQL-Timestamp:" in html


def test_a_viewer_sees_the_signature_once_it_can_no_longer_be_replayed(viewer_client):
    sent(minutes_ago=10)
    html = tab_html(viewer_client, expanded=True)
    assert f"AutoQL-Signature: {SIGNATURE}" in html
    assert HIDDEN not in html


def test_a_timestamp_in_the_future_keeps_the_signature_hidden(viewer_client):
    log = sent(minutes_ago=10)
    future = int((time.time() + 120) * 1000)
    log.request_headers = {**log.request_headers, "AutoQL-Timestamp": str(future)}
    log.save(update_fields=["request_headers"])
    html = tab_html(viewer_client, expanded=True)
    assert SIGNATURE not in html and HIDDEN in html


@pytest.mark.parametrize("minutes_ago", [1, 10])
def test_a_manager_sees_every_signature(manager_client, minutes_ago):
    sent(minutes_ago=minutes_ago)
    html = tab_html(manager_client, expanded=True)
    assert f"AutoQL-Signature: {SIGNATURE}" in html


ECHOED = "k3/ZsS+Aa1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXy="


def echoed(minutes_ago: float) -> WebhookLog:
    """A receiver that answers with the request it got, as request-inspection services do."""
    log = sent(minutes_ago)
    log.request_headers = {**log.request_headers, "AutoQL-Signature": ECHOED}
    log.response = {"received": {"headers": {"AutoQL-Signature": ECHOED}}}
    log.response_headers = {"X-Echo-Signature": ECHOED}
    log.error = f"redirects are not followed (302 to https://inspect.example/?s={ECHOED})"
    log.save(update_fields=["request_headers", "response", "response_headers", "error"])
    return log


def test_a_viewer_sees_no_fresh_signature_that_the_receiver_echoed(viewer_client):
    echoed(minutes_ago=1)
    html = tab_html(viewer_client, expanded=True)
    # The response, its headers, the row's error and the attempt in the delivery's timeline.
    assert ECHOED not in html
    assert html.count("(hidden for 5 minutes after sending)") >= 5


def test_an_echoed_signature_shows_once_it_can_no_longer_be_replayed(viewer_client):
    echoed(minutes_ago=10)
    assert ECHOED in tab_html(viewer_client, expanded=True)


def test_a_manager_sees_what_the_receiver_echoed(manager_client):
    echoed(minutes_ago=1)
    html = tab_html(manager_client, expanded=True)
    assert html.count(ECHOED) >= 5
