import ipaddress
import os
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from portal.credentials import generated_names, new_credential
from tests import ports

# The single sign-on servers and settings, for tests/identity and tests/browser.
from tests.identity.fixtures import ldap_directory, oidc, oidc_provider, slapd  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def credentials_and_database_of_this_run(tmp_path_factory) -> None:
    """Each run makes its own credentials and its own test database, and writes nothing in the tree.

    Credentials: fresh ones for this run (the settings only read them; nothing generates a file),
    also in the environment of the processes the tests start (workers, a second instance).
    Database: SQLite in a file of this run's own (a file, not memory: the tests start real worker
    processes on it), so two runs in one checkout never share one; PostgreSQL under a name of this
    run's own.
    """
    for name in generated_names():
        value = os.environ.get(name) or new_credential(name)
        os.environ[name] = value
        setattr(django_settings, name, value.split(",") if name == "FIELD_ENCRYPTION_KEYS" else value)
    # The keys come from the environment here: a command that would update var/generated.env
    # (rotate_encryption_key) prints the new list instead, and nothing writes into the checkout.
    django_settings.FIELD_ENCRYPTION_KEYS_IN_GENERATED_FILE = False
    django_settings.GENERATED_ENV_FILE = tmp_path_factory.mktemp("credentials") / "generated.env"
    database = django_settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        test_name = str(tmp_path_factory.mktemp("database") / "test-db.sqlite3")
    else:
        test_name = f"test_{database['NAME']}_{os.getpid()}"
    database.setdefault("TEST", {})["NAME"] = test_name


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
