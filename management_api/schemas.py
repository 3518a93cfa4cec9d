"""Request and response shapes of the management API (docs/api.md)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from ninja import ModelSchema, Schema
from pydantic import (
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from management_api.models import AlertState, LogStatus, LogType, Webhook, WebhookLog
from management_api.urls_check import url_problem


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Times as AutoQL writes them (whole seconds, UTC, "Z"), not pydantic's ISO format.
AutoqlTime = Annotated[datetime, PlainSerializer(iso, return_type=str)]
# Ids the contract shows as strings, whatever their type in the database.
Text = Annotated[Any, PlainSerializer(str, return_type=str)]


# For the answers built from models: every field is in every answer, so the OpenAPI schema
# describes them all as required, defaults or not.
EVERY_FIELD_REQUIRED = ConfigDict(
    json_schema_mode_override="serialization", json_schema_serialization_defaults_required=True
)


class WebhookIn(Schema):
    url: str = Field(description="http or https URL of the receiver, at most 2048 characters")

    @field_validator("url")
    @classmethod
    def check_url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip()


class EmptyIn(Schema):
    pass


class WebhookOut(ModelSchema):
    model_config = EVERY_FIELD_REQUIRED

    created_at: AutoqlTime
    updated_at: AutoqlTime
    # This project's own additions: a webhook that failed for too long stops receiving deliveries.
    disabled: bool = False
    disabled_reason: str | None = None
    # When a pending roll's next secret takes over (null: no roll pending). The next secret itself
    # is only in the roll's own answer.
    next_secret_activates_at: AutoqlTime | None = None
    # Health, for the card: failing since when and why, or when it last recovered.
    failing_since: AutoqlTime | None = None
    last_error: str | None = None
    recovered_at: AutoqlTime | None = None

    class Meta:
        model = Webhook
        # disabled_at is shown as `disabled`; the next secret of a roll only in the roll's own answer.
        exclude = [
            "id",
            "disabled_at",
            "next_secret",
            "next_secret_activates_at",
            "alert_state",
            "alert_state_changed_at",
        ]

    @staticmethod
    def resolve_disabled(webhook: Webhook) -> bool:
        return webhook.disabled_at is not None

    @staticmethod
    def resolve_disabled_reason(webhook: Webhook) -> str | None:
        return webhook.disabled_reason or None

    @staticmethod
    def resolve_last_error(webhook: Webhook) -> str | None:
        if webhook.failing_since is None:
            return None
        # The newest failed data alert: the (environment, seq) index reads it off the end.
        last_failure = (
            WebhookLog.objects.filter(
                environment=webhook.environment, type=LogType.DATA_ALERT, status=LogStatus.FAILURE
            )
            .order_by("-seq")
            .values_list("error", flat=True)
            .first()
        )
        return last_failure or None

    @staticmethod
    def resolve_recovered_at(webhook: Webhook) -> datetime | None:
        if webhook.alert_state != AlertState.RECOVERED or webhook.failing_since is not None:
            return None
        return webhook.alert_state_changed_at


class WebhookList(Schema):
    items: list[WebhookOut]


class TestOutcome(Schema):
    success: bool
    status_code: int | None
    response: Any
    error: str | None
    duration_ms: int
    log_id: str


class LogRow(ModelSchema):
    model_config = EVERY_FIELD_REQUIRED

    id: Text
    delivery_id: Text
    created_at: AutoqlTime
    next_attempt_at: AutoqlTime | None
    response: Any
    request_headers: dict[str, str]
    response_headers: dict[str, str]

    class Meta:
        model = WebhookLog
        exclude = ["seq"]  # internal: the paging key


# GET .../logs?fields=...: the fields of LogRow a caller may ask for alone, each written as
# LogRow writes it. A table of closed rows needs seven short fields; answering only those skips
# reading, decoding and re-encoding every row's request and response.
LOG_FIELDS: dict[str, Callable[[Any], Any]] = {
    name: (lambda value: value) for name in (f.name for f in WebhookLog._meta.concrete_fields) if name != "seq"
} | {
    "id": str,
    "delivery_id": str,
    "created_at": iso,
    "next_attempt_at": lambda moment: None if moment is None else iso(moment),
}


class Pagination(Schema):
    offset: int
    limit: int
    total_items: int


class LogPage(Schema):
    items: list[LogRow]
    pagination: Pagination


class Envelope(Schema):
    message: str = "Success"
    reference_id: str


class WebhookEnvelope(Envelope):
    data: WebhookOut


class WebhookListEnvelope(Envelope):
    data: WebhookList


class NullEnvelope(Envelope):
    data: None


class TestEnvelope(Envelope):
    data: TestOutcome


class LogPageEnvelope(Envelope):
    data: LogPage


class QueryResult(Schema):
    reference_id: str = "1.1.200"
    message: str = "ok"
    data: dict[str, Any] = Field(default_factory=dict)


class DataAlertPayload(Schema):
    """A data alert, as AutoQL delivers it (docs/api.md, "What a delivery looks like")."""

    model_config = {"extra": "forbid"}

    notification_id: str = Field(min_length=1, max_length=200)
    data_alert_id: str = Field(min_length=1, max_length=200)
    project_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=500)
    message: str = Field("", max_length=5000)
    users: list[str] = Field(default_factory=list, max_length=1000)
    created_at: int = Field(ge=0, strict=True, description="epoch seconds")
    data_return_query: str = Field("", max_length=5000)
    query_result: QueryResult = Field(default_factory=QueryResult)


class EventIn(Schema):
    model_config = {"extra": "forbid"}

    event: str = Field(pattern=r"^data_alert\.[a-z_]{1,40}$", description="e.g. data_alert.true")
    payload: DataAlertPayload


class QueuedOut(Schema):
    delivery_id: Text = Field(alias="id")
    status: str = Field(alias="state")


class QueuedEnvelope(Envelope):
    data: QueuedOut


class ErrorOut(Schema):
    message: str
    reference_id: str
    errors: dict[str, list[str]] | None = None


# --- Filters, delivery timelines, recover, stats and export: this project's additions -----------


def parse_moment(value: str) -> datetime:
    """An ISO 8601 date or time; without a timezone it is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("use an ISO 8601 time, e.g. 2026-11-28T14:00:00Z") from None


def one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        quoted = [f"'{choice}'" for choice in allowed]
        raise ValueError(f"use {', '.join(quoted[:-1])} or {quoted[-1]}")
    return value


def plain_text(value: str, max_length: int) -> str:
    # Longer than the column matches no row. (NUL and non-ASCII never get this far: the API's
    # query parameters are printable ASCII, portal.middleware.RequestBodyGuardMiddleware.)
    if len(value) > max_length:
        raise ValueError(f"use at most {max_length} characters")
    return value


def delivery_id_digits(value: str) -> str:
    digits = value.strip().replace("-", "").lower()
    if not (digits.isascii() and 8 <= len(digits) <= 32 and all(c in "0123456789abcdef" for c in digits)):
        raise ValueError("use a delivery id, or its first 8 or more hex digits")
    return digits


class LogFilterQuery(Schema):
    """The optional filters of GET .../logs and .../logs/export; an empty value is no filter."""

    status: str | None = Field(None, description="success or failure")
    type: str | None = Field(None, description="test or data_alert")
    event: str | None = Field(None, description="exact event name, e.g. data_alert.true")
    project_id: str | None = Field(None, description="exact project id")
    delivery_id: str | None = Field(None, description="a delivery id, or its first 8 or more hex digits")
    created_after: datetime | None = Field(None, description="ISO 8601; rows at or after it; no timezone is UTC")
    created_before: datetime | None = Field(None, description="ISO 8601; rows before it; no timezone is UTC")

    @field_validator("*", mode="before")
    @classmethod
    def blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("status")
    @classmethod
    def check_status(cls, value: str | None) -> str | None:
        return None if value is None else one_of(value, ("success", "failure"))

    @field_validator("type")
    @classmethod
    def check_type(cls, value: str | None) -> str | None:
        return None if value is None else one_of(value, ("test", "data_alert"))

    @field_validator("event")
    @classmethod
    def check_event(cls, value: str | None) -> str | None:
        return None if value is None else plain_text(value, 100)

    @field_validator("project_id")
    @classmethod
    def check_project_id(cls, value: str | None) -> str | None:
        return None if value is None else plain_text(value, 200)

    @field_validator("delivery_id")
    @classmethod
    def check_delivery_id(cls, value: str | None) -> str | None:
        return None if value is None else delivery_id_digits(value)

    @field_validator("created_after", "created_before", mode="before")
    @classmethod
    def check_moment(cls, value: Any) -> Any:
        return parse_moment(value) if isinstance(value, str) and value.strip() else value


class SinceIn(Schema):
    model_config = {"extra": "forbid"}

    since: datetime = Field(description="ISO 8601; no timezone is UTC")

    @field_validator("since", mode="before")
    @classmethod
    def check_since(cls, value: Any) -> datetime:
        # Only text: pydantic would read a number as epoch seconds, which is not ISO 8601.
        if not isinstance(value, str):
            raise ValueError("use an ISO 8601 time, e.g. 2026-11-28T14:00:00Z")
        return parse_moment(value)


class StatsQuery(Schema):
    window: str = Field("24h", description="24h (hourly buckets), 7d (hourly) or 30d (daily)")

    @field_validator("window")
    @classmethod
    def check_window(cls, value: str) -> str:
        return one_of(value, ("24h", "7d", "30d"))


class ExportQuery(LogFilterQuery):
    format: str = Field("csv", description="csv or jsonl")

    @field_validator("format")
    @classmethod
    def check_format(cls, value: str) -> str:
        return one_of(value, ("csv", "jsonl"))


class FilteredPagination(Pagination):
    # This project's: which filters GET .../logs takes, and whether a filtered total was capped.
    total_is_lower_bound: bool
    filters: list[str]
    # Present when the offset was counted from the oldest row (end=oldest), absent otherwise.
    end: Literal["oldest"] | None = None

    @model_serializer(mode="wrap")
    def _end_only_when_oldest(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        written = handler(self)
        if written.get("end") is None:
            written.pop("end", None)
        return written


class FilteredLogPage(Schema):
    items: list[LogRow]
    pagination: FilteredPagination


class FilteredLogPageEnvelope(Envelope):
    data: FilteredLogPage


class AttemptOut(Schema):
    log_id: Text
    attempt: int
    created_at: AutoqlTime
    status: str
    code: int | None
    duration_ms: int
    error: str | None
    request_headers: dict[str, str] = Field(description="the headers this attempt was sent with, signature included")


class DeliveryOut(Schema):
    id: Text
    event: str
    type: str
    project_id: str | None
    state: str
    state_text: str = Field(description="the delivery's final (or current) state in words")
    attempts: int
    next_attempt_at: AutoqlTime | None
    created_at: AutoqlTime
    recovery_of: Text | None = Field(description="the failed delivery this one was sent in place of")
    recovered_by: Text | None = Field(description="the delivery Recover sent in place of this one")
    timeline: list[AttemptOut] = Field(description="every logged attempt, oldest first")


class DeliveryEnvelope(Envelope):
    data: DeliveryOut


class DeliveryRow(Schema):
    """One row of the deliveries view: a delivery, where it ended up and its last attempt."""

    id: Text
    type: str
    event: str
    project_id: str | None
    state: str = Field(description="pending, in_flight, delivered or failed, as the queue keeps it")
    outcome: str = Field(description="delivered, retrying, gave_up or disabled (waiting on a disabled webhook)")
    attempts: int
    next_attempt_at: AutoqlTime | None
    created_at: AutoqlTime
    updated_at: AutoqlTime
    last_log_id: Text | None = Field(description="the log row of the newest attempt; null before the first")
    last_status: str | None
    last_code: int | None
    last_duration_ms: int | None
    last_attempt_at: AutoqlTime | None


class DeliveryPage(Schema):
    items: list[DeliveryRow]
    pagination: FilteredPagination


class DeliveryPageEnvelope(Envelope):
    data: DeliveryPage


class CountOut(Schema):
    count: int


class CountEnvelope(Envelope):
    data: CountOut


class RecoveredOut(Schema):
    queued: int


class RecoveredEnvelope(Envelope):
    data: RecoveredOut


class StatsBucket(Schema):
    start: AutoqlTime
    successes: int
    failures: int


class StatsOut(Schema):
    window: str
    since: AutoqlTime
    bucket: str = Field(description="hour or day")
    attempts: int
    deliveries: int
    successes: int
    failures: int
    success_rate: float | None = Field(description="successes / attempts, 0 to 1; null with no attempts")
    p50_duration_ms: int | None
    p95_duration_ms: int | None
    last_success_at: AutoqlTime | None
    last_failure_at: AutoqlTime | None
    buckets: list[StatsBucket]


class StatsEnvelope(Envelope):
    data: StatsOut
