"""Write many realistic delivery log rows fast, for load tests, paging benchmarks and demos.

Rows are written oldest first in batches, a few batches a transaction, each batch reserving its
numbers with LogSequence.take_next(count) in it, so the numbering stays gap-free and `created_at`
grows with `seq`, as retention expects. The same transaction writes the Delivery rows the
batch's attempts belong to (a delivery's attempts are always in one batch), each with its final
state and attempt count as the sender would have left them: delivered, given up, or (a delivery
whose next retry is still to come) waiting for it, so the logs' deliveries view agrees with its
attempts. The webhook's secret signs the bodies when the environment has a webhook; otherwise a
throwaway secret does (it is not stored).
"""

import itertools
import json
import multiprocessing
import queue
import random
import secrets
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from management_api.models import (
    Delivery,
    DeliveryState,
    JsonText,
    LogStatus,
    LogType,
    PreparedRows,
    Webhook,
    WebhookLog,
)
from management_api.sender import signed_headers
from portal import environments

BATCH_SIZE = 5000
# Each commit writes every page its rows touched, and delivery ids are random, so each batch touches
# pages all over the indexes kept by id: ten batches a transaction write those pages fewer times (a
# million rows on SQLite: 126 s with four, 95 s with ten). A transaction of 50,000 rows holds
# SQLite's write lock 4 to 5 s here (its busy timeout is 20 s).
BATCHES_PER_TRANSACTION = 10
SQLITE_CACHE_KB = 512 * 1024
PROJECTS = [f"project-{name}" for name in ("emea", "na", "apac", "latam")] + [f"project{i}" for i in range(1, 17)]
ALERT_TITLES = [
    ("High Sales", "You've achieved your sales goal this month", "total sales this month"),
    ("Low Stock", "Stock of 3 products fell below the reorder point", "products below reorder point"),
    ("Churn Spike", "Cancellations are 40% above last week", "cancellations this week vs last week"),
    ("Big Deal Closed", "A deal over $100k closed today", "deals closed today over 100000"),
    ("Ticket Backlog", "Open tickets passed 500", "open support tickets"),
]
SUCCESS_CODES = [200] * 8 + [201, 204]
# (code, response body, error sentence as the sender writes it); None: no answer at all.
FAILURES: list[tuple[int | None, Any, str]] = [
    (500, {"error": "Internal Server Error"}, "the receiver answered 500 Internal Server Error"),
    (502, "<html><body>502 Bad Gateway</body></html>", "the receiver answered 502 Bad Gateway"),
    (503, {"error": "Service Unavailable"}, "the receiver answered 503 Service Unavailable"),
    (429, {"error": "Too Many Requests"}, "the receiver answered 429 Too Many Requests"),
    (400, {"error": "Bad Request"}, "the receiver answered 400 Bad Request"),
    (401, {"error": "AutoQL-Signature does not match"}, "the receiver answered 401 Unauthorized"),
    (404, "Not Found", "the receiver answered 404 Not Found"),
    (410, {"error": "Gone"}, "the receiver answered 410 Gone"),
    (None, None, "timed out after 10 s"),
    (None, None, "connection refused"),
]
# Seconds before each retry, as the default WEBHOOK_RETRY_SCHEDULE.
RETRY_DELAYS = [5, 300, 1800, 7200]
MAX_ATTEMPTS = 5
# What every answer and answered request shares, encoded once for all rows.
RECEIVED = JsonText(json.dumps({"received": True}))
JSON_HEADERS = JsonText(json.dumps({"Content-Type": "application/json"}))
NO_HEADERS = JsonText("{}")
EVENTS_JSON = {event: json.dumps(event) for event in ("test", "data_alert.true", "data_alert.false")}


class Command(BaseCommand):
    help = "Write N realistic webhook log rows in bulk (mixed outcomes, retries, signed bodies) over the last days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, required=True, help="how many log rows to write")
        parser.add_argument("--environment", choices=environments.values(), default="sandbox")
        parser.add_argument("--days", type=float, default=30.0, help="spread the rows over this many days up to now")
        parser.add_argument("--seed", type=int, default=None, help="for a repeatable history")

    def handle(self, *args, rows: int, environment: str, days: float, seed: int | None, **options) -> None:
        if rows < 1:
            raise CommandError("--rows must be at least 1.")
        if days <= 0:
            raise CommandError("--days must be more than 0.")
        webhook = Webhook.objects.filter(environment=environment).first()
        history = History(
            random.Random(seed),
            environment=environment,
            url=webhook.url if webhook else f"https://hooks.example.com/autoql/{environment}",
            secret=webhook.secret if webhook else secrets.token_urlsafe(32),
        )
        end = history.now = timezone.now()
        if connection.vendor == "sqlite":
            # A million rows and their deliveries make a database of about 2.5 GB whose indexes
            # are written all over (delivery ids are random): SQLite's default 2 MB page cache
            # would read and write the same pages again and again.
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
        step = timedelta(days=days) / rows
        plan = [(min(BATCH_SIZE, rows - done), end - step * (rows - done), step) for done in range(0, rows, BATCH_SIZE)]
        written = delivered = 0
        batches = invented(history, plan)
        for _ in range(0, len(plan), BATCHES_PER_TRANSACTION):
            # Each batch's numbers are taken in its transaction, so the numbering stays gap-free.
            with transaction.atomic():
                for deliveries, attempts in itertools.islice(batches, BATCHES_PER_TRANSACTION):
                    deliveries.insert()
                    WebhookLog.objects.append_prepared(environment, attempts)
                    written += len(attempts.values)
                    delivered += len(deliveries.values)
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # As autovacuum would after a while: until then PostgreSQL cannot answer a count or a
            # page from an index alone (the pages' visibility is unknown), and the deliveries view's
            # pages at a million rows took 0.1 to 0.9 s instead of milliseconds.
            with connection.cursor() as cursor:
                for model in (Delivery, WebhookLog):
                    cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(
            f"Wrote {written} {environment} log rows of {delivered} deliveries over the last {days:g} days."
        )


Row = dict[str, Any]
Batch = tuple[int, datetime, timedelta]


def invented(history: "History", plan: list[Batch]) -> "Iterator[tuple[PreparedRows, PreparedRows]]":
    """Each batch of the plan, in order, as the database takes its rows. Inventing a batch (signing
    every body) and converting its values cost about as much as storing it, so past two batches a
    child process does both for the next ones while this one stores: two cores take a million rows
    in about half the time. The child never touches the database."""
    if len(plan) <= 2:
        for batch in plan:
            yield prepared(history, batch)
        return
    context = multiprocessing.get_context("fork")
    ready: multiprocessing.Queue = context.Queue(maxsize=2)
    child = context.Process(target=_invent_into, args=(history, plan, ready), daemon=True)
    child.start()
    try:
        for _ in plan:
            while True:
                try:
                    yield ready.get(timeout=1)
                    break
                except queue.Empty:
                    if child.exitcode is not None:
                        raise CommandError(f"Inventing the rows failed (exit code {child.exitcode}).") from None
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join()


def prepared(history: "History", batch: Batch) -> tuple[PreparedRows, PreparedRows]:
    deliveries, attempts = history.batch(*batch)
    return PreparedRows.of(Delivery, deliveries), PreparedRows.of(WebhookLog, attempts)


def _invent_into(history: "History", plan: list[Batch], ready: multiprocessing.Queue) -> None:
    for batch in plan:
        ready.put(prepared(history, batch))
    ready.close()
    ready.join_thread()


class History:
    """Invents deliveries (a test event, or a data alert with its retries) and their attempts."""

    def __init__(
        self, rng: random.Random, *, environment: str, url: str, secret: str, now: datetime | None = None
    ) -> None:
        self.rng = rng
        self.environment = environment
        self.url = url
        self.secret = secret
        # A retry due after `now` has not been made yet: its delivery is still waiting for it.
        self.now = now

    def rows(self, count: int, start: datetime, step: timedelta) -> list[Row]:
        """`count` log rows from `start` on, about `step` apart, ordered by time."""
        return self.batch(count, start, step)[1]

    def batch(self, count: int, start: datetime, step: timedelta) -> tuple[list[Row], list[Row]]:
        """The deliveries, and their `count` attempts (log rows) from `start` on, about `step`
        apart, ordered by time."""
        end = start + step * count
        deliveries: list[Row] = []
        rows: list[Row] = []
        moment = start
        while len(rows) < count:
            delivery, attempts = self.delivery(min(moment, end), end, count - len(rows))
            deliveries.append(delivery)
            rows += attempts
            moment += step * len(attempts) * self.rng.uniform(0.5, 1.5)
        # Retries land later than the deliveries started after them: order by time, so that
        # `created_at` grows with `seq`.
        rows.sort(key=lambda row: row["created_at"])
        return deliveries, rows

    def delivery(self, moment: datetime, end: datetime, room: int) -> tuple[Row, list[Row]]:
        rng = self.rng
        delivery_id = uuid.uuid4()
        if rng.random() < 0.1:
            test_payload = {
                "environment": self.environment,
                "message": "This is a test event from AutoQL. Answer 2xx to accept it.",
                "sent_at": moment.isoformat(),
            }
            failure = None if rng.random() < 0.85 else rng.choice(FAILURES)
            encoded = self.encode(test_payload)
            tried = [self.attempt(delivery_id, LogType.TEST, "test", None, encoded, 1, moment, failure, None)]
            return self.outcome(delivery_id, LogType.TEST, "test", None, encoded, tried), tried

        project_id = rng.choice(PROJECTS)
        event = "data_alert.true" if rng.random() < 0.8 else "data_alert.false"
        title, message, query = rng.choice(ALERT_TITLES)
        payload: dict[str, Any] = {
            "notification_id": f"nt_{rng.getrandbits(48):012x}",
            "data_alert_id": f"da_{rng.getrandbits(48):012x}",
            "project_id": project_id,
            "title": title,
            "message": message,
            "users": [f"user{rng.randint(1, 50)}"],
            "created_at": int(moment.timestamp()),
            "data_return_query": query,
            "query_result": {"reference_id": "1.1.200", "message": "ok", "data": {"value": rng.randint(1, 100000)}},
        }
        # Most deliveries succeed at once; some fail a few times first; a few are given up.
        failures = 0 if rng.random() < 0.93 else rng.choice([1, 1, 1, 2, 2, 3, 4, 5])
        attempts = min(failures + 1, MAX_ATTEMPTS, room)
        encoded = self.encode(payload)
        rows = []
        at = moment
        for attempt in range(1, attempts + 1):
            success = attempt > failures
            failure = None if success else rng.choice(FAILURES)
            next_at: datetime | None = None
            # 410 Gone stops a delivery; anything else failing is retried while attempts remain.
            retried = failure is not None and failure[0] != 410 and attempt < attempts
            if retried:
                next_at = at + timedelta(seconds=RETRY_DELAYS[attempt - 1] * rng.uniform(0.8, 1.2))
            rows.append(
                self.attempt(delivery_id, LogType.DATA_ALERT, event, project_id, encoded, attempt, at, failure, next_at)
            )
            if next_at is None or (self.now is not None and next_at > self.now):
                break
            at = min(next_at, end)
        return self.outcome(delivery_id, LogType.DATA_ALERT, event, project_id, encoded, rows), rows

    @staticmethod
    def encode(payload: dict[str, Any]) -> JsonText:
        return JsonText(json.dumps(payload, separators=(",", ":")))

    def outcome(
        self, delivery_id: uuid.UUID, type_: str, event: str, project_id: str | None, payload: str, attempts: list[Row]
    ) -> Row:
        """The Delivery row its attempts left: delivered, waiting for a retry, or given up."""
        last = attempts[-1]
        if last["status"] == LogStatus.SUCCESS:
            state = DeliveryState.DELIVERED
        elif last["next_attempt_at"] is not None:
            state = DeliveryState.PENDING
        else:
            state = DeliveryState.FAILED
        return {
            "id": delivery_id,
            "environment": self.environment,
            "type": type_,
            "event": event,
            "project_id": project_id,
            "payload": payload,
            "state": state,
            "attempts": len(attempts),
            "next_attempt_at": last["next_attempt_at"],
            "leased_until": None,
            "created_at": attempts[0]["created_at"],
            "updated_at": last["created_at"],
            "recovery_of_id": None,
        }

    def attempt(
        self,
        delivery_id: uuid.UUID,
        type_: str,
        event: str,
        project_id: str | None,
        payload: str,
        attempt: int,
        at: datetime,
        failure: tuple[int | None, Any, str] | None,
        next_at: datetime | None,
    ) -> Row:
        rng = self.rng
        # As json.dumps({"event": event, "payload": payload}, separators=(",", ":")) writes it.
        body = f'{{"event":{EVENTS_JSON.get(event) or json.dumps(event)},"payload":{payload}}}'
        headers = signed_headers(self.secret, event, body.encode(), delivery_id, at)
        code: int | None
        error: str | None
        if failure is None:
            code = rng.choice(SUCCESS_CODES)
            response: Any = None if code == 204 else RECEIVED
            error = None
            duration_ms = int(rng.lognormvariate(4.5, 0.7))
        else:
            code, response, error = failure
            duration_ms = 10000 if error.startswith("timed out") else int(rng.lognormvariate(5, 0.9))
        return {
            "environment": self.environment,
            "seq": None,
            "delivery_id": delivery_id,
            "attempt": attempt,
            "project_id": project_id,
            "type": type_,
            "event": event,
            "status": LogStatus.SUCCESS if failure is None else LogStatus.FAILURE,
            "code": code,
            "url": self.url,
            "duration_ms": duration_ms,
            "error": error,
            "response": response,
            "request_headers": headers,
            "request_body": body,
            "response_headers": JSON_HEADERS if code else NO_HEADERS,
            "next_attempt_at": next_at,
            "created_at": at,
        }
