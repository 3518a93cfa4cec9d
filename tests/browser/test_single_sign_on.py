"""Single sign-on in a real browser: people sign in on the provider's own page (the tests' OpenID
Connect provider) or with their directory password (the tests' slapd), as they would at work."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Route, expect

from audit.models import AuditEvent
from identity.directory import UNREACHABLE as DIRECTORY_UNREACHABLE
from identity.oidc import CREDENTIALS_REFUSED, NOT_VERIFIED
from identity.provider import UNREACHABLE
from identity.roles import NO_MAPPED_GROUP
from tests.identity.fixtures import MANAGERS, VIEWERS
from tests.ports import closed_port

pytestmark = pytest.mark.browser
MANAGE = "webhooks_app.manage_webhooks"


def start_at_the_portal(page: Page, portal: str) -> None:
    page.goto(f"{portal}/")
    page.get_by_role("link", name="Sign in with Contoso").click()


def sign_in_at_contoso(page: Page, username: str, password: str) -> None:
    page.get_by_role("heading", name="Contoso ID").wait_for()
    page.get_by_label("Contoso username").fill(username)
    page.get_by_label("Contoso password").fill(password)
    page.get_by_role("button", name="Continue").click()


def webhooks_tab(page: Page) -> None:
    page.get_by_role("heading", name="Webhooks", exact=True).wait_for()


def test_a_first_sign_in_on_the_providers_page_opens_the_tab_as_a_manager(page, portal, oidc):
    oidc.set_person("olivia", "olivia-pass", [MANAGERS], email="olivia@example.com")
    start_at_the_portal(page, portal)
    sign_in_at_contoso(page, "olivia", "olivia-pass")
    webhooks_tab(page)
    expect(page.locator(".who")).to_have_text("olivia")  # no "viewer" badge
    assert User.objects.get(username="olivia").has_perm(MANAGE)
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_IN)
    assert event.detail == "OpenID Connect: manager (group portal-managers)"


def test_signing_out_ends_the_providers_session_and_a_group_change_applies_at_the_next_sign_in(page, portal, oidc):
    oidc.set_person("victor", "victor-pass", [VIEWERS])
    start_at_the_portal(page, portal)
    sign_in_at_contoso(page, "victor", "victor-pass")
    webhooks_tab(page)
    expect(page.locator(".who .badge")).to_have_text("viewer")
    with page.expect_request(f"{oidc.issuer}/logout/?*"):
        page.get_by_role("button", name="Log out").click()
    # Back at the portal's sign-in page, through the provider's sign-out.
    page.wait_for_url(f"{portal}/accounts/login/")
    oidc.set_person("victor", "victor-pass", [MANAGERS])
    page.get_by_role("link", name="Sign in with Contoso").click()
    # The provider asks for the password again: its session ended too.
    sign_in_at_contoso(page, "victor", "victor-pass")
    webhooks_tab(page)
    expect(page.locator(".who .badge")).to_have_count(0)
    assert User.objects.get(username="victor").has_perm(MANAGE)


def test_someone_in_no_mapped_group_is_refused_in_a_plain_sentence(page, portal, oidc):
    oidc.set_person("carl", "carl-pass", ["cafeteria"])
    start_at_the_portal(page, portal)
    sign_in_at_contoso(page, "carl", "carl-pass")
    expect(page.get_by_role("alert")).to_have_text(NO_MAPPED_GROUP)
    assert not User.objects.filter(username="carl").exists()


def test_a_wrong_client_secret_gives_a_clear_page(page, portal, settings, oidc):
    oidc.set_person("olivia", "olivia-pass", [MANAGERS])
    settings.OIDC_CLIENT_SECRET = "not-the-secret"
    start_at_the_portal(page, portal)
    sign_in_at_contoso(page, "olivia", "olivia-pass")
    expect(page.get_by_role("alert")).to_have_text(CREDENTIALS_REFUSED)
    expect(page.get_by_role("link", name="Sign in with Contoso")).to_be_visible()


def test_an_unreachable_provider_gives_a_clear_page(page, portal, settings, oidc):
    with closed_port() as port:
        settings.OIDC_ISSUER = f"http://127.0.0.1:{port}/o"
        start_at_the_portal(page, portal)
        expect(page.get_by_role("alert")).to_have_text(UNREACHABLE)


def tamper_with_the_request_to_the_provider(page: Page, name: str) -> None:
    """Changes one parameter of the portal's request to the provider (the start's redirect), in transit.

    The redirect is answered here: a browser's route sees only the first request of a redirect chain.
    """

    def tamper(route: Route) -> None:
        response = route.fetch(max_redirects=0)
        parts = urlsplit(response.headers["location"])
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        forged = parts._replace(query=urlencode({**query, name: "forged"})).geturl()
        route.fulfill(status=302, headers={"Location": forged})

    page.route("**/accounts/oidc/start/**", tamper)


def test_a_tampered_state_is_refused(page, portal, oidc):
    oidc.set_person("olivia", "olivia-pass", [MANAGERS])
    tamper_with_the_request_to_the_provider(page, "state")
    start_at_the_portal(page, portal)
    sign_in_at_contoso(page, "olivia", "olivia-pass")
    expect(page.get_by_role("alert")).to_have_text(NOT_VERIFIED)
    assert not User.objects.filter(username="olivia").exists()


def test_a_tampered_nonce_is_refused(page, portal, oidc):
    oidc.set_person("olivia", "olivia-pass", [MANAGERS])
    tamper_with_the_request_to_the_provider(page, "nonce")
    start_at_the_portal(page, portal)
    sign_in_at_contoso(page, "olivia", "olivia-pass")
    expect(page.get_by_role("alert")).to_have_text(NOT_VERIFIED)
    assert not User.objects.filter(username="olivia").exists()


def sign_in_with_directory(page: Page, portal: str, username: str, password: str) -> None:
    page.goto(f"{portal}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_good_directory_password_opens_the_tab(page, portal, ldap_directory):
    sign_in_with_directory(page, portal, "lara", "lara-directory-pass")
    webhooks_tab(page)
    assert User.objects.get(username="lara").has_perm(MANAGE)


def test_a_bad_directory_password_is_refused(page, portal, ldap_directory):
    sign_in_with_directory(page, portal, "lara", "a-wrong-guess")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")


def test_a_directory_that_is_down_is_said_in_words(page, portal, settings, ldap_directory):
    with closed_port() as port:
        settings.LDAP_SERVER_URI = f"ldap://127.0.0.1:{port}"
        sign_in_with_directory(page, portal, "lara", "lara-directory-pass")
        expect(page.get_by_role("alert")).to_have_text(DIRECTORY_UNREACHABLE)
