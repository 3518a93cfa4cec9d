"""One delivery's own page, /deliveries/<AutoQL-Delivery-Id>/: its state and attempts, and what
its newest attempt sent (the headers and the raw body exactly as signed), with a ready `curl`
that replays it to a local receiver. For anyone signed in; viewers see a fresh signature hidden
(portal/signatures.py), as in the table."""

import shlex
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal import environments
from portal.signatures import HIDDEN_SIGNATURE, hide_fresh_signature
from webhooks_app.access import MANAGE_PERMISSION
from webhooks_app.client import ManagementApi, ManagementApiError
from webhooks_app.errors import error_response
from webhooks_app.logs_views import DELIVERY_ID

# Where the replay goes: a placeholder the reader edits to their receiver's address.
REPLAY_URL = "http://127.0.0.1:8000/webhook"
# Set by curl itself for the request it makes; the signed ones are the AutoQL-* headers.
CURL_SETS = frozenset({"host", "content-length", "connection", "accept-encoding"})


def replay_command(headers: dict[str, str], body: str) -> str:
    """`curl` sending `body` byte for byte, as signed, with the attempt's headers."""
    parts = [f"curl -X POST {REPLAY_URL}"]
    parts += [
        f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items() if name.lower() not in CURL_SETS
    ]
    # --data-binary sends the text as it is (no newline stripped); a leading @ would name a file.
    data = f"--data-binary {shlex.quote(body)}" if not body.startswith("@") else "--data-binary @-"
    command = " \\\n  ".join([*parts, data])
    return command if not body.startswith("@") else f"printf %s {shlex.quote(body)} | {command}"


def _find(api: ManagementApi, delivery_id: str) -> tuple[str, dict[str, Any]] | None:
    """The delivery and its environment: ids are unique, so it is in at most one of them."""
    for environment in environments.values():
        try:
            return environment, api.delivery(environment, delivery_id)
        except ManagementApiError as e:
            if e.status != 404:
                raise
    return None


def _sent(api: ManagementApi, environment: str, delivery: dict[str, Any]) -> dict[str, Any] | None:
    """The newest attempt's log row (its request headers and body), if it is still kept."""
    log_id = next((a.get("log_id") for a in reversed(delivery["timeline"]) if a.get("log_id") is not None), None)
    if log_id is None:
        return None
    try:
        return api.log_row(environment, str(log_id))
    except ManagementApiError as e:
        if e.status != 404:
            raise
        return None


@require_GET
@login_required
def delivery_page(request: HttpRequest, delivery_id: str) -> HttpResponse:
    unknown = f"There is no delivery {delivery_id[:40]} in any environment, or it is no longer kept."
    if not DELIVERY_ID.fullmatch(delivery_id):
        return error_response(request, unknown, 404)
    api = ManagementApi()
    try:
        found = _find(api, delivery_id)
        if found is None:
            return error_response(request, unknown, 404)
        environment, delivery = found
        sent = _sent(api, environment, delivery)
    except ManagementApiError as e:
        return error_response(request, f"Loading delivery {delivery_id} failed: {e}", 502)
    is_manager = request.user.has_perm(MANAGE_PERMISSION)
    if not is_manager:
        delivery = {**delivery, "timeline": [hide_fresh_signature(attempt) for attempt in delivery["timeline"]]}
        sent = hide_fresh_signature(sent) if sent is not None else None
    context: dict[str, Any] = {
        "delivery": delivery,
        "env": environment,
        "label": environments.label(environment),
        "sent": sent,
        "is_manager": is_manager,
    }
    if sent is not None:
        headers = sent.get("request_headers") or {}
        body = sent.get("request_body") or ""
        context["headers_text"] = "".join(f"{name}: {value}\n" for name, value in headers.items())
        context["body"] = body
        context["curl"] = replay_command(headers, body)
        context["signature_hidden"] = HIDDEN_SIGNATURE in headers.values()
    return render(request, "webhooks_app/delivery_page.html", context)
