"""django-tasks-db's `db_worker`, plus recovery of deliveries cut off by a worker that died.

django-tasks-db leaves a task claimed by a killed worker as running for ever. Deliveries keep
their own lease (management_api.models.Delivery.leased_until), so this worker looks for expired
leases when it starts and every WEBHOOK_RECOVERY_INTERVAL seconds after, and queues those
deliveries again: at least once, even across SIGKILL. management_api precedes django_tasks_db in
INSTALLED_APPS, which makes this command the one `manage.py db_worker` runs. It also prunes the
audit trail (audit/retention.py), once at start and hourly after.
"""

import threading

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from audit.retention import prune_audit_forever
from management_api.delivery import recover_forever


class Command(DbWorkerCommand):
    help = (
        DbWorkerCommand.help + " Also re-queues webhook deliveries cut off by a stopped worker,"
        " and removes audit events past AUDIT_RETENTION_DAYS."
    )

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        recovery = threading.Thread(target=recover_forever, args=(stop,), name="delivery-recovery", daemon=True)
        recovery.start()
        audit_retention = threading.Thread(
            target=prune_audit_forever, args=(stop,), name="audit-retention", daemon=True
        )
        audit_retention.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
