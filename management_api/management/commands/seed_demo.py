"""Make the Webhooks tab look alive for a demo: both environments point at the built-in receiver,
and the logs hold a month of realistic deliveries (tests, data alerts, failures and retries)."""

import os
import random
import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from management_api.alerts import data_alert_payload
from management_api.models import (
    Delivery,
    DeliveryState,
    Environment,
    LogSequence,
    LogStatus,
    LogType,
    Webhook,
    WebhookLog,
    new_secret,
)
from management_api.sender import build_body

PROJECTS = ["sales-emea", "sales-na", "inventory", "marketing", "finance", "support"]
ALERTS = [
    ("High Sales", "You've achieved your sales goal this month", "total sales this month"),
    ("Low Stock", "Stock of 3 products fell below the reorder point", "products below reorder point"),
    ("Churn Spike", "Cancellations are 40% above last week", "cancellations this week vs last week"),
    ("Big Deal Closed", "A deal over $100k closed today", "deals closed today over 100000"),
    ("Ticket Backlog", "Open tickets passed 500", "open support tickets"),
]
FAILURES = [
    (503, {"error": "Service Unavailable"}, "the receiver answered 503 SERVICE UNAVAILABLE"),
    (500, {"error": "Internal Server Error"}, "the receiver answered 500 INTERNAL SERVER ERROR"),
    (None, None, "timed out after 10 s"),
    (None, None, "connection refused"),
    (401, {"error": "AutoQL-Signature does not match"}, "the receiver answered 401 UNAUTHORIZED"),
]


class Command(BaseCommand):
    help = "Point both environments at the built-in demo receiver and write a month of delivery history."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--base-url",
            default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}",
            help="where this portal is served (the receiver lives at /demo/receiver/)",
        )
        parser.add_argument("--deliveries", type=int, default=300, help="how many deliveries to invent")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=None, help="for a repeatable history")

    def handle(self, *args, base_url: str, deliveries: int, days: int, seed: int | None, **options) -> None:
        rng = random.Random(seed)
        base_url = base_url.rstrip("/")
        with transaction.atomic():
            for environment in Environment.values:
                url = f"{base_url}/demo/receiver/{environment}"
                Webhook.objects.update_or_create(
                    environment=environment,
                    defaults={"url": url, "disabled_at": None, "disabled_reason": ""},
                    create_defaults={"url": url, "secret": new_secret()},
                )
            rows = self.history(rng, deliveries, days)
            for environment in Environment.values:
                mine = sorted((r for r in rows if r.environment == environment), key=lambda r: r.created_at)
                if not mine:
                    continue
                last = LogSequence.take_next(environment, len(mine))
                for number, row in enumerate(mine, start=last - len(mine) + 1):
                    row.seq = number
                WebhookLog.objects.bulk_create(mine, batch_size=500)
        self.stdout.write(
            self.style.SUCCESS(
                f"Both environments now deliver to {base_url}/demo/receiver/<environment>; "
                f"wrote {len(rows)} log rows over {days} days.\n"
                f"Deliveries to 127.0.0.1 need WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8, and the receiver "
                f"DEMO_RECEIVER_ENABLED=true (make run sets both)."
            )
        )

    def history(self, rng: random.Random, count: int, days: int) -> list[WebhookLog]:
        now = timezone.now()
        rows: list[WebhookLog] = []
        for _ in range(count):
            environment = rng.choices(Environment.values, weights=[2, 3])[0]
            started = now - timedelta(seconds=rng.uniform(60, days * 86400))
            url = Webhook.objects.get(environment=environment).url
            if rng.random() < 0.12:
                delivery = Delivery.objects.create(
                    environment=environment,
                    type=LogType.TEST,
                    event="test",
                    payload={"environment": environment},
                    attempts=1,
                    state=DeliveryState.DELIVERED,
                    created_at=started,
                )
                rows.append(self.row(delivery, url, started, 1, None, rng))
                continue
            project = rng.choice(PROJECTS)
            title, message, query = rng.choice(ALERTS)
            payload = data_alert_payload(
                project,
                title,
                message,
                {"rows": [[project, rng.randint(10, 9999)]]},
                users=[f"user{rng.randint(1, 40)}"],
                query=query,
            )
            failures = rng.choices([0, 1, 2, 3], weights=[80, 12, 6, 2])[0]
            delivery = Delivery.objects.create(
                id=uuid.uuid4(),
                environment=environment,
                type=LogType.DATA_ALERT,
                event="data_alert.true",
                project_id=project,
                payload=payload,
                attempts=min(failures + 1, 3),
                created_at=started,
                state=DeliveryState.DELIVERED if failures < 3 else DeliveryState.FAILED,
            )
            moment = started
            for attempt in range(1, failures + 2):
                failed = attempt <= failures
                next_at = moment + timedelta(seconds=[5, 300, 1800][attempt - 1]) if failed and attempt < 3 else None
                rows.append(
                    self.row(delivery, url, moment, attempt, rng.choice(FAILURES) if failed else None, rng, next_at)
                )
                if next_at is None:
                    break
                moment = next_at
        return rows

    def row(
        self, delivery: Delivery, url: str, moment, attempt: int, failure, rng: random.Random, next_at=None
    ) -> WebhookLog:
        code, response, error = failure if failure else (200, {"message": "ok"}, None)
        return WebhookLog(
            environment=delivery.environment,
            delivery_id=delivery.id,
            attempt=attempt,
            project_id=delivery.project_id,
            type=delivery.type,
            event=delivery.event,
            status=LogStatus.FAILURE if failure else LogStatus.SUCCESS,
            code=code,
            url=url,
            duration_ms=10000 if error and "timed out" in error else rng.randint(18, 420),
            error=error,
            response=response,
            created_at=moment,
            next_attempt_at=next_at,
            request_headers={
                "Content-Type": "application/json",
                "AutoQL-Event": delivery.event,
                "AutoQL-Delivery-Id": str(delivery.id),
                "AutoQL-Timestamp": str(int(moment.timestamp() * 1000)),
            },
            request_body=build_body(delivery.event, delivery.payload).decode(),
            response_headers={"Content-Type": "application/json"} if response else {},
        )
