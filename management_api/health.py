"""Health checks for load balancers: /healthz (the process answers) and /readyz (it can work).

Both are answered by `HealthChecksMiddleware`, first in MIDDLEWARE, before host validation and
the HTTPS redirect: a load balancer probes each node by its address over plain HTTP. Neither
needs a login, and neither says more than ok/failing per check: no versions, hosts or counts.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from management_api.models import Delivery, DeliveryState, WorkerHeartbeat
from management_api.periodic import repeat

logger = logging.getLogger(__name__)

# A worker writes its heartbeat this often; /readyz wants one newer than WORKER_SEEN_WITHIN.
HEARTBEAT_INTERVAL_S = 10.0
WORKER_SEEN_WITHIN = timedelta(minutes=1)


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(worker_id=worker_id, defaults={"seen_at": timezone.now()})


def beat_forever(worker_id: str, stop: threading.Event) -> None:
    """The worker's heartbeat thread: it runs beside the task loop, so a busy worker still beats."""
    repeat(lambda: beat(worker_id), HEARTBEAT_INTERVAL_S, stop, "Writing the worker heartbeat")


def oldest_due_delivery(now: datetime) -> datetime | None:
    """When the longest-waiting delivery became due, among those due and not yet started.

    Read from the delivery rows, not the task queue: they are the truth about what is owed,
    whichever task backend carries the nudges.
    """
    due = Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
    return due.aggregate(oldest=Min("next_attempt_at"))["oldest"]


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def readyz(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    checks = {"database": "ok", "worker": "unknown", "queue": "unknown"}
    try:
        seen = WorkerHeartbeat.objects.filter(seen_at__gte=now - WORKER_SEEN_WITHIN).exists()
        checks["worker"] = "ok" if seen else "no worker seen in the last minute"
        oldest = oldest_due_delivery(now)
        lagging = oldest is not None and (now - oldest).total_seconds() > settings.READYZ_MAX_QUEUE_LAG
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
