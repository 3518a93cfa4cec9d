"""Every page of the portal refuses anonymous visitors: sign-in first, or 401/403/404."""

import pytest
from django.test import Client

from tests.security.routes import Route, every_route

# Public by design: signing in and out (the break-glass page and OpenID Connect's start and
# callback included), the password reset pages (reached without a session), the favicon's redirect
# to a static file. The management API has its own authentication (key and
# token; tests/management_api/test_authentication.py); the demo receiver is tested on its own
# (tests/demo_receiver/), since deliveries reach it without a session.
PUBLIC_NAMES = {
    "login",
    "login_local",
    "logout",
    "oidc_start",
    "oidc_callback",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
PUBLIC_PREFIXES = ("/favicon.ico", "/healthz", "/readyz", "/autoql/", "/demo/receiver/")
SIGN_IN_PAGES = ("/accounts/login/", "/admin/login/")


def needs_sign_in(route: Route) -> bool:
    return route.name not in PUBLIC_NAMES and not route.path.startswith(PUBLIC_PREFIXES)


ROUTES = [route for route in every_route() if needs_sign_in(route)]


def test_the_portal_pages_are_all_listed():
    paths = {route.path for route in ROUTES}
    assert {"/", "/webhooks/sandbox/generate", "/webhooks/sandbox/roll", "/admin/"} <= paths


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_anonymous_visitors_are_refused(db, route):
    client = Client()
    answered = {}
    for method in ("get", "post"):
        response = getattr(client, method)(route.path)
        answered[method] = response.status_code
        if response.status_code in (301, 302):
            assert response["Location"].startswith(SIGN_IN_PAGES), f"{method} {route} -> {response['Location']}"
        else:
            assert response.status_code in (401, 403, 404, 405), f"{method} {route} -> {response.status_code}"
    # 405 alone would say nothing about signing in: one of the two methods reaches the view.
    assert set(answered.values()) != {405}, route
