"""Request and response shapes of the management API (../shared/reference/management-api.md)."""

from datetime import UTC, datetime
from typing import Any

from ninja import Schema
from pydantic import Field, field_validator

from management_api.models import Webhook, WebhookLog
from management_api.urls_check import url_problem


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class WebhookOut(Schema):
    environment: str
    url: str
    secret: str
    created_at: str
    updated_at: str
    # This project's own additions: a webhook that failed for too long stops receiving deliveries.
    disabled: bool = False
    disabled_reason: str | None = None


class WebhookList(Schema):
    items: list[WebhookOut]


class TestOutcome(Schema):
    success: bool
    status_code: int | None
    response: Any
    error: str | None
    duration_ms: int
    log_id: str


class LogRow(Schema):
    id: str
    environment: str
    project_id: str | None
    type: str
    event: str
    status: str
    code: int | None
    created_at: str
    url: str
    duration_ms: int
    error: str | None
    response: Any
    delivery_id: str
    attempt: int
    next_attempt_at: str | None
    request_headers: dict[str, str]
    request_body: str
    response_headers: dict[str, str]


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
    """A data alert, as AutoQL delivers it (../shared/reference/management-api.md)."""

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
    delivery_id: str
    status: str


class QueuedEnvelope(Envelope):
    data: QueuedOut


class ErrorOut(Schema):
    message: str
    reference_id: str
    errors: dict[str, list[str]] | None = None


def webhook_data(webhook: Webhook) -> dict[str, Any]:
    return {
        "environment": webhook.environment,
        "url": webhook.url,
        "secret": webhook.secret,
        "created_at": iso(webhook.created_at),
        "updated_at": iso(webhook.updated_at),
        "disabled": webhook.disabled_at is not None,
        "disabled_reason": webhook.disabled_reason or None,
    }


def log_data(log: WebhookLog) -> dict[str, Any]:
    return {
        "id": str(log.pk),
        "environment": log.environment,
        "project_id": log.project_id,
        "type": log.type,
        "event": log.event,
        "status": log.status,
        "code": log.code,
        "created_at": iso(log.created_at),
        "url": log.url,
        "duration_ms": log.duration_ms,
        "error": log.error,
        "response": log.response,
        "delivery_id": str(log.delivery_id),
        "attempt": log.attempt,
        "next_attempt_at": iso(log.next_attempt_at) if log.next_attempt_at else None,
        "request_headers": log.request_headers,
        "request_body": log.request_body,
        "response_headers": log.response_headers,
    }
