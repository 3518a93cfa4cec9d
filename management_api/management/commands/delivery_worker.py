"""`manage.py delivery_worker`: sends webhook deliveries, every environment's unless told which.

Also recovers attempts cut off by a worker that died, removes history past its retention age
(audit events included), and writes the heartbeat that /readyz and /metrics read. SIGTERM or
SIGINT stops it once each loop has finished its batch; a second one stops it at once (whatever
it was sending is then recovered like a killed worker's).
"""

import os
import signal
import socket
import threading
from types import FrameType

from django.core.management.base import BaseCommand, CommandError, CommandParser

from management_api.models import WorkerHeartbeat
from management_api.worker import serve
from portal import environments

WORKER_ID_MAX_LENGTH = WorkerHeartbeat._meta.get_field("worker_id").max_length or 64


def chosen_environments(given: list[str]) -> list[str]:
    """The environments named by --environment (repeated or comma-separated); every one by default."""
    if not given:
        return list(environments.values())
    names = [name.strip() for value in given for name in value.split(",")]
    unknown = [name for name in names if name not in environments.values()]
    if unknown:
        raise CommandError(
            f"Unknown environment {', '.join(map(repr, unknown))}; choose from {', '.join(environments.values())}."
        )
    return list(dict.fromkeys(names))


class Command(BaseCommand):
    help = (
        "Deliver webhook events, one loop per environment (every environment unless --environment says which); "
        "also re-queues deliveries cut off by a stopped worker, removes history past its retention age "
        "(audit events included), and writes a heartbeat for /readyz and /metrics."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--environment",
            action="append",
            default=[],
            metavar="NAME",
            help=f"serve only this environment ({', '.join(environments.values())}); repeat it or separate "
            "names with commas; default: every environment",
        )
        parser.add_argument(
            "--worker-id",
            default=f"{socket.gethostname()[: WORKER_ID_MAX_LENGTH - 8]}-{os.getpid()}",
            help="the name of this worker in its heartbeat; default: host name and process id",
        )

    def handle(self, *args, environment: list[str], worker_id: str, **options) -> None:
        environments = chosen_environments(environment)
        if not worker_id or len(worker_id) > WORKER_ID_MAX_LENGTH:
            raise CommandError(f"--worker-id takes 1 to {WORKER_ID_MAX_LENGTH} characters.")
        stop = threading.Event()

        def stop_after_the_batch(signum: int, frame: FrameType | None) -> None:
            stop.set()
            # A second signal takes its default course: the process ends at once.
            signal.signal(signum, signal.SIG_DFL)

        signal.signal(signal.SIGTERM, stop_after_the_batch)
        signal.signal(signal.SIGINT, stop_after_the_batch)
        self.stdout.write(f"Delivering {', '.join(environments)} webhooks as {worker_id}; Ctrl-C stops.")
        serve(environments, worker_id, stop)
