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

from management_api.delivery import recover_forever
from management_api.health import beat_forever
from management_api.retention import prune_forever


class Command(DbWorkerCommand):
    help = (
        DbWorkerCommand.help + " Also re-queues webhook deliveries cut off by a stopped worker,"
        " removes history past its retention age (audit events included), and writes a heartbeat for /readyz."
    )

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        recovery = threading.Thread(target=recover_forever, args=(stop,), name="delivery-recovery", daemon=True)
        recovery.start()
        # Beside recovery: a retention pass every WEBHOOK_RETENTION_INTERVAL, and a heartbeat for /readyz.
        retention = threading.Thread(target=prune_forever, args=(stop,), name="retention", daemon=True)
        retention.start()
        heartbeat = threading.Thread(
            target=beat_forever, args=(options["worker_id"], stop), name="heartbeat", daemon=True
        )
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
