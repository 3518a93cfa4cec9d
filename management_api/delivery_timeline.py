"""One delivery and its attempts, oldest first, with its state in words.

The Delivery row is the truth about a delivery; when it is no longer kept but its log rows are,
the timeline is told from the log alone.
"""

import uuid
from typing import Any

from management_api.models import Delivery, DeliveryState, LogStatus, WebhookLog
from management_api.schemas import iso


def attempts_word(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def state_text(state: str, attempts: int, logs: list[WebhookLog], next_attempt_at: Any) -> str:
    if state == DeliveryState.DELIVERED:
        success = next((log for log in reversed(logs) if log.status == LogStatus.SUCCESS), None)
        return f"Delivered on attempt {success.attempt if success else attempts}."
    if state == DeliveryState.FAILED:
        return f"Given up after {attempts_word(attempts)}."
    if state == DeliveryState.IN_FLIGHT:
        return f"Attempt {attempts} is being sent now."
    when = f" at {iso(next_attempt_at)}" if next_attempt_at else " as soon as a worker is free"
    return f"Waiting for attempt {attempts + 1}, due{when}."


def state_from_log(last: WebhookLog) -> str:
    if last.status == LogStatus.SUCCESS:
        return DeliveryState.DELIVERED
    return DeliveryState.PENDING if last.next_attempt_at else DeliveryState.FAILED


def delivery_timeline(environment: str, delivery_id: uuid.UUID) -> dict[str, Any] | None:
    logs = list(WebhookLog.objects.filter(environment=environment, delivery_id=delivery_id).order_by("seq"))
    found = Delivery.objects.filter(environment=environment, pk=delivery_id).select_related("recovered_by").first()
    if found is None and not logs:
        return None
    timeline = [
        {
            "log_id": log.pk,
            "attempt": log.attempt,
            "created_at": log.created_at,
            "status": log.status,
            "code": log.code,
            "duration_ms": log.duration_ms,
            "error": log.error,
            "request_headers": log.request_headers,
        }
        for log in logs
    ]
    if found is not None:
        recovered_by = getattr(found, "recovered_by", None)
        text = state_text(found.state, found.attempts, logs, found.next_attempt_at)
        if recovered_by is not None:
            text += f" Recover sent it again as delivery {recovered_by.pk}."
        return {
            "id": found.pk,
            "event": found.event,
            "type": found.type,
            "project_id": found.project_id,
            "state": found.state,
            "state_text": text,
            "attempts": found.attempts,
            "next_attempt_at": found.next_attempt_at,
            "created_at": found.created_at,
            "recovery_of": found.recovery_of_id,
            "recovered_by": recovered_by.pk if recovered_by else None,
            "timeline": timeline,
        }
    first, last = logs[0], logs[-1]
    state = state_from_log(last)
    return {
        "id": delivery_id,
        "event": last.event,
        "type": last.type,
        "project_id": last.project_id,
        "state": state,
        "state_text": state_text(state, last.attempt, logs, last.next_attempt_at),
        "attempts": last.attempt,
        "next_attempt_at": last.next_attempt_at,
        "created_at": first.created_at,
        "recovery_of": None,
        "recovered_by": None,
        "timeline": timeline,
    }
