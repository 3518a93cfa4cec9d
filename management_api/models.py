import functools
import logging
import operator
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, connections, models, router, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from management_api.crypto import EncryptedTextField
from management_api.urls_check import url_problem
from portal import environments
from portal.compiled import CompiledQuery, update_query


class AlertState(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    FAILING = "failing", "Failing"
    DISABLED = "disabled", "Disabled"
    RECOVERED = "recovered", "Recovered"


def new_secret() -> str:
    # 32 bytes of randomness, URL-safe so receivers can paste it into any config file.
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    """The one webhook of an environment: where deliveries go and the secret that signs them.

    A secret can be rolled: `next_secret` is handed out first while deliveries are still signed
    with `secret`, so the integrator can deploy it before the switch. At
    `next_secret_activates_at` (or when a manager completes the roll) it becomes `secret`.
    """

    environment = models.CharField(max_length=16, choices=environments.choices, unique=True)
    url = models.URLField(max_length=2048)
    # Not editable: no form (the admin's included) can set it, let alone leave it empty.
    secret = EncryptedTextField(default=new_secret, editable=False)
    next_secret = EncryptedTextField(null=True, blank=True, editable=False)
    next_secret_activates_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set at the first failed data alert delivery after a success, cleared by the next success.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True, default="")
    # The state managers were last emailed about (management_api/notifications.py), so that each
    # change of state is announced once, however many workers see it.
    alert_state = models.CharField(
        max_length=16, choices=AlertState.choices, default=AlertState.HEALTHY, editable=False
    )
    alert_state_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"{self.get_environment_display()} webhook to {self.url}"

    def save(self, *args, **kwargs) -> None:
        if not self.secret:
            self.secret = new_secret()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # What a form (the admin's) may not save: a URL the API would refuse, or half a roll.
        problem = url_problem(self.url or "")
        if problem:
            raise ValidationError({"url": problem})
        if (self.next_secret is None) != (self.next_secret_activates_at is None):
            raise ValidationError(
                "A secret roll needs both its next secret and the time it takes over; "
                "start, complete or cancel rolls from the portal or the API."
            )

    def signing_secret(self) -> str:
        """The secret deliveries are signed with now: the next one once its roll is due."""
        self.promote_next_secret_if_due()
        return self.secret

    def promote_next_secret_if_due(self) -> None:
        due = self.next_secret_activates_at
        if due is None or due > timezone.now():
            return
        self._promote(Webhook.objects.filter(pk=self.pk, next_secret_activates_at__lte=timezone.now()))

    def start_secret_roll(self, expires_in: timedelta) -> tuple[str, datetime]:
        """Make the next secret, which takes over after `expires_in`; replaces a pending one."""
        next_secret, activates_at = new_secret(), timezone.now() + expires_in
        self.next_secret, self.next_secret_activates_at = next_secret, activates_at
        self.save(update_fields=["next_secret", "next_secret_activates_at", "updated_at"])
        return next_secret, activates_at

    def complete_secret_roll(self) -> bool:
        """Switch to the next secret now; False when no roll is pending."""
        return self._promote(Webhook.objects.filter(pk=self.pk, next_secret__isnull=False))

    def cancel_secret_roll(self) -> bool:
        """Forget the next secret; False when no roll is pending."""
        changed = Webhook.objects.filter(pk=self.pk, next_secret__isnull=False).update(
            next_secret=None, next_secret_activates_at=None, updated_at=timezone.now()
        )
        self.refresh_from_db()
        return changed == 1

    def replace_secret(self) -> None:
        """AutoQL's regenerate: a new secret at once, and no roll pending any more."""
        self.secret = new_secret()
        self.next_secret = None
        self.next_secret_activates_at = None
        self.save(update_fields=["secret", "next_secret", "next_secret_activates_at", "updated_at"])

    def _promote(self, rows: models.QuerySet["Webhook"]) -> bool:
        # One conditional UPDATE: of two processes promoting at once, the second matches no row,
        # and the token is copied as it is (both columns are encrypted with the same keys). A due
        # time without a next secret (left by an older admin) ends the roll and keeps the secret.
        changed = rows.update(
            secret=Coalesce(F("next_secret"), F("secret")),
            next_secret=None,
            next_secret_activates_at=None,
            updated_at=timezone.now(),
        )
        self.refresh_from_db()
        return changed == 1


class LogSequence(models.Model):
    """Per-environment numbering of log rows, so paging never counts or scans the table.

    Rows of an environment are numbered 1, 2, 3, ... without gaps (retention only ever removes
    the oldest), so "offset O, limit L, newest first" is the key range
    (last - O - L, last - O], read straight off the (environment, seq) index at any depth, and
    the total is last - first + 1.
    """

    environment = models.CharField(max_length=16, choices=environments.choices, unique=True)
    first = models.BigIntegerField(default=1)
    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.environment} log rows {self.first}..{self.last}"

    @property
    def total(self) -> int:
        return self.last - self.first + 1

    @classmethod
    def of(cls, environment: str) -> "LogSequence":
        sequence, _ = cls.objects.get_or_create(environment=environment)
        return sequence

    @classmethod
    def take_next(cls, environment: str, count: int = 1) -> int:
        """Reserve the next `count` numbers and return the last; call inside the writing transaction."""
        # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) until commit,
        # so two writers can never be handed the same number. The row exists but on the first
        # write of an environment, so it is made only when the UPDATE found none.
        if connection.features.can_return_columns_from_insert:  # and so from an UPDATE: one statement
            with connection.cursor() as cursor:
                cursor.execute(cls._take_sql(connection.vendor), [count, environment])
                taken = cursor.fetchone()
            if taken is not None:
                return int(taken[0])
        elif cls.objects.filter(environment=environment).update(last=F("last") + count):
            return cls.objects.get(environment=environment).last
        cls.objects.get_or_create(environment=environment)
        cls.objects.filter(environment=environment).update(last=F("last") + count)
        return cls.objects.get(environment=environment).last

    @staticmethod
    @functools.cache
    def _take_sql(vendor: str) -> str:
        quote = connection.ops.quote_name
        table, last = quote(LogSequence._meta.db_table), quote("last")
        return f"UPDATE {table} SET {last} = {last} + %s WHERE {quote('environment')} = %s RETURNING {last}"


class LogStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class LogType(models.TextChoices):
    TEST = "test", "Test"
    DATA_ALERT = "data_alert", "Data alert"


# What can go wrong writing a receiver's answer: a value the database refuses (SQLite's JSON check
# is an IntegrityError, PostgreSQL's jsonb a DataError) or one Python cannot encode.
UNSTORABLE = (DatabaseError, ValueError, TypeError, RecursionError, OverflowError)
UNSTORED_ANSWER = "the receiver's answer could not be stored"
UNSTORED_ATTEMPT = "this attempt could not be logged in full"

logger = logging.getLogger(__name__)


class WebhookLogManager(models.Manager["WebhookLog"]):
    def append(self, logs: "Sequence[WebhookLog]") -> None:
        """The one way log rows are written: numbered, stored and counted together.

        Call it inside the transaction that settles what the rows describe. Numbers are taken per
        environment in one update, so a batch holds the numbering lock once. Storing is total:
        a row the database refuses is written without the receiver's answer, and failing that as
        a minimal row that says so; an attempt is never left without its row.
        """
        by_environment: dict[str, list[WebhookLog]] = {}
        for log in logs:
            by_environment.setdefault(log.environment, []).append(log)
        for environment, rows in by_environment.items():
            last = LogSequence.take_next(environment, len(rows))
            for seq, log in enumerate(rows, start=last - len(rows) + 1):
                # New rows, always: a row whose earlier write was rolled back is written afresh.
                log.pk, log.seq = None, seq
        try:
            with transaction.atomic():
                self.bulk_create(logs)
        except UNSTORABLE:
            for log in logs:
                self._store_one(log)
        AttemptTally.count_all(list(logs))

    def append_values(self, environment: str, rows: "list[dict[str, Any]]") -> None:
        """`append` for many trusted rows at once, given as plain dicts of every column but the id
        (seed_logs writes a million this way): numbered and counted the same, stored with one
        INSERT run through executemany (PreparedRows).
        """
        self.append_prepared(environment, PreparedRows.of(self.model, rows))

    def append_prepared(self, environment: str, prepared: "PreparedRows") -> None:
        """append_values for rows already converted (PreparedRows.of, which another process may run)."""
        last = LogSequence.take_next(environment, len(prepared.values))
        seq, type_, status, duration_ms = (prepared.index(name) for name in ("seq", "type", "status", "duration_ms"))
        for number, value in enumerate(prepared.values, start=last - len(prepared.values) + 1):
            value[seq] = number
        prepared.insert()
        AttemptTally.add_all((environment, v[type_], v[status], v[duration_ms]) for v in prepared.values)

    def _store_one(self, log: "WebhookLog") -> None:
        for degrade in (None, _without_answer, _minimal):
            if degrade is not None:
                logger.exception("Log row %s/%s could not be stored; storing less of it", log.environment, log.seq)
                degrade(log)
            log.pk = None
            try:
                with transaction.atomic():
                    self.bulk_create([log])
                return
            except UNSTORABLE:
                if degrade is _minimal:
                    raise


class JsonText(str):
    """A value already encoded as JSON, for PreparedRows to store as it is: a seeded history
    encodes each payload once, and the answers every row shares once in all."""


@dataclass
class PreparedRows:
    """Many trusted rows of `model` as the database takes them, one list of values per row in the
    order of `columns`, stored by one INSERT run through executemany (seed_logs writes a million log
    rows and their deliveries this way). bulk_create builds a model instance per row and prepares
    every value through its field, which costs more than the database's own work (a million rows
    took four minutes here instead of one); only JSON, UUID and date values need converting.
    Converting still costs about as much as storing, so seed_logs converts in the process that
    invents the rows while its main process stores the ones before."""

    model: type[models.Model]
    columns: list[str]
    values: list[list[Any]]

    @classmethod
    def of(cls, model: type[models.Model], rows: "list[dict[str, Any]]") -> "PreparedRows":
        db = connections[router.db_for_write(model)]
        fields = _inserted_fields(model)
        pick = operator.itemgetter(*(field.attname for field in fields))
        # Only JSON, UUID and date values need converting; the other columns go as they are.
        converting = [(index, to_db) for index, field in enumerate(fields) if (to_db := _to_db(db, field)) is not None]
        values = []
        for row in rows:
            value = list(pick(row))
            for index, to_db in converting:
                value[index] = to_db(value[index])
            values.append(value)
        return cls(model, [field.attname for field in fields], values)

    def index(self, attname: str) -> int:
        return self.columns.index(attname)

    def insert(self) -> None:
        db = connections[router.db_for_write(self.model)]
        quote = db.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in _inserted_fields(self.model))
        sql = (
            f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) "
            f"VALUES ({', '.join(['%s'] * len(self.columns))})"
        )
        with db.cursor() as cursor:
            cursor.executemany(sql, self.values)


def _inserted_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField | models.BigAutoField))
    ]


def _to_db(db: Any, field: models.Field) -> "Callable[[Any], Any] | None":
    kind = field.target_field.get_internal_type() if isinstance(field, models.ForeignKey) else field.get_internal_type()
    if kind == "JSONField":
        return lambda value: _json_to_db(db, value)
    if kind == "UUIDField":
        if db.features.has_native_uuid_field:
            return None
        return lambda value: None if value is None else value.hex
    if kind == "DateTimeField":
        if db.vendor == "sqlite" and settings.USE_TZ:
            # What adapt_datetimefield_value makes of an aware value, without its checks per row.
            return lambda value: None if value is None else str(value.astimezone(UTC).replace(tzinfo=None))
        return db.ops.adapt_datetimefield_value
    return None


def _json_to_db(db: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, JsonText):
        if db.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            return Jsonb(value, dumps=str)
        return str(value)
    return db.ops.adapt_json_value(value, None)


def _without_answer(log: "WebhookLog") -> None:
    # The receiver's answer is what varies; the attempt is logged without it rather than lost.
    log.response, log.response_headers = None, {}
    log.error = log.error or UNSTORED_ANSWER


def _minimal(log: "WebhookLog") -> None:
    log.response, log.response_headers, log.request_headers, log.request_body = None, {}, {}, ""
    log.project_id = (log.project_id or "")[:200] or None
    log.error = UNSTORED_ATTEMPT if not log.error else f"{log.error[:500]} ({UNSTORED_ATTEMPT})"


class WebhookLog(models.Model):
    """One delivery attempt, as the logs table shows it."""

    environment = models.CharField(max_length=16, choices=environments.choices)
    seq = models.BigIntegerField(editable=False)
    delivery_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    attempt = models.PositiveIntegerField(default=1)
    project_id = models.CharField(max_length=200, null=True, blank=True)
    type = models.CharField(max_length=32, choices=LogType.choices)
    event = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=LogStatus.choices)
    code = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.URLField(max_length=2048)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(default="")
    response_headers = models.JSONField(default=dict)
    # When the next attempt of this delivery is due, if this attempt failed and one is scheduled.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = WebhookLogManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["environment", "seq"], name="webhooklog_environment_seq"),
        ]
        # A page of the logs is a range of one of these, read newest first by (created_at, seq):
        # rows sort by their time, and seq breaks ties. Without a filter it is the first one; the
        # last one also covers what the stats read, so they never touch the wide rows.
        indexes = [
            models.Index(fields=["environment", "created_at", "seq"], name="webhooklog_env_time"),
            models.Index(fields=["environment", "status", "created_at", "seq"], name="webhooklog_env_status_time"),
            models.Index(fields=["environment", "type", "created_at", "seq"], name="webhooklog_env_type_time"),
            models.Index(fields=["environment", "event", "created_at", "seq"], name="webhooklog_env_event_time"),
            models.Index(fields=["environment", "project_id", "created_at", "seq"], name="webhooklog_env_project_time"),
            # A delivery has a handful of attempts: they are sorted in no time.
            models.Index(fields=["environment", "delivery_id", "seq"], name="webhooklog_env_delivery_seq"),
            # What staff ask most: one project's failures (or successes) in a window of days. The
            # whole filter is one range of this index, so the capped count reads index entries only.
            models.Index(
                fields=["environment", "project_id", "status", "created_at", "seq"],
                name="webhooklog_env_project_status",
            ),
            models.Index(
                fields=["environment", "created_at", "status", "duration_ms", "attempt", "seq"],
                name="webhooklog_env_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.url}: {self.status}"

    def save(self, *args, **kwargs) -> None:
        if self.seq is None:
            # A new row takes the one way in: numbered, stored and counted.
            with transaction.atomic():
                WebhookLog.objects.append([self])
            return
        super().save(*args, **kwargs)


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting for its next attempt"
    IN_FLIGHT = "in_flight", "Being attempted"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Given up"


class Delivery(models.Model):
    """One event for one environment's webhook, attempted until it is accepted or given up.

    Its id is the AutoQL-Delivery-Id header, the same on every attempt, so receivers can drop
    duplicates. The rows are the queue: this one is the truth about what is due and who holds
    it, which is what lets a delivery cut off by a killed worker be found and attempted again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    environment = models.CharField(max_length=16, choices=environments.choices)
    type = models.CharField(max_length=32, choices=LogType.choices)
    event = models.CharField(max_length=100)
    project_id = models.CharField(max_length=200, null=True, blank=True)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # An attempt in flight past this moment was cut off (its worker died) and is due again.
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Set on the new delivery that Recover sent in place of a failed one; the failed one is then
    # never recovered twice.
    recovery_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="recovered_by"
    )

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["state", "leased_until"]),
            models.Index(fields=["environment", "state", "created_at"], name="delivery_env_state_created"),
            # What each environment's worker loop asks on every turn: its earliest waiting delivery.
            models.Index(fields=["environment", "state", "next_attempt_at"], name="delivery_env_state_due"),
            # The logs' deliveries view (management_api/delivery_search.py): a page, filtered or not,
            # is a range of one of these, newest first.
            models.Index(fields=["environment", "created_at", "id"], name="delivery_env_created"),
            models.Index(fields=["environment", "state", "created_at", "id"], name="delivery_env_state_page"),
            models.Index(fields=["environment", "type", "created_at", "id"], name="delivery_env_type_page"),
            models.Index(fields=["environment", "event", "created_at", "id"], name="delivery_env_event_page"),
            models.Index(fields=["environment", "project_id", "created_at", "id"], name="delivery_env_project_page"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.id} ({self.state})"


# --- Operations: metrics and worker health ------------------------------------------------------


# Upper bounds (ms) of the attempt latency histogram; the last one stands for +Inf.
LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000)
LATENCY_BUCKET_INF = 2**31 - 1


def latency_bucket(duration_ms: int) -> int:
    return next((bound for bound in LATENCY_BUCKETS_MS if duration_ms <= bound), LATENCY_BUCKET_INF)


class AttemptTally(models.Model):
    """Running totals of logged attempts, for /metrics: never decreased, not even by retention.

    One row per (environment, type, status, latency bucket), added to in the transaction that
    writes the log row, so a scrape reads a few dozen rows instead of counting millions.
    """

    environment = models.CharField(max_length=16, choices=environments.choices)
    type = models.CharField(max_length=32, choices=LogType.choices)
    status = models.CharField(max_length=16, choices=LogStatus.choices)
    le_ms = models.IntegerField()
    attempts = models.BigIntegerField(default=0)
    duration_ms_sum = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "type", "status", "le_ms"], name="attempttally_environment_type_status_le"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.environment} {self.type} {self.status} <= {self.le_ms} ms: {self.attempts}"

    @classmethod
    def add(cls, environment: str, type: str, status: str, le_ms: int, attempts: int, duration_ms: int) -> None:
        key: dict[str, Any] = {"environment": environment, "type": type, "status": status, "le_ms": le_ms}
        # One UPDATE in the usual case (the row exists): every logged attempt runs this inside the
        # transaction that holds the log numbering, so a SELECT first would lengthen that lock.
        if _ADD_TO_TALLY.update(environment, type, status, le_ms, attempts, duration_ms):
            return
        added = {"attempts": F("attempts") + attempts, "duration_ms_sum": F("duration_ms_sum") + duration_ms}
        try:
            with transaction.atomic():
                cls.objects.create(**key, attempts=attempts, duration_ms_sum=duration_ms)
        except IntegrityError:
            # Another writer created the row first; add to it.
            cls.objects.filter(**key).update(**added)

    @classmethod
    def count_all(cls, logs: "list[WebhookLog]") -> None:
        """Add a batch of log rows: one UPDATE per row of totals they touch, not one per log row."""
        cls.add_all((log.environment, log.type, log.status, log.duration_ms) for log in logs)

    @classmethod
    def add_all(cls, attempts: "Iterable[tuple[str, str, str, int]]") -> None:
        totals: dict[tuple[str, str, str, int], list[int]] = {}
        for environment, type, status, duration_ms in attempts:
            attempts_and_ms = totals.setdefault((environment, type, status, latency_bucket(duration_ms)), [0, 0])
            attempts_and_ms[0] += 1
            attempts_and_ms[1] += duration_ms
        for (environment, type, status, le_ms), (count, duration_ms_sum) in totals.items():
            cls.add(environment, type, status, le_ms, count, duration_ms_sum)


# AttemptTally.add's UPDATE, compiled once (portal/compiled.py): it runs for every batch a worker logs.
_ADD_TO_TALLY = CompiledQuery(
    lambda environment, type, status, le_ms, attempts, duration_ms: update_query(
        AttemptTally.objects.filter(environment=environment, type=type, status=status, le_ms=le_ms),
        attempts=F("attempts") + attempts,
        duration_ms_sum=F("duration_ms_sum") + duration_ms,
    ),
    "\x00environment",
    "\x00type",
    "\x00status",
    # Stand-ins a 32-bit integer column accepts: the ORM finds a filter out of a column's range
    # matches nothing, and compiles no SQL for it.
    -2_147_483_001,
    -2_147_483_002,
    -2_147_483_003,
)


class WorkerHeartbeat(models.Model):
    """When each delivery worker was last seen alive, and which environments it serves.

    /readyz wants one seen in the last minute for every environment with a delivery due.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(db_index=True)
    # A list of environment names; empty for a row written by a worker of an older version.
    environments = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.worker_id} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"
