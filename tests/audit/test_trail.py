"""record(): the caller's address, the actor, and the limits of each field."""

from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from audit.models import AuditEvent
from audit.trail import record

Action = AuditEvent.Action


def request_from(remote_addr: str, forwarded_for: str | None = None):
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)
    if forwarded_for is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded_for
    request.user = AnonymousUser()
    return request


def test_record_stores_the_event_with_the_requests_address(db):
    record(Action.SECRET_REVEALED, request=request_from("198.51.100.4"), actor="maria", environment="sandbox")
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.environment, event.address) == (
        "maria",
        Action.SECRET_REVEALED,
        "sandbox",
        "198.51.100.4",
    )


def test_record_cuts_long_values_to_their_fields(db):
    record(Action.SIGN_IN_FAILED, actor="u" * 500, detail="d" * 2000)
    event = AuditEvent.objects.get()
    assert (len(event.actor), len(event.detail)) == (150, 500)
