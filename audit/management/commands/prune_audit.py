from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from audit.retention import prune_audit


class Command(BaseCommand):
    help = "Remove audit events older than AUDIT_RETENTION_DAYS (the delivery worker also does this hourly)."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = prune_audit()
        self.stdout.write(f"Removed {removed} audit event(s) older than {settings.AUDIT_RETENTION_DAYS} days.")
