"""Make the Webhooks tab look alive for a demo: both environments point at the built-in receiver,
and the logs hold a month of deliveries (tests, data alerts, failures and retries).

Each row is what the sender would have logged for that attempt at that moment: the body carries the
moment the event was created, AutoQL-Timestamp is the attempt's time, AutoQL-Signature is the real
HMAC with the secret in force (or, for the receiver's "signature does not match" answers, one made
with a secret since replaced), and the attempts of one delivery share its id.
"""

import os
import random
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from audit.commands import AuditedCommand
from management_api import webhooks as changes
from management_api.alerts import data_alert_payload
from management_api.models import (
    Delivery,
    DeliveryState,
    LogStatus,
    LogType,
    Webhook,
    WebhookLog,
)
from management_api.sender import build_body, signed_headers
from portal import environments

PROJECTS = ["sales-emea", "sales-na", "inventory", "marketing", "finance", "support"]
ALERTS = [
    ("High Sales", "You've achieved your sales goal this month", "total sales this month"),
    ("Low Stock", "Stock of 3 products fell below the reorder point", "products below reorder point"),
    ("Churn Spike", "Cancellations are 40% above last week", "cancellations this week vs last week"),
    ("Big Deal Closed", "A deal over $100k closed today", "deals closed today over 100000"),
    ("Ticket Backlog", "Open tickets passed 500", "open support tickets"),
]
SIGNATURE_MISMATCH = "AutoQL-Signature does not match"
# At most this many failed attempts before the last one of a delivery.
MAX_RETRIES = 3


class Outcome:
    """How the receiver answered one attempt, as the sender logs it."""

    def __init__(self, code: int | None, response: Any, error: str | None, *, bad_signature: bool = False) -> None:
        self.code = code
        self.response = response
        self.error = error
        self.bad_signature = bad_signature

    @property
    def success(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


ACCEPTED = Outcome(200, {"message": "ok"}, None)
RETRYABLE_FAILURES = [
    Outcome(503, {"error": "Service Unavailable"}, "the receiver answered 503 SERVICE UNAVAILABLE"),
    Outcome(500, {"error": "Internal Server Error"}, "the receiver answered 500 INTERNAL SERVER ERROR"),
    Outcome(None, None, "timed out after {deadline:g} s"),
    Outcome(None, None, "connection refused"),
    Outcome(401, {"error": SIGNATURE_MISMATCH}, "the receiver answered 401 UNAUTHORIZED", bad_signature=True),
]
GONE = Outcome(410, {"error": "Gone"}, "the receiver answered 410 GONE: not retried")


class Command(AuditedCommand):
    help = "Point both environments at the built-in demo receiver and write a month of delivery history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url-base",
            "--base-url",
            dest="url_base",
            default=f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}",
            help="where this portal is served, e.g. http://127.0.0.1:8080 (default: port $PORT, else 8000); "
            "the receiver lives at /demo/receiver/",
        )
        parser.add_argument("--deliveries", type=int, default=300, help="how many deliveries to invent")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=None, help="for a repeatable history")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="re-point webhooks that deliver elsewhere than a demo receiver (without it, they stop the command)",
        )

    def handle(
        self, *args: Any, url_base: str, deliveries: int, days: int, seed: int | None, replace: bool, **options: Any
    ) -> None:
        rng = random.Random(seed)
        url_base = url_base.rstrip("/")
        if not replace:
            refuse_to_replace_real_webhooks()
        with transaction.atomic():
            webhooks = {}
            for environment in environments.values():
                url = f"{url_base}/demo/receiver/{environment}"
                webhook, _ = changes.save_url(environment, url)
                webhooks[environment] = changes.enable(webhook) if webhook.disabled_at else webhook
            rows = History(rng, webhooks).invent(deliveries, days)
            # Oldest first: numbered in the order they happened, and counted in /metrics.
            WebhookLog.objects.append(sorted(rows, key=lambda r: r.created_at))
        self.stdout.write(
            self.style.SUCCESS(
                f"Both environments now deliver to {url_base}/demo/receiver/<environment>; "
                f"wrote {len(rows)} log rows over {days} days.\n"
                f"Deliveries to 127.0.0.1 need WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8, and the receiver "
                f"DEMO_RECEIVER_ENABLED=true (make run sets both)."
            )
        )


def is_demo_receiver(url: str, environment: str) -> bool:
    """A URL of the built-in receiver, on whatever host and port the portal was served."""
    return urlsplit(url).path.rstrip("/") == f"/demo/receiver/{environment}"


def refuse_to_replace_real_webhooks() -> None:
    """A webhook someone set up to deliver to their own receiver is not re-pointed by a demo."""
    real = [w for w in Webhook.objects.order_by("environment") if not is_demo_receiver(w.url, w.environment)]
    if real:
        where = "; ".join(f"{environments.label(w.environment)} delivers to {w.url}" for w in real)
        raise CommandError(
            f"Nothing changed: {where}. seed_demo would point it at the demo receiver instead; "
            "run it again with --replace to do that."
        )


class History:
    """Invented deliveries, each attempted as the real sender and retry schedule would have."""

    def __init__(self, rng: random.Random, webhooks: dict[str, Webhook]) -> None:
        self.rng = rng
        self.webhooks = webhooks
        # Receivers that answer "signature does not match" still hold a secret that was replaced.
        self.replaced_secret = secrets.token_urlsafe(32)
        self.schedule = list(settings.WEBHOOK_RETRY_SCHEDULE)
        self.deadline = settings.WEBHOOK_DELIVERY_DEADLINE

    def invent(self, count: int, days: int) -> list[WebhookLog]:
        now = timezone.now()
        # Old enough that every retry of a delivery is already in the past: a history holds no
        # attempt from the future, and no delivery left waiting for a worker.
        youngest = max(3600.0, 1.2 * sum(self.schedule[:MAX_RETRIES]) + 60)
        rows: list[WebhookLog] = []
        for _ in range(count):
            environment = self.rng.choices(environments.values(), weights=[2, 3])[0]
            age = self.rng.uniform(youngest, max(youngest, days * 86400))
            # Whole milliseconds: AutoQL-Timestamp carries no finer time than that.
            created = (now - timedelta(seconds=age)).replace(microsecond=0)
            created += timedelta(milliseconds=self.rng.randint(0, 999))
            if self.rng.random() < 0.12:
                rows.extend(self.test_event(environment, created))
            else:
                rows.extend(self.data_alert(environment, created))
        return rows

    def test_event(self, environment: str, created: datetime) -> list[WebhookLog]:
        payload = {
            "environment": environment,
            "message": "This is a test event from AutoQL. Answer 2xx to accept it.",
            "sent_at": created.isoformat(),
        }
        delivery = Delivery.objects.create(
            environment=environment,
            type=LogType.TEST,
            event="test",
            payload=payload,
            attempts=1,
            state=DeliveryState.DELIVERED,
            created_at=created,
        )
        return [self.attempt(delivery, 1, created, ACCEPTED)]

    def data_alert(self, environment: str, created: datetime) -> list[WebhookLog]:
        project = self.rng.choice(PROJECTS)
        title, message, query = self.rng.choice(ALERTS)
        payload = data_alert_payload(
            project,
            title,
            message,
            {"rows": [[project, self.rng.randint(10, 9999)]]},
            users=[f"user{self.rng.randint(1, 40)}"],
            query=query,
        )
        payload["created_at"] = int(created.timestamp())
        failures = self.rng.choices(range(MAX_RETRIES + 1), weights=[80, 12, 6, 2])[0]
        outcomes = [self.rng.choice(RETRYABLE_FAILURES) for _ in range(failures)]
        # Most retried deliveries get through in the end; now and then the receiver says 410.
        outcomes.append(GONE if failures == MAX_RETRIES else ACCEPTED)
        delivery = Delivery.objects.create(
            environment=environment,
            type=LogType.DATA_ALERT,
            event="data_alert.true",
            project_id=project,
            payload=payload,
            created_at=created,
        )
        rows: list[WebhookLog] = []
        moment = created
        for attempt, outcome in enumerate(outcomes, start=1):
            retry_at = None
            if not outcome.success and outcome is not GONE:
                delay = self.schedule[min(attempt, len(self.schedule)) - 1] * self.rng.uniform(0.8, 1.2)
                retry_at = moment + timedelta(milliseconds=int(delay * 1000))
            rows.append(self.attempt(delivery, attempt, moment, outcome, retry_at))
            if retry_at is None:
                break
            moment = retry_at
        delivery.attempts = len(rows)
        delivery.state = DeliveryState.DELIVERED if rows[-1].status == LogStatus.SUCCESS else DeliveryState.FAILED
        delivery.save(update_fields=["attempts", "state"])
        return rows

    def attempt(
        self, delivery: Delivery, attempt: int, moment: datetime, outcome: Outcome, retry_at: datetime | None = None
    ) -> WebhookLog:
        webhook = self.webhooks[delivery.environment]
        body = build_body(delivery.event, delivery.payload)
        secret = self.replaced_secret if outcome.bad_signature else webhook.secret
        timed_out = outcome.error is not None and outcome.error.startswith("timed out")
        return WebhookLog(
            environment=delivery.environment,
            delivery_id=delivery.id,
            attempt=attempt,
            project_id=delivery.project_id,
            type=delivery.type,
            event=delivery.event,
            status=LogStatus.SUCCESS if outcome.success else LogStatus.FAILURE,
            code=outcome.code,
            url=webhook.url,
            duration_ms=int(self.deadline * 1000) if timed_out else self.rng.randint(18, 420),
            error=outcome.error.format(deadline=self.deadline) if outcome.error else None,
            response=outcome.response,
            created_at=moment,
            next_attempt_at=retry_at,
            request_headers=signed_headers(secret, delivery.event, body, delivery.id, moment),
            request_body=body.decode(),
            response_headers={"Content-Type": "application/json"} if outcome.response is not None else {},
        )
