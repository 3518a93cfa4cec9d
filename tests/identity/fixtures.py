"""The real servers single sign-on is tested against, as fixtures for tests/identity and
tests/browser (tests/conftest.py imports them): one OpenID Connect provider and one slapd per test
session, and the portal's settings pointing at them for one test."""

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from tests.identity.servers import (
    PORTAL_DN,
    Directory,
    Provider,
    group_entry,
    person_entry,
    running_provider,
    running_slapd,
)

MANAGERS, VIEWERS, STAFF = "portal-managers", "portal-viewers", "portal-admins"
# The test client's host: the provider sends the people of non-browser tests back there.
TEST_CLIENT_URL = "http://testserver"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory, live_server) -> Iterator[Provider]:
    portals = [live_server.url, TEST_CLIENT_URL]
    with running_provider(
        tmp_path_factory.mktemp("oidc-provider"),
        redirect_uris=[f"{url}/accounts/oidc/callback/" for url in portals],
        post_logout_uris=[f"{url}/accounts/login/" for url in portals],
    ) as provider:
        yield provider


def map_groups(settings) -> None:
    settings.SSO_MANAGER_GROUPS = [MANAGERS]
    settings.SSO_VIEWER_GROUPS = [VIEWERS]
    settings.SSO_STAFF_GROUPS = [STAFF]


@pytest.fixture
def oidc(settings, oidc_provider) -> Provider:
    """The portal configured for the tests' provider, as OIDC_* and SSO_* in the environment would."""
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_CLIENT_SECRET = oidc_provider.client_secret
    settings.OIDC_LABEL = "Sign in with Contoso"
    settings.AUTHENTICATION_BACKENDS = [*django_settings.AUTHENTICATION_BACKENDS, "identity.oidc.ProviderBackend"]
    map_groups(settings)
    return oidc_provider


# The directory's people, by uid: password and groups.
LDAP_PEOPLE = {
    "lara": ("lara-directory-pass", [MANAGERS, STAFF]),
    "vince": ("vince-directory-pass", [VIEWERS]),
    "nora": ("nora-directory-pass", ["cafeteria"]),
}


@pytest.fixture(scope="session")
def slapd(tmp_path_factory) -> Iterator[Directory]:
    people = [person_entry(uid, password, uid.title(), "Directory") for uid, (password, _) in LDAP_PEOPLE.items()]
    groups = [
        group_entry(name, [uid for uid, (_, member_of) in LDAP_PEOPLE.items() if name in member_of])
        for name in (MANAGERS, VIEWERS, STAFF, "cafeteria")
    ]
    with running_slapd(tmp_path_factory.mktemp("slapd"), people + groups) as directory:
        yield directory


@pytest.fixture
def ldap_directory(settings, slapd) -> Directory:
    """The portal configured for the tests' slapd, as LDAP_* and SSO_* in the environment would."""
    settings.LDAP_SERVER_URI = slapd.uri
    settings.LDAP_BIND_DN = PORTAL_DN
    settings.LDAP_BIND_PASSWORD = slapd.portal_password
    settings.LDAP_USER_SEARCH = "ou=people,dc=example,dc=com"
    settings.LDAP_GROUP_SEARCH = "ou=groups,dc=example,dc=com"
    settings.AUTHENTICATION_BACKENDS = [*django_settings.AUTHENTICATION_BACKENDS, "identity.directory.DirectoryBackend"]
    map_groups(settings)
    return slapd
