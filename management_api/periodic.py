"""The worker's background chores (recovery, retention, heartbeat) share one loop."""

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)


def repeat(job: Callable[[], object], every_s: float, stop: threading.Event, what: str) -> None:
    """Run `job` now and every `every_s` seconds until `stop` is set; a failure waits for the next turn.

    Runs in a thread of its own beside the delivery loops, so it keeps its own database connection and
    closes it when stopped.
    """
    while True:
        try:
            close_old_connections()
            job()
        except Exception:
            logger.exception("%s failed; trying again in %g s", what, every_s)
        if stop.wait(every_s):
            break
    connection.close()
