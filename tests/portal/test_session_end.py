"""A request htmx makes once the session has ended goes to the sign-in page as a whole page, and
signing in returns to the page the person was on, with its filters and page."""

from urllib.parse import parse_qs, urlsplit

from tests import factories

TAB = "http://testserver/?env=production&page=3&status=failure&size=25"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": TAB}


def next_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["next"][0]


def test_a_live_check_after_the_session_ended_sends_the_page_to_sign_in(client, db):
    response = client.get("/webhooks/production/logs/new?newest=7&page=3", **HTMX)
    # Not a redirect htmx would follow and paste into the table: one the page itself follows.
    assert response.status_code == 200 and "Location" not in response
    assert response.content == b""
    assert urlsplit(response["HX-Redirect"]).path == "/accounts/login/"
    # The tab's address, not the live check's.
    assert next_of(response["HX-Redirect"]) == "/?env=production&page=3&status=failure&size=25"


def test_every_kind_of_htmx_request_gets_the_same_answer(client, db):
    for method, path in [
        ("get", "/logs?env=production&page=4"),
        ("get", "/webhooks/production/logs/12?at=0"),
        ("post", "/webhooks/production/logs/12/resend"),
    ]:
        response = getattr(client, method)(path, **HTMX)
        assert response.status_code == 200, path
        assert next_of(response["HX-Redirect"]) == "/?env=production&page=3&status=failure&size=25", path


def test_signing_in_returns_to_that_page(client, db):
    factories.viewer()
    sign_in_url = client.get("/logs?env=production&page=4", **HTMX)["HX-Redirect"]
    page = client.get(sign_in_url)
    assert page.status_code == 200 and b'name="next" value="/?env=production&amp;page=3' in page.content
    signed_in = client.post(
        "/accounts/login/", {"username": "victor", "password": "viewer-pass-1", "next": next_of(sign_in_url)}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/?env=production&page=3&status=failure&size=25"


def test_a_page_of_another_site_is_not_returned_to(client, db):
    response = client.get("/logs", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example/?x=1")
    assert response["HX-Redirect"] == "/accounts/login/"


def test_without_htmx_the_sign_in_redirect_is_unchanged(client, db):
    response = client.get("/logs?env=production&page=4")
    assert response.status_code == 302
    assert next_of(response["Location"]) == "/logs?env=production&page=4"


def test_a_signed_in_htmx_request_is_untouched(client, db):
    client.force_login(factories.viewer())
    response = client.get("/logs?env=production", **HTMX)
    assert response.status_code == 200 and "HX-Redirect" not in response and b"log" in response.content
