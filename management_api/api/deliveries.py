"""Deliveries (this project's own calls; AutoQL's page has none): queue a data alert event, resend a
logged one, a page of deliveries, one delivery with its attempts, and recover the failed ones."""

import uuid
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from management_api import delivery, schemas
from management_api.api.base import (
    ERRORS,
    ERRORS_409,
    KEY,
    ApiError,
    AuthenticatedRequest,
    no_webhook,
    ok,
    webhook_or_404,
)
from management_api.api.logs import filtered_pagination, log_filter, log_or_404
from management_api.delivery_search import deliveries_page
from management_api.delivery_timeline import delivery_timeline
from management_api.models import Webhook

router = Router()


@router.post(
    "/webhooks/{environment}/events",
    response={202: schemas.QueuedEnvelope, **ERRORS_409},
    summary="Queue one delivery of a data alert event to the environment's webhook",
)
def queue_event(request: AuthenticatedRequest, environment: str, payload: schemas.EventIn, key: str = KEY):
    try:
        queued = delivery.queue_event(
            request.auth, payload.event, payload.payload.model_dump(), project_id=payload.payload.project_id
        )
    except Webhook.DoesNotExist:
        raise no_webhook(request.auth)
    except delivery.WebhookDisabled as e:
        raise ApiError(409, f"{e} Enable it first.")
    return ok(queued, 202)


@router.post(
    "/webhooks/{environment}/logs/{log_id}/resend",
    response={202: schemas.QueuedEnvelope, **ERRORS_409},
    summary="Attempt a logged delivery again, with the same delivery id",
)
def resend(request: AuthenticatedRequest, environment: str, log_id: str, key: str = KEY):
    log = log_or_404(request.auth, log_id)
    webhook = webhook_or_404(request.auth)
    if webhook.disabled_at:
        raise ApiError(409, f"The {request.auth} webhook is disabled: {webhook.disabled_reason} Enable it first.")
    try:
        queued = delivery.resend(log)
    except delivery.Delivery.DoesNotExist:
        raise ApiError(409, f"The delivery of log row {log_id} is no longer kept, so it cannot be resent.")
    return ok(queued, 202)


class DeliveryQuery(Schema):
    offset: int = Field(0, ge=0, le=2**62, description="deliveries to skip, newest first")
    limit: int = Field(10, ge=1, le=100, description="deliveries per page, 1 to 100")
    end: Literal["newest", "oldest"] = Field(
        "newest", description="the end `offset` counts from; the page is listed newest first either way"
    )


@router.get(
    "/webhooks/{environment}/deliveries",
    response={200: schemas.DeliveryPageEnvelope, **ERRORS},
    summary="One page of the environment's deliveries, newest first, each with its outcome and last attempt",
    description="The logs' filters apply to the deliveries; `status` means the outcome here: success is"
    ' delivered, failure is given up (docs/api-additions.md, "Deliveries, one row each").',
)
def list_deliveries(
    request: AuthenticatedRequest,
    environment: str,
    paging: Query[DeliveryQuery],
    filters: Query[schemas.LogFilterQuery],
    key: str = KEY,
):
    from_oldest = paging.end == "oldest"
    page = deliveries_page(request.auth, log_filter(filters), paging.offset, paging.limit, from_oldest)
    pagination = filtered_pagination(paging.offset, paging.limit, page.total, page.total_is_lower_bound, from_oldest)
    return ok({"items": page.rows, "pagination": pagination})


def delivery_id_or_404(environment: str, delivery_id: str) -> uuid.UUID:
    digits = delivery_id.replace("-", "")
    # Only ASCII hex names a delivery ("١" is a digit to Python); anything else never reaches the database.
    if not (digits.isascii() and len(digits) == 32 and all(c in "0123456789abcdefABCDEF" for c in digits)):
        raise ApiError(404, f"There is no {environment} delivery {delivery_id}.")
    return uuid.UUID(digits)


@router.get(
    "/webhooks/{environment}/deliveries/{delivery_id}",
    response={200: schemas.DeliveryEnvelope, **ERRORS},
    summary="One delivery and every attempt of it, oldest first",
)
def get_delivery(request: AuthenticatedRequest, environment: str, delivery_id: str, key: str = KEY):
    timeline = delivery_timeline(request.auth, delivery_id_or_404(request.auth, delivery_id))
    if timeline is None:
        raise ApiError(404, f"There is no {request.auth} delivery {delivery_id}.")
    return ok(timeline)


def since_or_400(since: datetime) -> datetime:
    now = timezone.now()
    kept_from = now - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    if since > now:
        raise ApiError(400, "since: is in the future; use a time in the past.", {"since": ["is in the future"]})
    if since < kept_from:
        days = f"{settings.WEBHOOK_LOG_RETENTION_DAYS:g}"
        sentence = f"is older than the {days} days deliveries are kept"
        raise ApiError(400, f"since: {sentence}; use a later time.", {"since": [sentence]})
    return since


def recoverable_webhook(environment: str) -> Webhook:
    webhook = webhook_or_404(environment)
    if webhook.disabled_at:
        raise ApiError(409, f"The {environment} webhook is disabled: {webhook.disabled_reason} Enable it first.")
    return webhook


@router.get(
    "/webhooks/{environment}/recover",
    response={200: schemas.CountEnvelope, **ERRORS_409},
    summary="How many failed deliveries since a time Recover would send again",
)
def count_recoverable(request: AuthenticatedRequest, environment: str, query: Query[schemas.SinceIn], key: str = KEY):
    since = since_or_400(query.since)
    recoverable_webhook(request.auth)
    return ok({"count": delivery.recoverable(request.auth, since).count()})


@router.post(
    "/webhooks/{environment}/recover",
    response={202: schemas.RecoveredEnvelope, **ERRORS_409},
    summary="Send again every failed delivery since a time, each as a new delivery",
)
def recover(request: AuthenticatedRequest, environment: str, payload: schemas.SinceIn, key: str = KEY):
    since = since_or_400(payload.since)
    recoverable_webhook(request.auth)
    try:
        queued = delivery.recover(request.auth, since)
    except delivery.WebhookDisabled as e:
        raise ApiError(409, f"{e} Enable it first.")
    except Webhook.DoesNotExist:
        raise ApiError(404, f"No webhook is configured for {request.auth}; create one first.")
    return ok({"queued": queued}, 202)
