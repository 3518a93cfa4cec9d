"""Rolling a secret without downtime (this project's own calls; docs/api-additions.md)."""

from datetime import timedelta

from django.db import transaction
from ninja import Router, Schema
from pydantic import Field

from management_api import schemas, webhooks
from management_api.api.base import (
    ERRORS,
    ERRORS_409,
    KEY,
    ApiError,
    AuthenticatedRequest,
    ok,
    webhook_or_404,
)

router = Router()


# Rolling a secret without downtime (this project's own calls; docs/api-additions.md): the next
# secret is handed out first and deliveries stay signed with the current one until the switch.

DEFAULT_ROLL_HOURS = 24
MAX_ROLL_HOURS = 7 * 24


class SecretRollIn(Schema):
    model_config = {"extra": "forbid"}

    expires_in_hours: int = Field(
        DEFAULT_ROLL_HOURS,
        ge=1,
        le=MAX_ROLL_HOURS,
        strict=True,
        description="hours until the next secret signs, 1 to 168",
    )


class RollingWebhookOut(schemas.WebhookOut):
    next_secret: str
    next_secret_activates_at: schemas.AutoqlTime


class RollingWebhookEnvelope(schemas.Envelope):
    data: RollingWebhookOut


@router.post(
    "/webhooks/{environment}/secret/roll",
    response={200: RollingWebhookEnvelope, **ERRORS},
    summary="Start rolling the secret: a next secret, used for signing after the given hours",
)
def roll_secret(request: AuthenticatedRequest, environment: str, payload: SecretRollIn | None = None, key: str = KEY):
    # The key checked above is the path's environment's, so `environment` is the caller's.
    expires_in = timedelta(hours=payload.expires_in_hours if payload else DEFAULT_ROLL_HOURS)
    with transaction.atomic():
        webhook = webhook_or_404(environment)
        webhooks.start_roll(webhook, expires_in)
    return ok(webhook)


@router.post(
    "/webhooks/{environment}/secret/roll/complete",
    response={200: schemas.WebhookEnvelope, **ERRORS_409},
    summary="Sign with the next secret from now on",
)
def complete_secret_roll(
    request: AuthenticatedRequest, environment: str, payload: schemas.EmptyIn | None = None, key: str = KEY
):
    webhook = webhook_or_404(environment)
    if not webhooks.complete_roll(webhook):
        raise ApiError(409, f"No secret roll is pending for {environment}; start one first.")
    return ok(webhook)


@router.delete(
    "/webhooks/{environment}/secret/roll",
    response={200: schemas.WebhookEnvelope, **ERRORS_409},
    summary="Cancel a pending secret roll and keep the current secret",
)
def cancel_secret_roll(request: AuthenticatedRequest, environment: str, key: str = KEY):
    webhook = webhook_or_404(environment)
    if not webhooks.cancel_roll(webhook):
        raise ApiError(409, f"No secret roll is pending for {environment}.")
    return ok(webhook)
