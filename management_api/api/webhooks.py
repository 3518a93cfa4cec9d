"""The webhook of an environment: AutoQL's list, create or change, regenerate, delete and test
connection (docs/api.md), and this project's enable."""

import threading

from django.conf import settings
from ninja import Router

from management_api import delivery, schemas, webhooks
from management_api.api.base import (
    ERRORS,
    KEY,
    ApiError,
    AuthenticatedRequest,
    ok,
    webhook_or_404,
)
from management_api.models import Webhook

router = Router()


@router.get(
    "/webhooks",
    response={200: schemas.WebhookListEnvelope, 401: schemas.ErrorOut},
    summary="List the webhooks of the key's environment",
)
def list_webhooks(request: AuthenticatedRequest, key: str = KEY):
    items = list(Webhook.objects.filter(environment=request.auth))
    for webhook in items:
        webhook.promote_next_secret_if_due()
    if items:
        webhooks.secret_read(request.auth)  # the answer carries the whole secret
    return ok({"items": items})


@router.put(
    "/webhooks/{environment}",
    response={200: schemas.WebhookEnvelope, 201: schemas.WebhookEnvelope, **ERRORS},
    summary="Create the environment's webhook, or change its URL",
)
def put_webhook(request: AuthenticatedRequest, environment: str, payload: schemas.WebhookIn, key: str = KEY):
    webhook, created = webhooks.save_url(request.auth, payload.url)
    return ok(webhook, 201 if created else 200)


@router.put(
    "/webhooks/{environment}/secret",
    response={200: schemas.WebhookEnvelope, **ERRORS},
    summary="Replace the environment's webhook secret at once (and cancel a pending roll)",
)
def regenerate_secret(
    request: AuthenticatedRequest, environment: str, payload: schemas.EmptyIn | None = None, key: str = KEY
):
    return ok(webhooks.regenerate_secret(webhook_or_404(request.auth)))


@router.delete(
    "/webhooks/{environment}",
    response={200: schemas.NullEnvelope, **ERRORS},
    summary="Delete the environment's webhook",
)
def delete_webhook(request: AuthenticatedRequest, environment: str, key: str = KEY):
    webhooks.delete(webhook_or_404(request.auth))
    return ok(None)


_test_connection_slots = threading.BoundedSemaphore(settings.TEST_CONNECTION_CONCURRENCY)


@router.post(
    "/webhooks/{environment}/test",
    response={200: schemas.TestEnvelope, **ERRORS, 429: schemas.ErrorOut},
    summary="Send one signed test event and report what the receiver answered",
)
def test_connection(
    request: AuthenticatedRequest, environment: str, payload: schemas.EmptyIn | None = None, key: str = KEY
):
    webhook = webhook_or_404(request.auth)
    # A test connection holds its thread until the receiver answers or the deadline passes; past a
    # few at once, answer at once, so receivers that hang never take every thread of the process.
    if not _test_connection_slots.acquire(blocking=False):
        raise ApiError(429, "Too many test connections are running; try again in a few seconds.", retry_after=5)
    try:
        log, result = delivery.deliver_test_event(webhook)
    finally:
        _test_connection_slots.release()
    return ok(
        {
            "success": result.success,
            "status_code": result.status_code,
            "response": result.response,
            "error": result.error,
            "duration_ms": result.duration_ms,
            "log_id": str(log.pk),
        }
    )


@router.put(
    "/webhooks/{environment}/enable",
    response={200: schemas.WebhookEnvelope, **ERRORS},
    summary="Enable a webhook that was disabled after failing for too long",
)
def enable_webhook(
    request: AuthenticatedRequest, environment: str, payload: schemas.EmptyIn | None = None, key: str = KEY
):
    return ok(webhooks.enable(webhook_or_404(request.auth)))
