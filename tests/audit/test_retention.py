"""Events older than AUDIT_RETENTION_DAYS go: by prune_audit, its command, and the worker."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from audit.retention import prune_audit
from tests.workers import wait_for, workers

Action = AuditEvent.Action


def event_aged(days: float) -> AuditEvent:
    return AuditEvent.objects.create(
        actor="maria", action=Action.SIGNED_IN, created_at=timezone.now() - timedelta(days=days)
    )


def test_prune_removes_only_events_past_the_retention(db, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old, older = event_aged(31), event_aged(400)
    young = event_aged(29)
    assert prune_audit() == 2
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [young.pk]
    assert not AuditEvent.objects.filter(pk__in=[old.pk, older.pk]).exists()


def test_prune_works_in_batches(db, settings):
    settings.AUDIT_RETENTION_DAYS = 1
    for _ in range(7):
        event_aged(2)
    assert prune_audit(batch_size=3) == 7
    assert not AuditEvent.objects.exists()


def test_the_default_keeps_a_year(db):
    kept = event_aged(364)
    event_aged(366)
    assert prune_audit() == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_command_prunes_and_says_how_many(db, settings):
    settings.AUDIT_RETENTION_DAYS = 10
    event_aged(11)
    young = event_aged(1)
    out = StringIO()
    call_command("prune_audit", stdout=out)
    assert out.getvalue().strip() == "Removed 1 audit event(s) older than 10 days."
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [young.pk]


@pytest.mark.django_db(transaction=True)
def test_the_delivery_worker_prunes_when_it_starts():
    old = event_aged(30)
    young = event_aged(1)
    with workers(1, AUDIT_RETENTION_DAYS="7"):
        wait_for(lambda: not AuditEvent.objects.filter(pk=old.pk).exists(), timeout=30, message="the old event gone")
    assert AuditEvent.objects.filter(pk=young.pk).exists()
