import threading

from django.core.management.base import BaseCommand

from management_api.delivery import recover_forever, recover_stalled


class Command(BaseCommand):
    help = (
        "Log and reschedule the delivery attempts cut off by a worker that died mid-attempt. "
        "delivery_worker does this by itself; this runs it once, or with --loop for ever."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep going every WEBHOOK_RECOVERY_INTERVAL seconds")

    def handle(self, *args, loop: bool, **options) -> None:
        if loop:
            recover_forever(threading.Event())
            return
        self.stdout.write(f"Queued {recover_stalled()} delivery attempt(s) again.")
