import secrets
import uuid

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone


class Environment(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    PRODUCTION = "production", "Production"


def new_secret() -> str:
    # 32 bytes of randomness, URL-safe so receivers can paste it into any config file.
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    """The one webhook of an environment: where deliveries go and the secret that signs them."""

    environment = models.CharField(max_length=16, choices=Environment.choices, unique=True)
    url = models.URLField(max_length=2048)
    secret = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set at the first failed data alert delivery after a success, cleared by the next success.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.get_environment_display()} webhook to {self.url}"


class LogSequence(models.Model):
    """Per-environment numbering of log rows, so paging never counts or scans the table.

    Rows of an environment are numbered 1, 2, 3, ... without gaps (retention only ever removes
    the oldest), so "offset O, limit L, newest first" is the key range
    (last - O - L, last - O], read straight off the (environment, seq) index at any depth, and
    the total is last - first + 1.
    """

    environment = models.CharField(max_length=16, choices=Environment.choices, unique=True)
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
        cls.objects.get_or_create(environment=environment)
        # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) until commit,
        # so two writers can never be handed the same number.
        cls.objects.filter(environment=environment).update(last=F("last") + count)
        return cls.objects.get(environment=environment).last


class LogStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class LogType(models.TextChoices):
    TEST = "test", "Test"
    DATA_ALERT = "data_alert", "Data alert"


class WebhookLog(models.Model):
    """One delivery attempt, as the logs table shows it."""

    environment = models.CharField(max_length=16, choices=Environment.choices)
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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["environment", "seq"], name="webhooklog_environment_seq"),
        ]
        # A filtered page of the logs is a range of one of these, read newest first by seq; the
        # last one also covers what the stats read, so they never touch the wide rows.
        indexes = [
            models.Index(fields=["environment", "status", "seq"], name="webhooklog_env_status_seq"),
            models.Index(fields=["environment", "type", "seq"], name="webhooklog_env_type_seq"),
            models.Index(fields=["environment", "event", "seq"], name="webhooklog_env_event_seq"),
            models.Index(fields=["environment", "project_id", "seq"], name="webhooklog_env_project_seq"),
            models.Index(fields=["environment", "delivery_id", "seq"], name="webhooklog_env_delivery_seq"),
            models.Index(
                fields=["environment", "created_at", "status", "duration_ms", "attempt", "seq"],
                name="webhooklog_env_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.url}: {self.status}"

    def save(self, *args, **kwargs) -> None:
        if self.seq is None:
            with transaction.atomic():
                self.seq = LogSequence.take_next(self.environment)
                super().save(*args, **kwargs)
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
    duplicates. The queue only nudges; this row is the truth about what is due, which is what
    lets a delivery cut off by a killed worker be found and attempted again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    environment = models.CharField(max_length=16, choices=Environment.choices)
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
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.id} ({self.state})"
