"""The built-in demo receiver: a webhook endpoint that verifies deliveries as an integrator would.

POST /demo/receiver/<environment> checks AutoQL-Signature and the five-minute window against the
environment's current secret, answers 200 {"message": "ok"} or 401 {"error": ...}, and keeps what
arrived; GET /demo/receiver/ shows it to signed-in people. `manage.py seed_demo` points both
environments here.
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from demo_receiver.models import DemoReceipt
from management_api.models import Environment, Webhook
from management_api.signing import verify

KEEP_RECEIPTS = 500
SHOWN_HEADERS = (
    "Content-Type",
    "User-Agent",
    "AutoQL-Timestamp",
    "AutoQL-Signature",
    "AutoQL-Event",
    "AutoQL-Delivery-Id",
)


@csrf_exempt  # called by the delivery sender, which signs instead
@require_POST
def receive(request: HttpRequest, environment: str) -> HttpResponse:
    if environment not in Environment.values:
        raise Http404("No such environment")
    webhook = Webhook.objects.filter(environment=environment).first()
    body = request.body
    problem = (
        "no webhook is configured for this environment"
        if webhook is None
        else verify(
            webhook.signing_secret(),
            request.headers.get("AutoQL-Timestamp", ""),
            request.headers.get("AutoQL-Signature", ""),
            body,
        )
    )
    DemoReceipt.objects.create(
        environment=environment,
        verified=problem is None,
        problem=problem or "",
        delivery_id=request.headers.get("AutoQL-Delivery-Id", "")[:64],
        event=request.headers.get("AutoQL-Event", "")[:100],
        headers={name: request.headers[name] for name in SHOWN_HEADERS if name in request.headers},
        body=body[: 64 * 1024].decode("utf-8", errors="replace"),
    )
    stale = DemoReceipt.objects.filter(environment=environment).order_by("-received_at")[
        KEEP_RECEIPTS : KEEP_RECEIPTS + 100
    ]
    DemoReceipt.objects.filter(pk__in=[r.pk for r in stale]).delete()
    if problem:
        return JsonResponse({"error": problem}, status=401)
    return JsonResponse({"message": "ok"})


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
