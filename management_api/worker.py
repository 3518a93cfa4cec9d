"""The delivery worker (`manage.py delivery_worker`): a loop per environment, and its chores.

Each environment's loop runs in a thread of its own, so a receiver that hangs in sandbox never
delays production. A loop sends whatever is due, a batch at a time, then rests until the next
retry is due, a wake-up arrives (management_api/wakeups.py) or WEBHOOK_POLL_INTERVAL passes,
whichever comes first. Whatever wakes it, the rows are the truth: a lost wake-up costs one interval.
Beside the loops: recovery of attempts cut off by a worker that died, retention, and the heartbeat
that /readyz and /metrics read.
"""

import logging
import threading
from collections.abc import Sequence

from django.conf import settings
from django.db import connection
from django.utils import timezone

from management_api.delivery import deliver_due, next_due, recover_forever
from management_api.health import beat_forever
from management_api.retention import prune_forever
from management_api.wakeups import listen_forever
from portal.long_lived import freeze_what_is_loaded

logger = logging.getLogger(__name__)

# A delivery still due right after a drain is being claimed by another worker at that moment
# (PostgreSQL skips rows locked by another claim), or is a retry that fell due while a short batch
# was sent (deliver_due ends there): look again this soon, not a whole poll later.
CLAIMED_ELSEWHERE_S = 0.05
# After a turn failed (the database went away, most likely), the loop tries again this much later.
AFTER_FAILURE_S = 2.0


def rest_after_delivering(
    environment: str, stop: threading.Event, woken: bool = False, wake_up: threading.Event | None = None
) -> float:
    """Deliver what is due in `environment`; then how many seconds to rest before looking again.

    A turn that a wake-up began claims at once: a wake-up means a delivery is due (or when one is
    due moved), and asking first would be one more query for every alert, in every worker woken.
    For the same reason, a turn during which `wake_up` was set rests not at all and asks nothing:
    the next turn claims at once.
    """
    due_at = None if woken else next_due(environment)
    if woken or (due_at is not None and due_at <= timezone.now()):
        deliver_due(environment, stop)
        if wake_up is not None and wake_up.is_set():
            return 0.0
        due_at = next_due(environment)
    if due_at is None:
        return settings.WEBHOOK_POLL_INTERVAL
    ahead = (due_at - timezone.now()).total_seconds()
    if ahead <= 0:
        return CLAIMED_ELSEWHERE_S
    return min(ahead, settings.WEBHOOK_POLL_INTERVAL)


def deliver_forever(environment: str, stop: threading.Event, woken: threading.Event) -> None:
    """One environment's loop, until `stop` is set; `woken` cuts a rest short."""
    was_woken = False
    while not stop.is_set():
        # Cleared before looking: a wake-up that comes while this turn looks is kept for the next.
        woken.clear()
        try:
            rest = rest_after_delivering(environment, stop, woken=was_woken, wake_up=woken)
        except Exception:
            logger.exception("Delivering %s webhooks failed; trying again in %g s", environment, AFTER_FAILURE_S)
            # The connection may be what failed: the next turn opens a new one.
            connection.close()
            rest = AFTER_FAILURE_S
        was_woken = woken.wait(rest)
    connection.close()


def serve(environments: Sequence[str], worker_id: str, stop: threading.Event) -> None:
    """Deliver `environments` until `stop` is set; then finish each loop's batch and return."""
    freeze_what_is_loaded()
    woken = {environment: threading.Event() for environment in environments}
    loops = [
        threading.Thread(target=deliver_forever, args=(environment, stop, woken[environment]), name=environment)
        for environment in environments
    ]
    chores = [
        threading.Thread(target=recover_forever, args=(stop,), name="recovery"),
        threading.Thread(target=prune_forever, args=(stop,), name="retention"),
        threading.Thread(target=beat_forever, args=(worker_id, environments, stop), name="heartbeat"),
    ]
    if connection.vendor == "postgresql":
        listener_name = f"delivery_worker {worker_id}"
        chores.append(threading.Thread(target=listen_forever, args=(woken, stop, listener_name), name="wake-ups"))
    for thread in loops + chores:
        # Daemons: should stopping hang (a second signal ends the process), they do not hold it up.
        thread.daemon = True
        thread.start()
    stop.wait()
    for event in woken.values():
        event.set()
    for thread in loops + chores:
        thread.join()
