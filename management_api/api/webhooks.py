"""The webhook of an environment: AutoQL's list, create or change, regenerate, delete and test
connection (docs/api.md), and this project's enable."""

import threading

from django.conf import settings
from django.db import transaction
from ninja import Router

from audit.trail import Action, connection_test_outcome
from management_api import delivery, schemas
from management_api.api.base import (
    ERRORS,
    KEY,
    ApiError,
    AuthenticatedRequest,
    ok,
    record_api_call,
    webhook_or_404,
)
from management_api.models import Webhook, new_secret

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
        # The answer carries the whole secret.
        record_api_call(request, Action.SECRET_REVEALED, "Read the webhook through the API")
    return ok({"items": items})


@router.put(
    "/webhooks/{environment}",
    response={200: schemas.WebhookEnvelope, 201: schemas.WebhookEnvelope, **ERRORS},
    summary="Create the environment's webhook, or change its URL",
)
def put_webhook(request: AuthenticatedRequest, environment: str, payload: schemas.WebhookIn, key: str = KEY):
    with transaction.atomic():
        # get_or_create recovers from a concurrent first PUT (unique environment) by reading it back.
        webhook, created = Webhook.objects.select_for_update().get_or_create(
            environment=request.auth, defaults={"url": payload.url, "secret": new_secret()}
        )
        if not created:
            webhook.url = payload.url
            webhook.save(update_fields=["url", "updated_at"])
    record_api_call(request, Action.WEBHOOK_CREATED if created else Action.URL_CHANGED, webhook.url)
    return ok(webhook, 201 if created else 200)


@router.put(
    "/webhooks/{environment}/secret",
    response={200: schemas.WebhookEnvelope, **ERRORS},
    summary="Replace the environment's webhook secret at once (and cancel a pending roll)",
)
def regenerate_secret(
    request: AuthenticatedRequest, environment: str, payload: schemas.EmptyIn | None = None, key: str = KEY
):
    with transaction.atomic():
        webhook = webhook_or_404(request.auth)
        webhook.replace_secret()
    record_api_call(request, Action.SECRET_REGENERATED)
    return ok(webhook)


@router.delete(
    "/webhooks/{environment}",
    response={200: schemas.NullEnvelope, **ERRORS},
    summary="Delete the environment's webhook",
)
def delete_webhook(request: AuthenticatedRequest, environment: str, key: str = KEY):
    webhook_or_404(request.auth).delete()
    record_api_call(request, Action.WEBHOOK_DELETED)
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
    outcome = connection_test_outcome(result.success, result.status_code, result.error)
    record_api_call(request, Action.CONNECTION_TESTED, outcome)
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
    webhook = delivery.enable(webhook_or_404(request.auth))
    record_api_call(request, Action.WEBHOOK_ENABLED)
    return ok(webhook)
