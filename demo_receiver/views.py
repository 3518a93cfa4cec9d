"""The built-in demo receiver: a webhook endpoint that verifies deliveries as an integrator would.

POST /demo/receiver/<environment> checks AutoQL-Signature and the five-minute window against the
environment's current secret, answers 200 {"message": "ok"} and keeps the delivery, or refuses it
(401 bad signature, 404 no webhook, 413 too large) and keeps nothing; GET /demo/receiver/ shows
what it kept to signed-in people. `manage.py seed_demo` points both environments here.

Anyone who can reach the server can post to it, so it exists only with DEMO_RECEIVER_ENABLED
and keeps at most DEMO_RECEIVER_MAX_RECEIPTS deliveries per environment.
"""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from demo_receiver.models import DemoReceipt
from management_api.models import Webhook
from management_api.signing import verify
from portal import environments

# A data alert is a few KiB; anything much larger is not a delivery of this portal.
MAX_BODY_BYTES = 256 * 1024
SHOWN_HEADERS = (
    "Content-Type",
    "User-Agent",
    "AutoQL-Timestamp",
    "AutoQL-Signature",
    "AutoQL-Event",
    "AutoQL-Delivery-Id",
)

View = Callable[..., HttpResponse]


def only_when_enabled(view: View) -> View:
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEMO_RECEIVER_ENABLED:
            raise Http404("The demo receiver is not enabled")
        return view(request, *args, **kwargs)

    return checked


def refuse(problem: str, status: int) -> JsonResponse:
    return JsonResponse({"error": problem}, status=status)


@csrf_exempt  # called by the delivery sender, which signs instead
@only_when_enabled
@require_POST
def receive(request: HttpRequest, environment: str) -> HttpResponse:
    if not environments.is_environment(environment):
        raise Http404("No such environment")
    too_large = f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."
    # Content-Length first, so a large body is refused before it is read.
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return refuse(too_large, 413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return refuse(too_large, 413)
    webhook = Webhook.objects.filter(environment=environment).first()
    if webhook is None:
        return refuse("No webhook is configured for this environment.", 404)
    problem = verify(
        webhook.signing_secret(),
        request.headers.get("AutoQL-Timestamp", ""),
        request.headers.get("AutoQL-Signature", ""),
        body,
    )
    if problem:
        return refuse(problem, 401)
    DemoReceipt.objects.create(
        environment=environment,
        verified=True,
        delivery_id=request.headers.get("AutoQL-Delivery-Id", "")[:64],
        event=request.headers.get("AutoQL-Event", "")[:100],
        headers={name: request.headers[name] for name in SHOWN_HEADERS if name in request.headers},
        body=body.decode("utf-8", errors="replace"),
    )
    drop_oldest_receipts(environment)
    return JsonResponse({"message": "ok"})


def drop_oldest_receipts(environment: str) -> None:
    kept = DemoReceipt.objects.filter(environment=environment).order_by("-received_at", "-pk")
    surplus = list(kept.values_list("pk", flat=True)[settings.DEMO_RECEIVER_MAX_RECEIPTS :])
    if surplus:
        DemoReceipt.objects.filter(pk__in=surplus).delete()


@only_when_enabled
@require_GET
@login_required
def receipts(request: HttpRequest) -> HttpResponse:
    rows = []
    for receipt in DemoReceipt.objects.order_by("-received_at")[:50]:
        try:
            body = json.dumps(json.loads(receipt.body), indent=2)
        except ValueError:
            body = receipt.body
        rows.append({"receipt": receipt, "body": body})
    return render(request, "demo_receiver/receipts.html", {"rows": rows})
