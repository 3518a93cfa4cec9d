"""Recording to the audit trail: `record` is the one way in, called where each change happens.

Who acts is known where a request or a command starts, not where the change is made, so it
travels with the work in a context variable (`acting_as`):

- a page of the portal (the admin included) acts as its signed-in person (audit.middleware);
- a call to the embedded API by key acts as "API key (<environment>)" (management_api/api/base.py),
  unless a person is already acting: the portal's own calls to its embedded API run inside that
  person's request, and are theirs;
- a management command acts as "command <name>" (audit.commands.AuditedCommand).

The change itself records its one event (management_api/webhooks.py, management_api/delivery.py,
the model's roll methods), whichever of those started it. Against an upstream AutoQL the change
happens there, so the portal's client records what the person asked for (webhooks_app/client.py).
"""

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from django.http import HttpRequest

from audit.models import ACTOR_LENGTH, DETAIL_LENGTH, AuditEvent
from portal.addresses import client_address

Action = AuditEvent.Action


class ActorKind:
    PERSON = "person"
    API_KEY = "api key"
    COMMAND = "command"
    # A request nobody has signed in to (yet): the sign-in page, an API call before its key is checked.
    NOBODY = "nobody"


@dataclass(frozen=True)
class Actor:
    name: str
    kind: str
    address: str | None = None


@dataclass
class _Scope:
    """What is being done for whom: a request (whose person is looked up only when something is
    recorded, so that an API call never reads a session), or an actor named outright."""

    request: HttpRequest | None
    actor: Actor | None = None


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("audit_scope", default=None)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _scope.set(_Scope(request=None, actor=actor))
    try:
        yield actor
    finally:
        _scope.reset(token)


@contextmanager
def acting_for(request: HttpRequest) -> Iterator[None]:
    """Whatever `request` changes is recorded as its signed-in person's (audit.middleware)."""
    token = _scope.set(_Scope(request=request))
    try:
        yield
    finally:
        _scope.reset(token)


def current_actor() -> Actor | None:
    scope = _scope.get()
    if scope is None:
        return None
    if scope.actor is None and scope.request is not None:
        scope.actor = _person_of(scope.request)
    return scope.actor


def _person_of(request: HttpRequest) -> Actor:
    user = getattr(request, "user", None)
    address = client_address(request)
    if user is not None and user.is_authenticated:
        return Actor(user.get_username(), ActorKind.PERSON, address)
    return Actor("", ActorKind.NOBODY, address)


def identify_api_caller(request: HttpRequest, environment: str) -> None:
    """A call the embedded API authenticated by the environment's key. Made from outside (the
    request the middleware saw is this one), its caller is the key's holder; made by the portal
    in-process for its person (the request being served is another), it stays that person's."""
    scope = _scope.get()
    caller = Actor(api_key_actor(environment), ActorKind.API_KEY, client_address(request))
    if scope is None:
        _scope.set(_Scope(request=request, actor=caller))
    elif scope.request is request:
        scope.actor = caller


def is_outside_caller() -> bool:
    """Whether the one acting reached the data with a key of their own (not through the portal,
    which records what it shows people itself: Reveal, Copy)."""
    actor = current_actor()
    return actor is not None and actor.kind == ActorKind.API_KEY


def record(
    action: str,
    *,
    environment: str = "",
    detail: str = "",
    actor: str | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Record one event, by whoever is acting, from their address.

    `actor` names the one acting when the caller knows better (the username of a sign-in), and
    `request` gives the address when nothing acts yet (Django's sign-in signals can be sent
    outside any request the middleware saw).
    """
    event = audit_event(action, environment=environment, detail=detail, actor=actor, request=request)
    event.save(force_insert=True)
    return event


def audit_event(
    action: str,
    *,
    environment: str = "",
    detail: str = "",
    actor: str | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """The event `record` stores, not yet stored: for a caller that stores it with its change in
    one statement (portal/inserts.py)."""
    acting = current_actor()
    address = acting.address if acting else (client_address(request) if request is not None else None)
    name = actor if actor is not None else (acting.name if acting else "")
    return AuditEvent(
        action=action,
        actor=name[:ACTOR_LENGTH],
        environment=environment,
        address=address,
        detail=detail[:DETAIL_LENGTH],
    )


def api_key_actor(environment: str) -> str:
    """Who made a call straight to the embedded API: only the environment's key is known."""
    return f"API key ({environment})"


def connection_test_outcome(success: bool, status_code: int | None, error: str | None) -> str:
    """A test connection's result in a line."""
    if status_code:
        return f"{'Succeeded' if success else 'Failed'}: the receiver answered {status_code}"
    return f"Failed: {error or 'no answer'}"


EXPORT_FORMATS = {"csv": "CSV", "jsonl": "JSON lines"}


def export_detail(file_format: str, filters: Mapping[str, str]) -> str:
    """An export in a line: its format and the filters that chose its rows, e.g. "CSV; status failure"."""
    described = ", ".join(f"{name} {value}" for name, value in sorted(filters.items()))
    return f"{EXPORT_FORMATS.get(file_format, file_format)}{'; ' + described if described else ''}"


def event_detail(event: str, payload: Mapping[str, object]) -> str:
    """A queued event in a line: its name and the project it is about."""
    project = payload.get("project_id")
    return f"{event} for project {project}" if project else event


def recover_detail(queued: int, since: str) -> str:
    return f"{queued} failed since {since}"
