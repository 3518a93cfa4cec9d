"""Retention: remove delivery history older than the configured ages, in short transactions.

Log rows are numbered per environment without gaps (LogSequence) and only the oldest go, so each
batch deletes the seq range [first, new_first) and moves `first` to new_first in the same
transaction: a reader sees either the rows or the new first, never a gap, and total_items stays
exact. A batch stops at the first row that is still young enough, even if an older one follows
it, because a hole in the numbering would break paging.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.retention import prune_audit
from management_api.models import Delivery, DeliveryState, LogSequence, WebhookLog, WorkerHeartbeat
from management_api.periodic import repeat
from portal import environments

logger = logging.getLogger(__name__)

# Rows removed per transaction: small enough that writers of new log rows wait milliseconds.
BATCH_SIZE = 5000
# Heartbeats of workers gone this long are of no use to anyone.
HEARTBEAT_RETENTION = timedelta(days=1)


@dataclass
class Pruned:
    logs: int = 0
    deliveries: int = 0
    audit_events: int = 0


def prune_log_batch(environment: str, cutoff: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Remove up to `batch_size` of the oldest log rows created before `cutoff`; return how many."""
    with transaction.atomic():
        # The row lock keeps two workers' passes from moving `first` over each other.
        sequence = LogSequence.objects.select_for_update().filter(environment=environment).first()
        if sequence is None or sequence.first > sequence.last:
            return 0
        upper = min(sequence.first + batch_size - 1, sequence.last)
        first_kept = (
            WebhookLog.objects.filter(
                environment=environment, seq__gte=sequence.first, seq__lte=upper, created_at__gte=cutoff
            )
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        new_first = first_kept if first_kept is not None else upper + 1
        if new_first == sequence.first:
            return 0
        WebhookLog.objects.filter(environment=environment, seq__gte=sequence.first, seq__lt=new_first).delete()
        LogSequence.objects.filter(pk=sequence.pk).update(first=new_first)
        return new_first - sequence.first


def prune_logs(cutoff: datetime, batch_size: int = BATCH_SIZE) -> int:
    removed = 0
    for environment in environments.values():
        while batch := prune_log_batch(environment, cutoff, batch_size):
            removed += batch
    return removed


def _delete_in_batches(queryset, batch_size: int) -> int:
    """Delete what `queryset` selects, `batch_size` rows per transaction."""
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.values_list("pk", flat=True)[:batch_size])
            if not ids:
                return removed
            queryset.model.objects.filter(pk__in=ids).delete()
        removed += len(ids)


def prune_deliveries(cutoff: datetime, batch_size: int = BATCH_SIZE) -> int:
    # Only finished ones: a pending or in-flight delivery is still owed to its receiver.
    finished = Delivery.objects.filter(
        state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED], updated_at__lt=cutoff
    ).order_by()
    return _delete_in_batches(finished, batch_size)


def prune(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> Pruned:
    """One retention pass over logs, finished deliveries, audit events and old heartbeats."""
    now = now or timezone.now()
    log_cutoff = now - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    pruned = Pruned(
        logs=prune_logs(log_cutoff, batch_size),
        deliveries=prune_deliveries(log_cutoff, batch_size),
        audit_events=prune_audit(now, batch_size),
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - HEARTBEAT_RETENTION).delete()
    if pruned.logs or pruned.deliveries or pruned.audit_events:
        logger.info(
            "Retention removed %d log row(s), %d delivery(ies), %d audit event(s)",
            pruned.logs,
            pruned.deliveries,
            pruned.audit_events,
        )
    return pruned


def prune_forever(stop: threading.Event) -> None:
    """The worker's retention thread: one pass now, then one every WEBHOOK_RETENTION_INTERVAL."""
    repeat(prune, settings.WEBHOOK_RETENTION_INTERVAL, stop, "Retention pass")
