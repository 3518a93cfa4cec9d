"""Every action, through every route that can perform it, leaves exactly one audit event, naming
the actor that route knows: the person signed in to the portal (or its admin), the API key, the
command. The change records itself where it happens, so no route can forget it or add a second.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from management_api.alerts import data_alert_payload
from management_api.models import Delivery, Webhook, WebhookLog
from tests import factories
from tests.audit.conftest import ADDRESS, signed_in_client
from tests.management_api.conftest import ApiClient
from tests.receiver import VerifyingReceiver

Action = AuditEvent.Action
pytestmark = pytest.mark.usefixtures("allow_loopback")

MANAGER, ADMIN, KEY = "maria", "root", "API key (sandbox)"
HTMX = {"HX-Request": "true"}


@dataclass
class World:
    """What a route needs: the clients of each kind of actor, and the receiver on 127.0.0.1."""

    portal: Client
    admin: Client
    api: ApiClient
    receiver_url: str

    def webhook(self, **fields: Any) -> Webhook:
        return Webhook.objects.create(environment="sandbox", url=self.receiver_url, secret="s" * 43, **fields)

    def failed_delivery(self) -> WebhookLog:
        self.webhook()
        delivery = Delivery.objects.create(
            environment="sandbox", type="data_alert", event="data_alert.true", state="failed", attempts=1
        )
        return WebhookLog.objects.create(
            environment="sandbox",
            delivery_id=delivery.id,
            type="data_alert",
            event="data_alert.true",
            status="failure",
            url=self.receiver_url,
        )

    def rolling(self) -> Webhook:
        webhook = self.webhook()
        webhook.start_secret_roll(timedelta(hours=24))
        return webhook


def ok(response) -> None:
    assert response.status_code < 400, (response.status_code, response.content[:300])


def portal_post(path: str, data: dict | None = None) -> Callable[[World], None]:
    return lambda world: ok(world.portal.post(path, data or {}, headers=HTMX))


def api_call(method: str, path: str, body: Any = None, query: str = "") -> Callable[[World], None]:
    return lambda world: ok(world.api.call(method, path, body, query=query))


def nothing(world: World) -> None:
    pass


def one_webhook(world: World) -> None:
    world.webhook()


def disabled_webhook(world: World) -> None:
    world.webhook(disabled_at=timezone.now(), disabled_reason="Failing for days.")


def resend_from_portal(world: World) -> None:
    log = WebhookLog.objects.get()
    ok(world.portal.post(f"/webhooks/sandbox/logs/{log.pk}/resend", headers=HTMX))


def resend_by_key(world: World) -> None:
    log = WebhookLog.objects.get()
    ok(world.api.call("POST", f"/webhooks/sandbox/logs/{log.pk}/resend", {}))


def read_row_by_key(world: World) -> None:
    log = WebhookLog.objects.get()
    ok(world.api.call("GET", f"/webhooks/sandbox/logs/{log.pk}"))


def admin_add(world: World) -> None:
    response = world.admin.post(
        "/admin/management_api/webhook/add/", {"environment": "sandbox", "url": "https://hooks.example.com/admin"}
    )
    assert response.status_code == 302, response.content[:500]


def admin_change(world: World) -> None:
    webhook = Webhook.objects.get()
    response = world.admin.post(
        f"/admin/management_api/webhook/{webhook.pk}/change/", {"url": "https://hooks.example.com/changed"}
    )
    assert response.status_code == 302, response.content[:500]


def admin_delete(world: World) -> None:
    webhook = Webhook.objects.get()
    response = world.admin.post(f"/admin/management_api/webhook/{webhook.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:500]


def command(*args: str) -> Callable[[World], None]:
    def run(world: World) -> None:
        call_command(*args, verbosity=0)

    return run


SINCE = {"since": "24h"}
# (action, route, what exists first, what the route does, who the event names)
CASES: list[tuple[str, str, Callable[[World], Any], Callable[[World], None], str]] = [
    (
        Action.WEBHOOK_CREATED,
        "portal",
        nothing,
        portal_post("/webhooks/sandbox/generate", {"url": "https://h.example.com/a"}),
        MANAGER,
    ),
    (
        Action.WEBHOOK_CREATED,
        "api",
        nothing,
        api_call("PUT", "/webhooks/sandbox", {"url": "https://h.example.com/a"}),
        KEY,
    ),
    (Action.WEBHOOK_CREATED, "admin", nothing, admin_add, ADMIN),
    (
        Action.URL_CHANGED,
        "portal",
        one_webhook,
        portal_post("/webhooks/sandbox/generate", {"url": "https://h.example.com/b", "updating": "1"}),
        MANAGER,
    ),
    (
        Action.URL_CHANGED,
        "api",
        one_webhook,
        api_call("PUT", "/webhooks/sandbox", {"url": "https://h.example.com/b"}),
        KEY,
    ),
    (Action.URL_CHANGED, "admin", one_webhook, admin_change, ADMIN),
    (Action.SECRET_REGENERATED, "portal", one_webhook, portal_post("/webhooks/sandbox/regenerate"), MANAGER),
    (Action.SECRET_REGENERATED, "api", one_webhook, api_call("PUT", "/webhooks/sandbox/secret", {}), KEY),
    (
        Action.ROLL_STARTED,
        "portal",
        one_webhook,
        portal_post("/webhooks/sandbox/roll", {"expires_in_hours": "24"}),
        MANAGER,
    ),
    (
        Action.ROLL_STARTED,
        "api",
        one_webhook,
        api_call("POST", "/webhooks/sandbox/secret/roll", {"expires_in_hours": 24}),
        KEY,
    ),
    (Action.ROLL_COMPLETED, "portal", World.rolling, portal_post("/webhooks/sandbox/roll/complete"), MANAGER),
    (Action.ROLL_COMPLETED, "api", World.rolling, api_call("POST", "/webhooks/sandbox/secret/roll/complete", {}), KEY),
    (Action.ROLL_CANCELLED, "portal", World.rolling, portal_post("/webhooks/sandbox/roll/cancel"), MANAGER),
    (Action.ROLL_CANCELLED, "api", World.rolling, api_call("DELETE", "/webhooks/sandbox/secret/roll"), KEY),
    (Action.WEBHOOK_DELETED, "portal", one_webhook, portal_post("/webhooks/sandbox/delete"), MANAGER),
    (Action.WEBHOOK_DELETED, "api", one_webhook, api_call("DELETE", "/webhooks/sandbox"), KEY),
    (Action.WEBHOOK_DELETED, "admin", one_webhook, admin_delete, ADMIN),
    (Action.WEBHOOK_ENABLED, "portal", disabled_webhook, portal_post("/webhooks/sandbox/enable"), MANAGER),
    (Action.WEBHOOK_ENABLED, "api", disabled_webhook, api_call("PUT", "/webhooks/sandbox/enable", {}), KEY),
    (Action.SECRET_REVEALED, "portal", one_webhook, portal_post("/webhooks/sandbox/reveal"), MANAGER),
    (Action.SECRET_REVEALED, "api", one_webhook, api_call("GET", "/webhooks"), KEY),
    (Action.SECRET_COPIED, "portal", one_webhook, portal_post("/webhooks/sandbox/copy"), MANAGER),
    (Action.CONNECTION_TESTED, "portal", one_webhook, portal_post("/webhooks/sandbox/test"), MANAGER),
    (Action.CONNECTION_TESTED, "api", one_webhook, api_call("POST", "/webhooks/sandbox/test", {}), KEY),
    (Action.DELIVERY_RESENT, "portal", World.failed_delivery, resend_from_portal, MANAGER),
    (Action.DELIVERY_RESENT, "api", World.failed_delivery, resend_by_key, KEY),
    (
        Action.DELIVERIES_RECOVERED,
        "portal",
        World.failed_delivery,
        portal_post("/webhooks/sandbox/recover", SINCE),
        MANAGER,
    ),
    (
        Action.DELIVERIES_RECOVERED,
        "api",
        World.failed_delivery,
        lambda w: ok(
            w.api.call(
                "POST", "/webhooks/sandbox/recover", {"since": (timezone.now() - timedelta(hours=1)).isoformat()}
            )
        ),
        KEY,
    ),
    (
        Action.LOGS_EXPORTED,
        "portal",
        World.failed_delivery,
        lambda w: ok(w.portal.get("/webhooks/sandbox/logs/export?format=csv")),
        MANAGER,
    ),
    (
        Action.LOGS_EXPORTED,
        "api",
        World.failed_delivery,
        api_call("GET", "/webhooks/sandbox/logs/export", query="&format=jsonl"),
        KEY,
    ),
    (Action.LOG_ROW_READ, "api", World.failed_delivery, read_row_by_key, KEY),
    (Action.EVENT_QUEUED, "portal example alert", one_webhook, portal_post("/integrate/example-alert"), MANAGER),
    (
        Action.EVENT_QUEUED,
        "api",
        one_webhook,
        api_call(
            "POST", "/webhooks/sandbox/events", {"event": "data_alert.true", "payload": data_alert_payload("p1", "t")}
        ),
        KEY,
    ),
    (
        Action.EVENT_QUEUED,
        "command",
        one_webhook,
        command("send_data_alert", "--environment", "sandbox", "--project-id", "p1", "--title", "t"),
        "command send_data_alert",
    ),
    (Action.KEYS_ROTATED, "command", one_webhook, command("rotate_encryption_key"), "command rotate_encryption_key"),
]


@pytest.fixture
def world(db, httpserver, settings) -> World:
    settings.TEST_CONNECTION_RATE_LIMIT = "1000/m"
    root = User.objects.create_superuser(ADMIN, password="root-pass-1")
    manager = factories.manager(MANAGER)
    httpserver.expect_request("/hook").respond_with_handler(VerifyingReceiver("s" * 43))
    world = World(
        portal=signed_in_client(manager),
        admin=signed_in_client(root),
        api=ApiClient(Client(REMOTE_ADDR=ADDRESS)),
        receiver_url=httpserver.url_for("/hook"),
    )
    AuditEvent.objects.all().delete()
    return world


@pytest.mark.parametrize(
    "action,route,arrange,act,actor", CASES, ids=[f"{action}-{route}" for action, route, *_ in CASES]
)
def test_each_action_through_each_route_records_exactly_one_event(world, action, route, arrange, act, actor):
    arrange(world)
    AuditEvent.objects.all().delete()
    act(world)
    events = [(e.action, e.actor, e.environment) for e in AuditEvent.objects.all()]
    environment = "" if action == Action.KEYS_ROTATED else "sandbox"
    assert events == [(action, actor, environment)]


def test_every_action_has_a_route_here_or_in_the_sign_in_tests():
    sign_ins = {Action.SIGNED_IN, Action.SIGN_IN_FAILED, Action.LOCKED_OUT, Action.SIGNED_OUT}
    assert {action for action, *_ in CASES} | sign_ins == set(Action.values)


def test_seed_demo_records_one_change_per_environment(world):
    call_command("seed_demo", "--deliveries", "3", "--seed", "1", verbosity=0)
    events = sorted((e.action, e.actor, e.environment) for e in AuditEvent.objects.all())
    assert events == [
        (Action.WEBHOOK_CREATED, "command seed_demo", "production"),
        (Action.WEBHOOK_CREATED, "command seed_demo", "sandbox"),
    ]


def test_a_person_signing_in_out_and_failing_leaves_one_event_each(world, settings):
    settings.AXES_FAILURE_LIMIT = 2
    person = Client(REMOTE_ADDR=ADDRESS)
    steps = [
        (
            lambda: person.post("/accounts/login/", {"username": MANAGER, "password": "manager-pass-1"}),
            Action.SIGNED_IN,
        ),
        (lambda: person.post("/accounts/logout/"), Action.SIGNED_OUT),
        (lambda: person.post("/accounts/login/", {"username": MANAGER, "password": "wrong"}), Action.SIGN_IN_FAILED),
        (lambda: person.post("/accounts/login/", {"username": MANAGER, "password": "wrong"}), Action.LOCKED_OUT),
    ]
    for step, action in steps:
        AuditEvent.objects.all().delete()
        step()
        assert [(e.action, e.actor, e.address) for e in AuditEvent.objects.all()] == [(action, MANAGER, ADDRESS)]
