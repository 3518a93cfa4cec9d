"""Request and response shapes of the management API (docs/api.md)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from ninja import ModelSchema, Schema
from pydantic import ConfigDict, Field, PlainSerializer, field_validator

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
