"""Health checks for load balancers: /healthz (the process answers) and /readyz (it can work).

Both are answered by `HealthChecksMiddleware`, first in MIDDLEWARE, before host validation and
the HTTPS redirect: a load balancer probes each node by its address over plain HTTP. Neither
needs a login, and neither says more than ok/failing per check (the worker check names an
environment that nobody serves): no versions, hosts or counts.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from management_api.delivery import next_due
from management_api.models import WorkerHeartbeat
from management_api.periodic import repeat
from portal import environments

logger = logging.getLogger(__name__)

# A worker writes its heartbeat this often; /readyz wants one newer than WORKER_SEEN_WITHIN.
HEARTBEAT_INTERVAL_S = 10.0
WORKER_SEEN_WITHIN = timedelta(minutes=1)


def beat(worker_id: str, environments: Sequence[str]) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"seen_at": timezone.now(), "environments": sorted(environments)}
    )


def beat_forever(worker_id: str, environments: Sequence[str], stop: threading.Event) -> None:
    """The worker's heartbeat thread: it runs beside the delivery loops, so a busy worker still beats."""
    repeat(lambda: beat(worker_id, environments), HEARTBEAT_INTERVAL_S, stop, "Writing the worker heartbeat")


def live_workers(now: datetime) -> list[list[str]]:
    """The environments each worker seen within WORKER_SEEN_WITHIN serves, one list per worker."""
    return list(
        WorkerHeartbeat.objects.filter(seen_at__gte=now - WORKER_SEEN_WITHIN).values_list("environments", flat=True)
    )


def workers_per_environment(now: datetime) -> dict[str, int]:
    """How many live workers serve each environment, 0 for one that nobody serves."""
    served = live_workers(now)
    return {
        environment: sum(environment in environments for environments in served)
        for environment in environments.values()
    }


def oldest_due_deliveries(now: datetime) -> dict[str, datetime]:
    """For each environment with deliveries due and not yet started, when the longest-waiting became due.

    Read from the delivery rows, which are the truth about what is owed: one indexed query each.
    """
    due = {environment: next_due(environment) for environment in environments.values()}
    return {environment: at for environment, at in due.items() if at is not None and at <= now}


def worker_check(now: datetime, due: dict[str, datetime]) -> str:
    served = live_workers(now)
    if not served:
        return "no worker seen in the last minute"
    unserved = [environment for environment in due if not any(environment in environments for environments in served)]
    return f"no worker serves {' or '.join(unserved)}" if unserved else "ok"


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def readyz(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    checks = {"database": "ok", "worker": "unknown", "queue": "unknown"}
    try:
        due = oldest_due_deliveries(now)
        checks["worker"] = worker_check(now, due)
        lagging = any((now - at).total_seconds() > settings.READYZ_MAX_QUEUE_LAG for at in due.values())
        checks["queue"] = "lagging" if lagging else "ok"
    except DatabaseError:
        logger.exception("/readyz could not read the database")
        checks["database"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


CHECKS: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthChecksMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        check = CHECKS.get(request.path_info)
        if check is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse("GET only", status=405, content_type="text/plain", headers={"Allow": "GET, HEAD"})
        response = check(request)
        response["Cache-Control"] = "no-store"
        return response
