"""The Integrate page: what a receiver gets, code that verifies it, and an example alert to try.

The receiver samples are files of their own (receiver_samples/), shown as they are, so that the
tests run exactly the code the page hands out.
"""

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from webhooks_app.access import MANAGE_PERMISSION, HtmxHttpRequest
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.limits import sends_limited

SAMPLES_DIR = Path(__file__).resolve().parent / "receiver_samples"


@dataclass(frozen=True)
class Sample:
    slug: str
    title: str
    filename: str
    how_to_run: str

    @property
    def code(self) -> str:
        return (SAMPLES_DIR / self.filename).read_text()


SAMPLES = [
    Sample("python", "Python", "autoql_receiver.py", "Python 3.8 or later, standard library only."),
    Sample("node", "Node.js", "autoql_receiver.js", "Node.js 16 or later, built-in crypto and http only."),
    Sample(
        "shell", "curl and openssl", "verify_autoql_signature.sh", "Checks one saved delivery by hand; any POSIX sh."
    ),
]

EXAMPLE_DATA_ALERT: dict[str, Any] = {
    "notification_id": "nt_123",
    "data_alert_id": "da_123",
    "project_id": "project1",
    "title": "High Sales",
    "message": "You've achieved your sales goal this month",
    "users": ["user1"],
    "created_at": 1605910895,
    "data_return_query": "total sales this month",
    "query_result": {"reference_id": "1.1.200", "message": "ok", "data": {}},
}

EVENTS = [
    (
        "test",
        "Sent by Test Connection, once and never retried. The payload names the environment and the time.",
        {
            "environment": "sandbox",
            "message": "This is a test event from AutoQL. Answer 2xx to accept it.",
            "sent_at": "2026-11-29T10:42:00.123456+00:00",
        },
    ),
    (
        "data_alert.true",
        "A data alert was triggered: its condition is true. Retried until your receiver answers 2xx.",
        EXAMPLE_DATA_ALERT,
    ),
    (
        "data_alert.false",
        "The same payload, for a data alert whose condition evaluated false. Retried the same way.",
        EXAMPLE_DATA_ALERT,
    ),
]

HEADERS = [
    ("Content-Type", "application/json"),
    ("User-Agent", "AutoQL-Webhooks/1.0"),
    ("AutoQL-Timestamp", "The send time in epoch milliseconds, e.g. 1764413520123. Signed afresh on every attempt."),
    (
        "AutoQL-Signature",
        'base64(HMAC-SHA256(key = your secret key as UTF-8, message = AutoQL-Timestamp + "." + raw body)).',
    ),
    ("AutoQL-Event", "The event name: test, data_alert.true, data_alert.false."),
    ("AutoQL-Delivery-Id", "One id per delivery, the same on every retry of it: drop the ones you have handled."),
]


def _delivery_body(event: str, payload: dict[str, Any]) -> str:
    return json.dumps({"event": event, "payload": payload}, indent=2)


def _page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    return render(
        request,
        "webhooks_app/integrator.html",
        {
            "events": [(name, about, _delivery_body(name, payload)) for name, about, payload in EVENTS],
            "headers": HEADERS,
            "samples": SAMPLES,
            "is_manager": request.user.has_perm(MANAGE_PERMISSION),
            **context,
        },
        status=status,
    )


def _send_result(request: HtmxHttpRequest, status: int, **context: Any) -> HttpResponse:
    """The sentence under the Send button: alone for htmx, else the whole page around it."""
    if request.htmx:
        return render(request, "webhooks_app/_example_alert_result.html", context, status=status)
    return _page(request, status, **context)


@require_GET
@login_required
def integrate(request: HttpRequest) -> HttpResponse:
    return _page(request)


def example_data_alert() -> dict[str, Any]:
    """A data alert that says where it came from, new ids each time, sent now."""
    return {
        **EXAMPLE_DATA_ALERT,
        "notification_id": f"nt_example_{secrets.token_hex(6)}",
        "data_alert_id": "da_example",
        "project_id": "example",
        "title": "Example data alert",
        "message": "Sent from the Integrate page of the Integrator Portal.",
        "users": [],
        "created_at": int(time.time()),
    }


@require_POST
@login_required
def send_example_alert(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied("Only managers can send example data alerts.")
    limited = sends_limited(request, "test sends (test connections and example alerts)")
    if limited is not None:
        return limited
    try:
        queued = ManagementApi().queue_event("sandbox", "data_alert.true", example_data_alert())
    except ManagementApiError as e:
        if e.status == 404:
            return _send_result(request, 409, no_sandbox_webhook=True)
        status = 409 if e.status == 409 else 502
        return _send_result(request, status, send_error=f"Sending the example failed: {e}")
    return _send_result(request, 202, queued_delivery_id=queued.get("delivery_id"))
