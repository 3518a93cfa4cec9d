"""Sending events to an environment's webhook and logging every attempt."""

import uuid
from typing import Any

from django.utils import timezone

from management_api.models import LogStatus, LogType, Webhook, WebhookLog
from management_api.sender import DeliveryResult, build_body, send_signed


def record_attempt(
    webhook: Webhook, *, result: DeliveryResult, log_type: str, event: str,
    delivery_id: uuid.UUID, attempt: int = 1, project_id: str | None = None,
) -> WebhookLog:
    # The signature is kept (it proves what was sent); the secret itself is never stored here.
    return WebhookLog.objects.create(
        environment=webhook.environment,
        delivery_id=delivery_id,
        attempt=attempt,
        project_id=project_id,
        type=log_type,
        event=event,
        status=LogStatus.SUCCESS if result.success else LogStatus.FAILURE,
        code=result.status_code,
        url=webhook.url,
        duration_ms=result.duration_ms,
        error=result.error,
        response=result.response,
        request_headers=result.request_headers,
        request_body=result.request_body,
        response_headers=result.response_headers,
    )


def test_payload(environment: str) -> dict[str, Any]:
    return {
        "environment": environment,
        "message": "This is a test event from AutoQL. Answer 2xx to accept it.",
        "sent_at": timezone.now().isoformat(),
    }


def deliver_test_event(webhook: Webhook) -> tuple[WebhookLog, DeliveryResult]:
    """One signed `test` delivery, logged, never retried."""
    delivery_id = uuid.uuid4()
    body = build_body("test", test_payload(webhook.environment))
    result = send_signed(webhook.url, webhook.secret, "test", body, delivery_id)
    log = record_attempt(webhook, result=result, log_type=LogType.TEST, event="test",
                         delivery_id=delivery_id)
    return log, result
