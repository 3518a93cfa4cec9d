"""The sign-in page: the provider's button, the password form (hidden by PASSWORD_SIGN_IN=false when
single sign-on is configured), and the break-glass page for local accounts."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User

from tests.identity.conftest import local_path, sign_in_at_provider
from tests.portal.test_settings import read_setting

BUTTON = "Sign in with Contoso"


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_superuser("alice", password="alice-right-pass")


def test_without_single_sign_on_the_page_is_the_password_form_alone(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert 'name="password"' in html and "/accounts/oidc/start/" not in html


def test_with_openid_connect_the_page_offers_the_providers_button(client, db, oidc):
    html = client.get("/accounts/login/?next=/activity/").content.decode()
    assert BUTTON in html and 'href="/accounts/oidc/start/?next=/activity/"' in html
    assert 'name="password"' in html


def test_the_button_keeps_where_the_person_was_going(client, db, oidc):
    oidc.set_person("olivia", "olivia-pass", ["portal-managers"])
    start = client.get("/accounts/oidc/start/?next=/activity/")
    assert parse_qs(urlsplit(start["Location"]).query)["code_challenge_method"] == ["S256"]
    response = client.get(local_path(sign_in_at_provider(start["Location"], "olivia", "olivia-pass")))
    assert response["Location"] == "/activity/"


def test_password_sign_in_false_hides_the_form_which_the_break_glass_page_keeps(client, settings, oidc, alice):
    settings.PASSWORD_SIGN_IN = False
    html = client.get("/accounts/login/").content.decode()
    assert BUTTON in html and 'name="password"' not in html
    local = client.get("/accounts/login/local/").content.decode()
    assert "Sign in with a local account" in local and 'name="password"' in local and BUTTON not in local
    response = client.post("/accounts/login/local/", {"username": "alice", "password": "alice-right-pass"})
    assert response.status_code == 302 and client.get("/").status_code == 200


def test_with_ldap_the_form_stays_for_the_directory_even_without_password_sign_in(client, settings, ldap_directory):
    settings.PASSWORD_SIGN_IN = False
    html = client.get("/accounts/login/").content.decode()
    assert "With your directory account" in html and 'name="password"' in html


def test_the_break_glass_page_counts_wrong_passwords_toward_the_lockout(client, alice):
    for _ in range(5):
        client.post("/accounts/login/local/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/local/", {"username": "alice", "password": "alice-right-pass"})
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # The lockout is said on the break-glass page itself, whose form stays.
    assert "Sign in with a local account" in response.content.decode()


def test_single_sign_on_settings_come_from_the_environment():
    assert read_setting("OIDC_SCOPES", DJANGO_SETTINGS_MODULE="portal.settings") == "openid email profile"
    assert read_setting("OIDC_GROUPS_CLAIM", DJANGO_SETTINGS_MODULE="portal.settings") == "groups"
    assert read_setting("LDAP_USER_FILTER", DJANGO_SETTINGS_MODULE="portal.settings") == "(uid=%(user)s)"
    assert read_setting("PASSWORD_SIGN_IN", DJANGO_SETTINGS_MODULE="portal.settings") == "True"
    groups = read_setting("SSO_MANAGER_GROUPS", DJANGO_SETTINGS_MODULE="portal.settings", SSO_MANAGER_GROUPS="a,b c")
    assert groups == "['a', 'b c']"
    backends = read_setting(
        "AUTHENTICATION_BACKENDS",
        DJANGO_SETTINGS_MODULE="portal.settings",
        OIDC_ISSUER="https://idp.invalid",
        LDAP_SERVER_URI="ldap://ldap.invalid",
    )
    assert "identity.oidc.ProviderBackend" in backends and "identity.directory.DirectoryBackend" in backends
    assert "identity" not in read_setting("AUTHENTICATION_BACKENDS", DJANGO_SETTINGS_MODULE="portal.settings")
