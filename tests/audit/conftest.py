import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEvent
from tests import factories
from tests.management_api.conftest import ApiClient

# A documentation address (RFC 5737), so a recorded address can only have come from the request.
ADDRESS = "203.0.113.7"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager(db) -> User:
    return factories.manager()


@pytest.fixture
def viewer(db) -> User:
    return factories.viewer()


def signed_in_client(user: User) -> Client:
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(user)
    # force_login signs in through django.contrib.auth.login, which records a sign-in; the tests
    # of the other actions start from an empty trail.
    AuditEvent.objects.all().delete()
    return client


@pytest.fixture
def manager_client(manager) -> Client:
    return signed_in_client(manager)


@pytest.fixture
def viewer_client(viewer) -> Client:
    return signed_in_client(viewer)


@pytest.fixture
def api_from_address(db) -> ApiClient:
    """Calls straight to the embedded API with the sandbox or production key, from ADDRESS."""
    return ApiClient(Client(REMOTE_ADDR=ADDRESS))


def only_event() -> AuditEvent:
    events = list(AuditEvent.objects.all())
    assert len(events) == 1, [str(e) for e in events]
    return events[0]


def assert_nothing_of(secret: str) -> None:
    """Not the secret, and not even its last 4 characters, in any field of any event."""
    assert AuditEvent.objects.exists()
    for event in AuditEvent.objects.all():
        for value in (event.actor, event.action, event.environment, event.address or "", event.detail):
            assert secret not in value and secret[-4:] not in value, (event, value)
