"""The embedded, AutoQL-compatible management API.

Paths, authentication, bodies and errors follow docs/api.md: AutoQL's six calls and this
project's additions.
"""

import logging
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.responses import Status
from ninja.security import HttpBearer
from pydantic import Field

from audit.trail import Action, api_key_actor, connection_test_outcome, record
from management_api import delivery, export, schemas, stats
from management_api.authentication import bearer_token, environments_of
from management_api.crypto import DecryptionFailed
from management_api.delivery_timeline import delivery_timeline
from management_api.log_search import FILTERS, LogFilter, filtered_page, matching_logs
from management_api.models import Environment, LogSequence, Webhook, WebhookLog, new_secret

ENVIRONMENTS = tuple(Environment.values)
logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, errors: dict[str, list[str]] | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.retry_after = retry_after


class AuthenticatedRequest(HttpRequest):
    """A request that KeyAndToken let through; ninja sets `auth` to what authenticate returned."""

    auth: str  # the environment the key and token are valid for


class KeyAndToken(HttpBearer):
    """The `key` query parameter and the bearer token, both required on every call.

    Runs before the body is read, so a caller without credentials learns nothing else: first
    401, then 404 for an environment that does not exist, then 403 for a key of the other one.
    """

    def __call__(self, request: HttpRequest) -> Any:
        token = bearer_token(request)
        if not token:
            raise ApiError(401, "Send your token in the header 'Authorization: Bearer <token>'.")
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> str:
        key = request.GET.get("key", "")
        matches = environments_of(key, token)
        if not key:
            raise ApiError(401, "Add your API key as the 'key' query parameter.")
        if not matches:
            raise ApiError(401, "The API key or the token is not valid.")
        path_environment = (request.resolver_match.kwargs if request.resolver_match else {}).get("environment")
        if path_environment is None:
            return matches[0]
        if path_environment not in ENVIRONMENTS:
            raise ApiError(404, f"There is no environment '{path_environment}'; use 'sandbox' or 'production'.")
        if path_environment not in matches:
            raise ApiError(
                403,
                f"This is the {matches[0]} API key; the {path_environment} environment needs the "
                f"{path_environment} API key.",
            )
        return path_environment


api = NinjaAPI(
    title="AutoQL management API (embedded)",
    version="1",
    description="Webhooks of the sandbox and production environments. Every call needs the "
    "environment's API key as `key` and `Authorization: Bearer <token>`.",
    auth=KeyAndToken(),
    urls_namespace="management_api",
    docs_decorator=login_required,
)


def json_error(
    request: HttpRequest, message: str, status: int, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    """The API's one error body (message, reference_id, field errors), as JSON."""
    body: dict[str, Any] = {"message": message, "reference_id": f"1.1.{status}"}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def ok(data: Any, status: int = 200) -> Status:
    return Status(status, {"data": data, "message": "Success", "reference_id": f"1.1.{status}"})


@api.exception_handler(ApiError)
def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = json_error(request, exc.message, exc.status, exc.errors)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ("body", "<param>", "url") -> "url"; ("query", "limit") -> "limit"
        field = ".".join(loc[2:] if loc[:1] == ["body"] else loc[1:]) or "body"
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        errors.setdefault(field, []).append(message)
    field, messages = next(iter(errors.items()))
    return json_error(request, f"{field}: {messages[0]}", 400, errors)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return json_error(request, "The API key or the token is not valid.", 401)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return json_error(request, "The request body is not valid JSON.", 400)
    return json_error(request, str(exc), exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return json_error(request, "Not found.", 404)


@api.exception_handler(DecryptionFailed)
def on_undecryptable_secret(request: HttpRequest, exc: DecryptionFailed) -> HttpResponse:
    # A fault of this server's settings, not of the call: its one sentence says what to do, in the
    # log too, where a stack trace would add nothing.
    logger.error("%s %s", request.path, exc)
    return json_error(request, str(exc), 503)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged in full for the operator; the caller gets one sentence and never a stack trace.
    logger.exception("Unexpected error in %s", request.path)
    return json_error(request, "The management API failed unexpectedly; try again.", 500)


def record_api_call(request: AuthenticatedRequest, action: str, detail: str = "") -> None:
    """Record a call made straight to the API; the portal's own calls it records itself."""
    record(action, request=request, actor=api_key_actor(request.auth), environment=request.auth, detail=detail)


def webhook_or_404(environment: str) -> Webhook:
    webhook = Webhook.objects.filter(environment=environment).first()
    if webhook is None:
        raise ApiError(404, f"No webhook is configured for {environment}; create one first.")
    webhook.promote_next_secret_if_due()
    return webhook


KEY = Query(..., description="API key of the environment in the path")
ERRORS = {frozenset({400, 401, 403, 404}): schemas.ErrorOut}


@api.get(
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


@api.put(
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


@api.put(
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


@api.delete(
    "/webhooks/{environment}",
    response={200: schemas.NullEnvelope, **ERRORS},
    summary="Delete the environment's webhook",
)
def delete_webhook(request: AuthenticatedRequest, environment: str, key: str = KEY):
    webhook_or_404(request.auth).delete()
    record_api_call(request, Action.WEBHOOK_DELETED)
    return ok(None)


_test_connection_slots = threading.BoundedSemaphore(settings.TEST_CONNECTION_CONCURRENCY)


@api.post(
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


class LogQuery(Schema):
    offset: int = Field(0, ge=0, description="rows to skip, newest first")
    limit: int = Field(10, ge=1, le=100, description="rows per page, 1 to 100")
    fields: str = Field("", description="only these fields of each row, comma-separated (all when empty)")


def sparse_fields(fields: str) -> list[str]:
    """The fields a caller asked for (GET .../logs?fields=id,status), in its order; none is all."""
    names = list(dict.fromkeys(name.strip() for name in fields.split(",") if name.strip()))
    unknown = [name for name in names if name not in schemas.LOG_FIELDS]
    if unknown:
        message = f"fields: no log field is called {unknown[0][:50]!r}; they are: {', '.join(schemas.LOG_FIELDS)}."
        raise ApiError(400, message, {"fields": [message]})
    return names


def sparse_page(request: HttpRequest, rows: list[dict[str, Any]], fields: list[str], pagination: dict) -> HttpResponse:
    """A page of only the asked-for fields, written as LogRow writes them, without building and
    validating a LogRow per row: the point of asking for fewer fields is a cheaper answer."""
    written = [{name: schemas.LOG_FIELDS[name](row[name]) for name in fields} for row in rows]
    return api.create_response(request, ok({"items": written, "pagination": pagination}).value, status=200)


def log_filter(query: schemas.LogFilterQuery) -> LogFilter:
    return LogFilter(**query.model_dump())


@api.get(
    "/webhooks/{environment}/logs",
    response={200: schemas.FilteredLogPageEnvelope, **ERRORS},
    summary="One page of the environment's delivery log, newest first, optionally filtered",
    description="With `fields`, each item holds only the fields named there, in that order, and not"
    ' every field the row schema lists (docs/api.md, "Logs: fields").',
)
def list_logs(
    request: AuthenticatedRequest,
    environment: str,
    paging: Query[LogQuery],
    filters: Query[schemas.LogFilterQuery],
    key: str = KEY,
):
    wanted, fields = log_filter(filters), sparse_fields(paging.fields)
    rows: list[Any]
    if wanted:
        page = filtered_page(request.auth, wanted, paging.offset, paging.limit, fields)
        rows, total, lower_bound = page.rows, page.total, page.total_is_lower_bound
    else:
        sequence = LogSequence.of(request.auth)
        # Newest first by sequence number: an index range at any depth, no OFFSET scan, no COUNT.
        upper = sequence.last - min(paging.offset, max(sequence.total, 0))
        lower = max(upper - paging.limit, sequence.first - 1)
        in_range = WebhookLog.objects.filter(environment=request.auth, seq__gt=lower, seq__lte=upper)
        newest_first = in_range.order_by("-seq")
        rows = list(newest_first.values(*fields) if fields else newest_first)
        total, lower_bound = max(sequence.total, 0), False
    pagination = {
        "offset": paging.offset,
        "limit": paging.limit,
        "total_items": total,
        "total_is_lower_bound": lower_bound,
        "filters": list(FILTERS),
    }
    if fields:
        return sparse_page(request, rows, fields, pagination)
    return ok({"items": rows, "pagination": pagination})


@api.get(
    "/webhooks/{environment}/logs/export",
    response={200: None, **ERRORS},
    summary="Every log row that matches the filters, newest first, as CSV or JSON Lines",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, streamed",
                "content": {
                    content_type: {"schema": {"type": "string"}}
                    for content_type in ("text/csv", "application/x-ndjson")
                },
            }
        }
    },
)
def export_logs(request: AuthenticatedRequest, environment: str, query: Query[schemas.ExportQuery], key: str = KEY):
    logs = matching_logs(request.auth, LogFilter(**query.model_dump(exclude={"format"})))
    chunks = export.export_chunks(logs, query.format)
    response = StreamingHttpResponse(chunks, content_type=export.CONTENT_TYPES[query.format])
    response["Content-Disposition"] = f'attachment; filename="{export.filename(request.auth, query.format)}"'
    return response


# This project's own calls (AutoQL's page has none): queue an event, resend a logged delivery,
# and enable a webhook that was disabled after failing for too long.

ERRORS_409: dict[Any, type[Schema]] = {**ERRORS, 409: schemas.ErrorOut}


@api.post(
    "/webhooks/{environment}/events",
    response={202: schemas.QueuedEnvelope, **ERRORS_409},
    summary="Queue one delivery of a data alert event to the environment's webhook",
)
def queue_event(request: AuthenticatedRequest, environment: str, payload: schemas.EventIn, key: str = KEY):
    webhook_or_404(request.auth)
    try:
        queued = delivery.queue_event(
            request.auth, payload.event, payload.payload.model_dump(), project_id=payload.payload.project_id
        )
    except delivery.WebhookDisabled as e:
        raise ApiError(409, f"{e} Enable it first.")
    return ok(queued, 202)


def log_or_404(environment: str, log_id: str) -> WebhookLog:
    # Ids are positive 64-bit integers in ASCII digits ("²" and "١" are digits to str.isdigit());
    # anything else names no row and must not reach the database.
    valid = log_id.isascii() and log_id.isdigit() and int(log_id) < 2**63
    log = WebhookLog.objects.filter(environment=environment, pk=int(log_id)).first() if valid else None
    if log is None:
        raise ApiError(404, f"There is no {environment} log row {log_id}.")
    return log


@api.post(
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
    record_api_call(request, Action.DELIVERY_RESENT, f"Log row {log_id}")
    return ok(queued, 202)


class LogRowEnvelope(schemas.Envelope):
    data: schemas.LogRow


@api.get(
    "/webhooks/{environment}/logs/{log_id}",
    response={200: LogRowEnvelope, **ERRORS},
    summary="One log row, with its request and response (the portal loads it when a row opens)",
)
def get_log(request: AuthenticatedRequest, environment: str, log_id: str, key: str = KEY):
    return ok(log_or_404(request.auth, log_id))


def delivery_id_or_404(environment: str, delivery_id: str) -> uuid.UUID:
    digits = delivery_id.replace("-", "")
    # Only ASCII hex names a delivery ("١" is a digit to Python); anything else never reaches the database.
    if not (digits.isascii() and len(digits) == 32 and all(c in "0123456789abcdefABCDEF" for c in digits)):
        raise ApiError(404, f"There is no {environment} delivery {delivery_id}.")
    return uuid.UUID(digits)


@api.get(
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


@api.get(
    "/webhooks/{environment}/recover",
    response={200: schemas.CountEnvelope, **ERRORS_409},
    summary="How many failed deliveries since a time Recover would send again",
)
def count_recoverable(request: AuthenticatedRequest, environment: str, query: Query[schemas.SinceIn], key: str = KEY):
    since = since_or_400(query.since)
    recoverable_webhook(request.auth)
    return ok({"count": delivery.recoverable(request.auth, since).count()})


@api.post(
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


@api.get(
    "/webhooks/{environment}/stats",
    response={200: schemas.StatsEnvelope, **ERRORS},
    summary="Attempts, successes, failures and durations over the last 24 hours, 7 days or 30 days",
)
def delivery_stats(request: AuthenticatedRequest, environment: str, query: Query[schemas.StatsQuery], key: str = KEY):
    return ok(stats.delivery_stats(request.auth, query.window))


@api.put(
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


@api.post(
    "/webhooks/{environment}/secret/roll",
    response={200: RollingWebhookEnvelope, **ERRORS},
    summary="Start rolling the secret: a next secret, used for signing after the given hours",
)
def roll_secret(request: AuthenticatedRequest, environment: str, payload: SecretRollIn | None = None, key: str = KEY):
    # The key checked above is the path's environment's, so `environment` is the caller's.
    expires_in = timedelta(hours=payload.expires_in_hours if payload else DEFAULT_ROLL_HOURS)
    with transaction.atomic():
        webhook = webhook_or_404(environment)
        webhook.start_secret_roll(expires_in)
    activates_at = webhook.next_secret_activates_at
    record_api_call(request, Action.ROLL_STARTED, f"Next secret signs from {activates_at:%Y-%m-%d %H:%M} UTC")
    return ok(webhook)


@api.post(
    "/webhooks/{environment}/secret/roll/complete",
    response={200: schemas.WebhookEnvelope, **ERRORS_409},
    summary="Sign with the next secret from now on",
)
def complete_secret_roll(
    request: AuthenticatedRequest, environment: str, payload: schemas.EmptyIn | None = None, key: str = KEY
):
    webhook = webhook_or_404(environment)
    if not webhook.complete_secret_roll():
        raise ApiError(409, f"No secret roll is pending for {environment}; start one first.")
    record_api_call(request, Action.ROLL_COMPLETED)
    return ok(webhook)


@api.delete(
    "/webhooks/{environment}/secret/roll",
    response={200: schemas.WebhookEnvelope, **ERRORS_409},
    summary="Cancel a pending secret roll and keep the current secret",
)
def cancel_secret_roll(request: AuthenticatedRequest, environment: str, key: str = KEY):
    webhook = webhook_or_404(environment)
    if not webhook.cancel_secret_roll():
        raise ApiError(409, f"No secret roll is pending for {environment}.")
    record_api_call(request, Action.ROLL_CANCELLED)
    return ok(webhook)
