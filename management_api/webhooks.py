"""Changes to an environment's webhook, each with its one audit event, whoever makes it: the API by
key, the portal through the API, the admin, a command (audit/trail.py says who is acting).

The API's endpoints, the admin and the commands call these; none of them records for itself.
"""

from datetime import datetime, timedelta

from django.db import transaction

from audit.trail import Action, is_outside_caller, record
from management_api.models import Webhook, new_secret


def save_url(environment: str, url: str) -> tuple[Webhook, bool]:
    """Create the environment's webhook with `url`, or point it at `url`; (webhook, created)."""
    with transaction.atomic():
        # get_or_create recovers from a concurrent first save (unique environment) by reading it back.
        webhook, created = Webhook.objects.select_for_update().get_or_create(
            environment=environment, defaults={"url": url, "secret": new_secret()}
        )
        if not created:
            webhook.url = url
            webhook.save(update_fields=["url", "updated_at"])
        record(Action.WEBHOOK_CREATED if created else Action.URL_CHANGED, environment=environment, detail=url)
    return webhook, created


def created_in_admin(webhook: Webhook) -> None:
    """The admin saved a new webhook itself (its form makes the row): the event of that creation."""
    record(Action.WEBHOOK_CREATED, environment=webhook.environment, detail=webhook.url)


def url_changed_in_admin(webhook: Webhook) -> None:
    record(Action.URL_CHANGED, environment=webhook.environment, detail=webhook.url)


def delete(webhook: Webhook) -> None:
    with transaction.atomic():
        webhook.delete()
        record(Action.WEBHOOK_DELETED, environment=webhook.environment)


def regenerate_secret(webhook: Webhook) -> Webhook:
    """AutoQL's regenerate: a new secret at once, and no roll pending any more."""
    with transaction.atomic():
        webhook.replace_secret()
        record(Action.SECRET_REGENERATED, environment=webhook.environment)
    return webhook


def start_roll(webhook: Webhook, expires_in: timedelta) -> datetime:
    with transaction.atomic():
        _, activates_at = webhook.start_secret_roll(expires_in)
        record(
            Action.ROLL_STARTED,
            environment=webhook.environment,
            detail=f"Next secret signs from {activates_at:%Y-%m-%d %H:%M} UTC",
        )
    return activates_at


def complete_roll(webhook: Webhook) -> bool:
    """Switch to the next secret now; False (nothing recorded) when no roll is pending."""
    with transaction.atomic():
        completed = webhook.complete_secret_roll()
        if completed:
            record(Action.ROLL_COMPLETED, environment=webhook.environment)
    return completed


def cancel_roll(webhook: Webhook) -> bool:
    with transaction.atomic():
        cancelled = webhook.cancel_secret_roll()
        if cancelled:
            record(Action.ROLL_CANCELLED, environment=webhook.environment)
    return cancelled


def enable(webhook: Webhook) -> Webhook:
    """Deliver to a webhook that was disabled after failing for too long again."""
    with transaction.atomic():
        webhook.disabled_at = None
        webhook.disabled_reason = ""
        webhook.failing_since = None
        webhook.save(update_fields=["disabled_at", "disabled_reason", "failing_since", "updated_at"])
        record(Action.WEBHOOK_ENABLED, environment=webhook.environment)
    return webhook


def secret_read(environment: str) -> None:
    """The whole secret went to its caller. Someone with a key of their own read it; the portal
    reads it on every card and records only what it shows a person (Reveal, Copy)."""
    if is_outside_caller():
        record(Action.SECRET_REVEALED, environment=environment, detail="Read the webhook through the API")
