"""Emails to the portal's managers when a webhook starts failing, is disabled, or recovers.

Each webhook remembers the state its managers were last told about (`Webhook.alert_state`). A
change is claimed with one conditional UPDATE, so of two workers that see the same change only
one matches the row and sends the email; repeats of the same state send nothing.

The portal's permission is looked up by its codename: this app never imports the portal's.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from management_api.models import AlertState, Webhook

logger = logging.getLogger(__name__)

MANAGE_PERMISSION_APP = "webhooks_app"
MANAGE_PERMISSION_CODENAME = "manage_webhooks"

# The states each announcement may follow: a webhook recovers only from trouble, and is never
# announced twice in a row in the same state.
ANNOUNCED_AFTER = {
    AlertState.FAILING: [AlertState.HEALTHY, AlertState.RECOVERED, AlertState.DISABLED],
    AlertState.DISABLED: [AlertState.HEALTHY, AlertState.RECOVERED, AlertState.FAILING],
    AlertState.RECOVERED: [AlertState.FAILING, AlertState.DISABLED],
}


def manager_emails() -> list[str]:
    """Addresses of the active users who can manage webhooks (superusers included)."""
    managers = Q(is_superuser=True)
    permission = Permission.objects.filter(
        content_type__app_label=MANAGE_PERMISSION_APP, codename=MANAGE_PERMISSION_CODENAME
    ).first()
    if permission is not None:
        managers |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    users = get_user_model().objects.filter(managers, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def webhook_failing(webhook: Webhook, since: datetime, error: str | None) -> bool:
    return _announce(
        webhook,
        AlertState.FAILING,
        subject=f"{webhook.get_environment_display()} webhook is failing",
        what=f"Deliveries to the {webhook.get_environment_display()} webhook are failing.",
        since=since,
        error=error,
    )


def webhook_disabled(webhook: Webhook, since: datetime, error: str | None) -> bool:
    return _announce(
        webhook,
        AlertState.DISABLED,
        subject=f"{webhook.get_environment_display()} webhook is disabled",
        what=(
            f"The {webhook.get_environment_display()} webhook was disabled after failing for "
            f"{settings.WEBHOOK_DISABLE_AFTER_DAYS:g} days: it receives no deliveries until a manager enables it."
        ),
        since=since,
        error=error,
    )


def webhook_recovered(webhook: Webhook, failing_since: datetime | None) -> bool:
    was_failing = f" after failing since {_when(failing_since)}" if failing_since else ""
    return _announce(
        webhook,
        AlertState.RECOVERED,
        subject=f"{webhook.get_environment_display()} webhook has recovered",
        what=f"The {webhook.get_environment_display()} webhook accepts deliveries again{was_failing}.",
        since=timezone.now(),
        error=None,
    )


def _announce(
    webhook: Webhook, state: AlertState, *, subject: str, what: str, since: datetime, error: str | None
) -> bool:
    """Claim the change to `state` and, once the transaction commits, email the managers.
    False when the managers were already told (by this worker or another)."""
    claimed = Webhook.objects.filter(pk=webhook.pk, alert_state__in=ANNOUNCED_AFTER[state]).update(
        alert_state=state, alert_state_changed_at=timezone.now()
    )
    if not claimed:
        return False
    body = "\n\n".join(
        line
        for line in (
            what,
            f"Environment: {webhook.get_environment_display()}\nURL: {webhook.url}\nSince: {_when(since)}",
            f"Last error: {error}" if error else "",
            f"Delivery logs: {settings.PORTAL_URL.rstrip('/')}/?env={webhook.environment}",
        )
        if line
    )
    transaction.on_commit(lambda: _send(f"[Webhooks] {subject}", body))
    return True


def _send(subject: str, body: str) -> None:
    recipients = manager_emails()
    if not recipients:
        logger.info("No manager has an email address; nobody was told: %s", subject)
        return
    # One message per manager, so that no one sees the others' addresses.
    messages = tuple((subject, body, None, [address]) for address in recipients)
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        # A mail server that is down must not fail the delivery attempt that noticed the change.
        logger.exception("Emailing %d manager(s) failed: %s", len(recipients), subject)


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"
