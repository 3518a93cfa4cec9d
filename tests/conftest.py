import ipaddress
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests import ports

# The single sign-on servers and settings, for tests/identity and tests/browser.
from tests.identity.fixtures import ldap_directory, oidc, oidc_provider, slapd  # noqa: F401


@pytest.fixture
def allow_loopback(settings):
    """Let deliveries reach the receivers the tests start on 127.0.0.1 and ::1."""
    settings.WEBHOOK_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]


@pytest.fixture(scope="session")
def httpserver_listen_address():
    # Receivers listen on the IPv4 loopback only; "localhost" could resolve to ::1 first.
    return ("127.0.0.1", 0)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections for the whole test."""
    with ports.closed_port() as port:
        yield port


@pytest.fixture(autouse=True)
def fresh_rate_limit_counters():
    """Rate-limit counters live in the (per-process) cache: each test starts with none used."""
    cache.clear()
