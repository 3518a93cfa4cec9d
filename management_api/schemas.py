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
    }
