"""Recording to the audit trail: `record` is the one way in."""

from django.http import HttpRequest

from audit.models import ACTOR_LENGTH, DETAIL_LENGTH, AuditEvent
from portal.addresses import client_address

# Set by the portal's in-process client (webhooks_app/client.py) in the WSGI environ of every
# request it hands to the embedded API. The portal records those actions itself, under the
# signed-in user, so the API must not record them a second time as "API key (...)". No HTTP client
# can send this key: request headers only ever arrive in the environ as HTTP_*.
RECORDED_BY_PORTAL = "audit.recorded_by_portal"

Action = AuditEvent.Action


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: str = "",
    environment: str = "",
    detail: str = "",
) -> AuditEvent | None:
    """Record one event. The actor defaults to the request's signed-in user; the address comes
    from the request. Returns None, recording nothing, for the portal's own in-process calls."""
    if request is not None and request.META.get(RECORDED_BY_PORTAL):
        return None
    user = getattr(request, "user", None)
    if not actor and user is not None and user.is_authenticated:
        actor = user.get_username()
    return AuditEvent.objects.create(
        action=action,
        actor=actor[:ACTOR_LENGTH],
        environment=environment,
        address=client_address(request) if request is not None else None,
        detail=detail[:DETAIL_LENGTH],
    )


def api_key_actor(environment: str) -> str:
    """Who made a call straight to the embedded API: only the environment's key is known."""
    return f"API key ({environment})"


def connection_test_outcome(success: bool, status_code: int | None, error: str | None) -> str:
    """A test connection's result in a line, the same whether the portal or the API records it."""
    if status_code:
        return f"{'Succeeded' if success else 'Failed'}: the receiver answered {status_code}"
    return f"Failed: {error or 'no answer'}"
