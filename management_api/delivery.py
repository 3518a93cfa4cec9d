"""Sending events to an environment's webhook: attempts, retries, and a log row for each attempt.

The queue is Django's Tasks API (django-tasks), run by `python manage.py db_worker`. The task and
the code that queues it live here together, because an attempt queues its own retry.
"""

import logging
import random
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DataError, transaction
from django.utils import timezone
from django_tasks import task

from management_api import notifications
from management_api.models import Delivery, DeliveryState, LogStatus, LogType, Webhook, WebhookLog
from management_api.periodic import repeat
from management_api.sender import DeliveryResult, build_body, failed_result, send_signed, signed_headers

logger = logging.getLogger(__name__)

# Whatever a receiver asks for in Retry-After, never wait less than this or more than the
# longest step of the schedule.
MIN_RETRY_AFTER_S = 1.0


class WebhookDisabled(Exception):
    pass


@task()
def attempt_delivery_task(delivery_id: str) -> str:
    return attempt_delivery(delivery_id)


def enqueue_attempt(delivery: Delivery, run_after: datetime | None = None) -> None:
    # Each environment has its own queue and worker: a hanging sandbox receiver never holds up production.
    attempt_delivery_task.using(queue_name=delivery.environment, run_after=run_after).enqueue(str(delivery.id))


def record_attempt(
    webhook: Webhook,
    *,
    result: DeliveryResult,
    delivery: Delivery,
    attempt: int,
    next_attempt_at: datetime | None = None,
) -> WebhookLog:
    # The signature is kept (it proves what was sent); the secret itself is never stored here.
    fields: dict[str, Any] = dict(
        environment=webhook.environment,
        delivery_id=delivery.id,
        attempt=attempt,
        project_id=delivery.project_id,
        type=delivery.type,
        event=delivery.event,
        status=LogStatus.SUCCESS if result.success else LogStatus.FAILURE,
        code=result.status_code,
        url=webhook.url,
        duration_ms=result.duration_ms,
        error=result.error,
        response=result.response,
        request_headers=result.request_headers,
        request_body=result.request_body,
        response_headers=result.response_headers,
        next_attempt_at=next_attempt_at,
    )
    try:
        with transaction.atomic():
            return WebhookLog.objects.create(**fields)
    except (DataError, ValueError, TypeError, RecursionError):
        # The receiver's answer is what varies; the attempt is logged without it rather than lost.
        logger.exception("The answer to delivery %s could not be stored; logging the attempt without it", delivery.id)
        unstored = "the receiver's answer could not be stored"
        fields.update(response=None, response_headers={}, error=result.error or unstored)
        return WebhookLog.objects.create(**fields)


def test_payload(environment: str) -> dict[str, Any]:
    return {
        "environment": environment,
        "message": "This is a test event from AutoQL. Answer 2xx to accept it.",
        "sent_at": timezone.now().isoformat(),
    }


def deliver_test_event(webhook: Webhook) -> tuple[WebhookLog, DeliveryResult]:
    """One signed `test` delivery, sent now and logged; test events are never retried."""
    delivery = Delivery.objects.create(
        environment=webhook.environment,
        type=LogType.TEST,
        event="test",
        payload=test_payload(webhook.environment),
        attempts=1,
        state=DeliveryState.IN_FLIGHT,
    )
    result = _send_guarded(webhook, delivery)
    delivery.state = DeliveryState.DELIVERED if result.success else DeliveryState.FAILED
    delivery.save(update_fields=["state", "updated_at"])
    return record_attempt(webhook, result=result, delivery=delivery, attempt=1), result


def queue_event(environment: str, event: str, payload: dict[str, Any], project_id: str | None = None) -> Delivery:
    """Queue one delivery of `event` to the environment's webhook; the worker sends it."""
    webhook = Webhook.objects.filter(environment=environment).first()
    if webhook is None:
        raise Webhook.DoesNotExist(f"No webhook is configured for {environment}.")
    if webhook.disabled_at:
        raise WebhookDisabled(f"The {environment} webhook is disabled: {webhook.disabled_reason}")
    with transaction.atomic():
        delivery = Delivery.objects.create(
            environment=environment,
            type=LogType.DATA_ALERT,
            event=event,
            payload=payload,
            project_id=project_id,
            next_attempt_at=timezone.now(),
        )
        enqueue_attempt(delivery)
    return delivery


def resend(log: WebhookLog) -> Delivery:
    """A new attempt of the delivery that `log` belongs to, as soon as a worker is free."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=log.delivery_id)
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.leased_until = None
        delivery.save(update_fields=["state", "next_attempt_at", "leased_until", "updated_at"])
        enqueue_attempt(delivery)
    return delivery


def recoverable(environment: str, since: datetime):
    """Data alert deliveries created since `since` that were given up and not yet recovered.

    Test events are left out: they check a connection at one moment and are never retried.
    """
    return Delivery.objects.filter(
        environment=environment,
        type=LogType.DATA_ALERT,
        state=DeliveryState.FAILED,
        created_at__gte=since,
        recovered_by__isnull=True,
    )


def recover(environment: str, since: datetime) -> int:
    """Send again every delivery `recoverable` finds, each as a new delivery with its own id."""
    with transaction.atomic():
        # Locking the webhook makes two recovers of one environment run one after the other, so
        # the second finds every delivery already recovered instead of sending it twice.
        webhook = Webhook.objects.select_for_update().filter(environment=environment).first()
        if webhook is None:
            raise Webhook.DoesNotExist(f"No webhook is configured for {environment}.")
        if webhook.disabled_at:
            raise WebhookDisabled(f"The {environment} webhook is disabled: {webhook.disabled_reason}")
        now = timezone.now()
        queued = 0
        # Read in full before writing: SQLite gives no stable view of a table being written through.
        for failed in list(recoverable(environment, since).order_by("created_at")):
            replacement = Delivery.objects.create(
                environment=environment,
                type=failed.type,
                event=failed.event,
                payload=failed.payload,
                project_id=failed.project_id,
                next_attempt_at=now,
                recovery_of=failed,
            )
            enqueue_attempt(replacement)
            queued += 1
    return queued


def lease_seconds() -> float:
    # Long enough for one whole attempt; past it, the worker that took the attempt is presumed dead.
    return settings.WEBHOOK_DELIVERY_DEADLINE + 5


def _claim(delivery_id: str) -> Delivery | None:
    """Take the delivery for one attempt, unless it is not due (a duplicate or early nudge)."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.state != DeliveryState.PENDING:
            return None
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return None
        delivery.state = DeliveryState.IN_FLIGHT
        delivery.attempts += 1
        delivery.leased_until = now + timedelta(seconds=lease_seconds())
        delivery.save(update_fields=["state", "attempts", "leased_until", "updated_at"])
        return delivery


def is_retryable(result: DeliveryResult) -> bool:
    """No response, timeouts, 3xx, 429, 5xx and any 4xx but 410 are worth another try."""
    if result.success:
        return False
    return result.status_code != 410


def retry_delay(attempt: int, retry_after: float | None) -> float | None:
    """Seconds until the attempt after `attempt` (1-based), or None when the schedule is spent."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if attempt > len(schedule):
        return None
    if retry_after is not None:
        return min(max(retry_after, MIN_RETRY_AFTER_S), max(schedule))
    # ±20% jitter, so receivers coming back up are not hit by every retry at once.
    return schedule[attempt - 1] * random.uniform(0.8, 1.2)


def attempt_delivery(delivery_id: str) -> str:
    """One attempt of a queued delivery, signed afresh; schedules the next one when it fails."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not due"
    webhook = Webhook.objects.filter(environment=delivery.environment).first()
    if webhook is None or webhook.disabled_at:
        delivery.state = DeliveryState.FAILED
        delivery.leased_until = None
        delivery.save(update_fields=["state", "leased_until", "updated_at"])
        return "no webhook" if webhook is None else "webhook disabled"

    result = _send_guarded(webhook, delivery)
    delay = retry_delay(delivery.attempts, result.retry_after) if is_retryable(result) else None
    next_at = timezone.now() + timedelta(seconds=delay) if delay is not None else None
    with transaction.atomic():
        record_attempt(webhook, result=result, delivery=delivery, attempt=delivery.attempts, next_attempt_at=next_at)
        if result.success:
            delivery.state = DeliveryState.DELIVERED
        elif next_at is not None:
            delivery.state = DeliveryState.PENDING
            enqueue_attempt(delivery, run_after=next_at)
        else:
            delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = next_at
        delivery.leased_until = None
        delivery.save(update_fields=["state", "next_attempt_at", "leased_until", "updated_at"])
        _track_health(webhook, result)
    return delivery.state


def _send_guarded(webhook: Webhook, delivery: Delivery) -> DeliveryResult:
    """send_signed never raises by design; should it ever, the attempt is still logged and retried
    on schedule, instead of the task runner retrying it at once and for ever with no log row."""
    body = build_body(delivery.event, delivery.payload)
    # The secret in force: the current one, or the next one once a roll has switched over.
    secret = webhook.signing_secret()
    try:
        return send_signed(webhook.url, secret, delivery.event, body, delivery.id)
    except Exception as e:
        logger.exception("Sending delivery %s failed unexpectedly", delivery.id)
        headers = signed_headers(secret, delivery.event, body, delivery.id)
        return failed_result(headers, body, time.monotonic(), f"the delivery failed unexpectedly ({type(e).__name__})")


def _track_health(webhook: Webhook, result: DeliveryResult) -> None:
    """Disable a webhook that has not accepted a single delivery for WEBHOOK_DISABLE_AFTER_DAYS."""
    now = timezone.now()
    if result.success:
        Webhook.objects.filter(pk=webhook.pk).update(failing_since=None)
        notifications.webhook_recovered(webhook, webhook.failing_since)
        return
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if webhook.failing_since is None:
        webhook.failing_since = now
        webhook.save(update_fields=["failing_since"])
        notifications.webhook_failing(webhook, now, result.error)
        return
    window = timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    if webhook.disabled_at is None and now - webhook.failing_since > window:
        webhook.disabled_at = now
        webhook.disabled_reason = (
            f"No delivery has succeeded since {webhook.failing_since:%Y-%m-%d %H:%M} UTC (last error: {result.error})."
        )
        webhook.save(update_fields=["disabled_at", "disabled_reason"])
        logger.warning("Disabled the %s webhook: %s", webhook.environment, webhook.disabled_reason)
        notifications.webhook_disabled(webhook, now, result.error)


def enable(webhook: Webhook) -> Webhook:
    webhook.disabled_at = None
    webhook.disabled_reason = ""
    webhook.failing_since = None
    webhook.save(update_fields=["disabled_at", "disabled_reason", "failing_since", "updated_at"])
    return webhook


def recover_stalled() -> int:
    """Attempt again every delivery whose worker died mid-attempt, or whose nudge was lost."""
    now = timezone.now()
    recovered = 0
    with transaction.atomic():
        stalled = Delivery.objects.select_for_update(skip_locked=True).filter(
            state=DeliveryState.IN_FLIGHT, leased_until__lt=now
        )
        for delivery in stalled:
            delivery.state = DeliveryState.PENDING
            delivery.next_attempt_at = now
            delivery.leased_until = None
            delivery.save(update_fields=["state", "next_attempt_at", "leased_until", "updated_at"])
            enqueue_attempt(delivery)
            recovered += 1
    if recovered:
        logger.info("Recovered %d delivery attempt(s) cut off by a stopped worker", recovered)
    return recovered


def recover_forever(stop: threading.Event) -> None:
    """recover_stalled every WEBHOOK_RECOVERY_INTERVAL seconds until `stop` is set."""
    repeat(recover_stalled, settings.WEBHOOK_RECOVERY_INTERVAL, stop, "Recovering stalled deliveries")
