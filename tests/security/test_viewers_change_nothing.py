"""A viewer (signed in, without the manage permission) can change nothing and reveal nothing."""

from typing import Any

import pytest
from django.test import Client

from management_api.models import Webhook
from tests.security.conftest import everything_stored
from tests.security.routes import every_route

HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
# The tab's own views, but for the tab itself (which viewers may read).
# What every signed-in user may read: the tab and its parts, and the Integrate page.
READ_VIEWS = {
    "webhooks_tab",
    "environment_card",
    "logs_section",
    "integrate",
    "delivery_timeline",
    "log_detail",
    "logs_health",
    "export_logs",
    "new_deliveries",
    "delivery_page",
}

CHANGES = [
    route
    for route in every_route()
    if route.callback.__module__.startswith("webhooks_app") and route.name not in READ_VIEWS
]


def test_every_change_of_the_tab_is_listed():
    names = {route.name for route in CHANGES}
    assert {"generate_key", "reveal_secret", "roll_secret", "complete_secret_roll", "resend_delivery"} <= names


@pytest.mark.parametrize("route", CHANGES, ids=str)
def test_a_viewer_is_refused(viewer, webhooks, route):
    client = Client()  # with the CSRF token not enforced: the permission alone must refuse
    client.force_login(viewer)
    secrets = [w.secret for w in Webhook.objects.all()] + [Webhook.objects.get(environment="sandbox").next_secret]
    before = everything_stored()
    for method, extra in [("get", {}), ("post", {}), ("post", HX)]:
        data = {"url": "https://evil.example.com/", "expires_in_hours": "1"}
        response = getattr(client, method)(route.path, data, **extra)
        # GET of a POST-only view is 405 before anything else; every other request is 403.
        refused = (403, 405) if method == "get" else (403,)
        assert response.status_code in refused, f"{method} {route} -> {response.status_code}"
        html = response.content.decode()
        assert not any(secret and secret in html for secret in secrets), route
    assert everything_stored() == before
