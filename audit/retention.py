"""Retention of the audit trail: events older than AUDIT_RETENTION_DAYS go, a batch at a time."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent

logger = logging.getLogger(__name__)

# Rows removed per transaction: small, so that recording new events never waits long.
BATCH_SIZE = 5000


def prune_audit(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Remove events recorded more than AUDIT_RETENTION_DAYS before `now`; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    removed = 0
    while True:
        with transaction.atomic():
            old = AuditEvent.objects.filter(created_at__lt=cutoff).order_by()
            ids = list(old.values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            AuditEvent.objects.filter(pk__in=ids).delete()
        removed += len(ids)
    if removed:
        logger.info("Audit retention removed %d event(s) older than %s", removed, cutoff.isoformat())
    return removed
