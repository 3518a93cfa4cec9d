from django.db import models
from django.utils import timezone

ACTOR_LENGTH = 150
DETAIL_LENGTH = 500


class AuditEvent(models.Model):
    """One thing a person or an API key did: who, when, what, in which environment, from where.

    Never a secret, not even part of one: `detail` holds a URL, a log id or a test's outcome.
    """

    class Action(models.TextChoices):
        WEBHOOK_CREATED = "webhook_created", "Created the webhook"
        URL_CHANGED = "url_changed", "Changed the URL"
        SECRET_REGENERATED = "secret_regenerated", "Regenerated the secret"
        ROLL_STARTED = "roll_started", "Started a secret roll"
        ROLL_COMPLETED = "roll_completed", "Completed the secret roll"
        ROLL_CANCELLED = "roll_cancelled", "Cancelled the secret roll"
        WEBHOOK_DELETED = "webhook_deleted", "Deleted the webhook"
        SECRET_REVEALED = "secret_revealed", "Revealed the secret"
        SECRET_COPIED = "secret_copied", "Copied the secret"
        CONNECTION_TESTED = "connection_tested", "Tested the connection"
        DELIVERY_RESENT = "delivery_resent", "Resent a delivery"
        WEBHOOK_ENABLED = "webhook_enabled", "Enabled the webhook"
        DELIVERIES_RECOVERED = "deliveries_recovered", "Recovered failed deliveries"
        LOGS_EXPORTED = "logs_exported", "Exported the logs"
        LOG_ROW_READ = "log_row_read", "Read a log row"
        EVENT_QUEUED = "event_queued", "Queued an event"
        KEYS_ROTATED = "keys_rotated", "Rotated the encryption key"
        SIGNED_IN = "signed_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        LOCKED_OUT = "locked_out", "Locked out"
        SIGNED_OUT = "signed_out", "Signed out"

    created_at = models.DateTimeField(default=timezone.now)
    # Text, not a foreign key: the trail outlives users, and API keys and unknown usernames act too.
    actor = models.CharField(max_length=ACTOR_LENGTH)
    action = models.CharField(max_length=32, choices=Action.choices)
    environment = models.CharField(max_length=16, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=DETAIL_LENGTH, blank=True)

    class Meta:
        # Newest first by id, which follows the time of recording; the indexes serve the Activity
        # page's keyset paging with either filter, and retention's range delete by time.
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["environment", "id"], name="audit_environment_id"),
            models.Index(fields=["actor", "id"], name="audit_actor_id"),
            models.Index(fields=["created_at"], name="audit_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor}: {self.get_action_display()}"
