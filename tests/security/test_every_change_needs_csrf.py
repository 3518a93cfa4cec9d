"""Every change refuses a request without the CSRF token, even from a signed-in manager."""

import pytest
from django.test import Client

from tests.security.conftest import everything_stored
from tests.security.routes import every_route

# Not called from a browser session, so not protected by the CSRF token: the management API (key
# and token in every call) and the demo receiver's endpoint (the delivery's signature).
CSRF_EXEMPT_MODULES = {"ninja.operation", "functools", "demo_receiver.views"}
ROUTES = every_route()
CHANGES = [route for route in ROUTES if route.callback.__module__ not in CSRF_EXEMPT_MODULES]


def test_only_the_api_and_the_demo_receiver_skip_the_csrf_check():
    exempt = {str(route) for route in ROUTES if getattr(route.callback, "csrf_exempt", False)}
    api_operations = {str(route) for route in ROUTES if route.callback.__module__ == "ninja.operation"}
    assert exempt == api_operations | {"/demo/receiver/sandbox (demo_receiver)"}


@pytest.fixture
def manager_without_token(manager) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    return client


@pytest.mark.parametrize("route", CHANGES, ids=str)
def test_a_change_without_the_token_is_refused(manager_without_token, webhooks, route):
    before = everything_stored()
    for method in ("post", "put", "delete"):
        response = getattr(manager_without_token, method)(route.path, {"url": "https://evil.example.com/"})
        assert response.status_code == 403, f"{method} {route} -> {response.status_code}"
        assert "security token expired" in response.content.decode()
    assert everything_stored() == before
