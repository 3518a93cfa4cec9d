from django.conf import settings
from django.core.management.base import BaseCommand

from management_api.retention import prune


class Command(BaseCommand):
    help = "Run one retention pass: remove log rows and finished deliveries older than WEBHOOK_LOG_RETENTION_DAYS."

    def handle(self, *args, **options) -> None:
        pruned = prune()
        self.stdout.write(
            f"Removed {pruned.logs} log row(s) and {pruned.deliveries} delivery(ies) older than "
            f"{settings.WEBHOOK_LOG_RETENTION_DAYS:g} days."
        )
