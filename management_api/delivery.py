"""Sending events to an environment's webhook: attempts, retries, and a log row for each attempt.

The Delivery rows are the queue: what is due, when, and who holds it (a lease). The delivery
worker (`manage.py delivery_worker`, management_api/worker.py) runs a loop per environment that
claims due deliveries a batch at a time, sends them over a kept-alive connection, and writes the
batch's log rows and state changes in one transaction. A transaction that makes a delivery due
wakes the environment's idle workers when it commits (management_api/wakeups.py).
"""

import functools
import logging
import random
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Field
from django.utils import timezone

from audit.trail import Action, audit_event, connection_test_outcome, event_detail, record, recover_detail
from management_api import notifications
from management_api.models import (
    AlertState,
    Delivery,
    DeliveryState,
    LogStatus,
    LogType,
    Webhook,
    WebhookLog,
)
from management_api.periodic import repeat
from management_api.schemas import iso
from management_api.sender import DeliveryResult, build_body, failed_result, send_signed, signed_headers
from management_api.wakeups import announce_due, announced
from portal.compiled import CompiledQuery
from portal.inserts import insert_together

logger = logging.getLogger(__name__)

# Whatever a receiver asks for in Retry-After, never wait less than this or more than the
# longest step of the schedule.
MIN_RETRY_AFTER_S = 1.0


class WebhookDisabled(Exception):
    pass


def _log_fields(
    webhook: Webhook, delivery: Delivery, result: DeliveryResult, attempt: int, next_attempt_at: datetime | None
) -> dict[str, Any]:
    # The signature is kept (it proves what was sent); the secret itself is never stored here.
    return dict(
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


def record_attempt(
    webhook: Webhook,
    *,
    result: DeliveryResult,
    delivery: Delivery,
    attempt: int,
    next_attempt_at: datetime | None = None,
) -> WebhookLog:
    """Log one attempt (numbered, stored whatever the receiver answered, and counted)."""
    log = WebhookLog(**_log_fields(webhook, delivery, result, attempt, next_attempt_at))
    with transaction.atomic():
        WebhookLog.objects.append([log])
    return log


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
    with transaction.atomic():
        delivery.state = DeliveryState.DELIVERED if result.success else DeliveryState.FAILED
        delivery.save(update_fields=["state", "updated_at"])
        log = record_attempt(webhook, result=result, delivery=delivery, attempt=1)
        outcome = connection_test_outcome(result.success, result.status_code, result.error)
        record(Action.CONNECTION_TESTED, environment=webhook.environment, detail=outcome)
    return log, result


# Stand-ins for the values of the queries compiled once (portal/compiled.py).
ENVIRONMENT = "\x00environment"

_SENDING_STATE = CompiledQuery(
    lambda environment: Webhook.objects.filter(environment=environment).values_list("disabled_at", "disabled_reason")[
        :1
    ],
    ENVIRONMENT,
)


def sending_state(environment: str) -> tuple[datetime | None, str] | None:
    """The environment's webhook's (disabled_at, disabled_reason); None when there is no webhook."""
    rows = _SENDING_STATE.rows(environment)
    return rows[0] if rows else None


def queue_event(environment: str, event: str, payload: dict[str, Any], project_id: str | None = None) -> Delivery:
    """Queue one delivery of `event` to the environment's webhook; the worker sends it."""
    # Only whether it can be sent: the secret is read (and a due roll completed) when it is signed.
    state = sending_state(environment)
    if state is None:
        raise Webhook.DoesNotExist(f"No webhook is configured for {environment}.")
    disabled_at, disabled_reason = state
    if disabled_at:
        raise WebhookDisabled(f"The {environment} webhook is disabled: {disabled_reason}")
    delivery = Delivery(
        environment=environment,
        type=LogType.DATA_ALERT,
        event=event,
        payload=payload,
        project_id=project_id,
        next_attempt_at=timezone.now(),
    )
    # The delivery and its audit record in one statement on PostgreSQL: the call's one write.
    insert_together(
        delivery, audit_event(Action.EVENT_QUEUED, environment=environment, detail=event_detail(event, payload))
    )
    announce_due(environment)
    return delivery


def resend(log: WebhookLog) -> Delivery:
    """A new attempt of the delivery that `log` belongs to, as soon as a worker is free."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=log.delivery_id)
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.leased_until = None
        delivery.save(update_fields=["state", "next_attempt_at", "leased_until", "updated_at"])
        announce_due(delivery.environment)
        record(Action.DELIVERY_RESENT, environment=delivery.environment, detail=f"Log row {log.pk}")
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
            Delivery.objects.create(
                environment=environment,
                type=failed.type,
                event=failed.event,
                payload=failed.payload,
                project_id=failed.project_id,
                next_attempt_at=now,
                recovery_of=failed,
            )
            queued += 1
        if queued:
            announce_due(environment)
        record(Action.DELIVERIES_RECOVERED, environment=environment, detail=recover_detail(queued, iso(since)))
    return queued


# A batch starts no attempt later than this after it was claimed. Its lease covers that, one
# attempt's deadline after it, and time to write the results, so a batch that meets a slow
# receiver hands its unsent rest back instead of letting their leases run out (and the
# deliveries be sent twice).
BATCH_SECONDS = 2.0


def lease_seconds() -> float:
    # Past it, the worker that took the deliveries is presumed dead (recover_stalled).
    return BATCH_SECONDS + settings.WEBHOOK_DELIVERY_DEADLINE + 5


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


@functools.cache
def _claim_sql() -> str:
    """PostgreSQL's claim in one statement: one round trip in autocommit, where a transaction of a
    SELECT and an UPDATE took four. The rows are chosen once, in a MATERIALIZED CTE: a subquery in
    `WHERE id IN (...)` may be run again for each row a plan's nested loop visits, and SKIP LOCKED
    can answer differently each time, which could claim more than `size`."""
    table, quote = Delivery._meta.db_table, connection.ops.quote_name

    def column(name: str) -> str:
        field = Delivery._meta.get_field(name)
        assert isinstance(field, Field) and field.column, field
        return quote(field.column)

    pk, state, attempts, due_at = column("id"), column("state"), column("attempts"), column("next_attempt_at")
    return (
        f"WITH due AS MATERIALIZED (SELECT {pk} FROM {quote(table)}"
        f" WHERE {column('environment')} = %s AND {state} = %s AND {due_at} <= %s"
        f" ORDER BY {due_at} LIMIT %s FOR UPDATE SKIP LOCKED)"
        f" UPDATE {quote(table)} AS claimed SET {state} = %s, {attempts} = claimed.{attempts} + 1,"
        f" {column('leased_until')} = %s, {column('updated_at')} = %s"
        f" FROM due WHERE claimed.{pk} = due.{pk} RETURNING claimed.*"
    )


def _claim_due(environment: str, size: int) -> list[Delivery]:
    """Take up to `size` due deliveries of `environment`, oldest due first, for one attempt each.

    PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite: the
    transaction is IMMEDIATE (settings.py), so claims are made one after the other.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        leased_until = now + timedelta(seconds=lease_seconds())
        params = [environment, DeliveryState.PENDING, now, size, DeliveryState.IN_FLIGHT, leased_until, now]
        claimed = Delivery.objects.raw(_claim_sql(), params, using=connection.alias)
        return sorted(claimed, key=lambda delivery: delivery.next_attempt_at or now)
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(environment=environment, state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:size]
        )
        if not due:
            return []
        leased_until = now + timedelta(seconds=lease_seconds())
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(
            state=DeliveryState.IN_FLIGHT, attempts=F("attempts") + 1, leased_until=leased_until, updated_at=now
        )
    for delivery in due:
        delivery.state, delivery.attempts, delivery.leased_until = (
            DeliveryState.IN_FLIGHT,
            delivery.attempts + 1,
            leased_until,
        )
    return due


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
    """One attempt of one queued delivery, as the worker makes it; returns the delivery's state."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not due"
    webhook = webhook_of(delivery.environment)
    if webhook is None or webhook.disabled_at:
        _give_up_unsendable([delivery])
        return "no webhook" if webhook is None else "webhook disabled"
    _attempt_batch(webhook, [delivery])
    return delivery.state


def deliver_due(environment: str, stop: threading.Event | None = None) -> int:
    """Attempt every due delivery of `environment`, a batch at a time, until none is left or `stop`
    is set (checked between batches, so a batch is always finished); returns how many were attempted.
    Where wake-ups are announced, a batch shorter than the batch size ends it (see below).
    """
    size = settings.WEBHOOK_DISPATCH_BATCH
    attempted = 0
    while not (stop and stop.is_set()) and (batch := _claim_due(environment, size)):
        webhook = webhook_of(environment)
        if webhook is None or webhook.disabled_at:
            _give_up_unsendable(batch)
            continue
        attempted += _attempt_batch(webhook, batch)
        if len(batch) < size and announced():
            # None was left to claim: what was queued since comes with a wake-up, and a retry that
            # fell due since is found by the caller's next_due. Claiming again now would nearly
            # always find nothing. (Where nothing is announced, the loop claims until none is left.)
            break
    return attempted


def next_due(environment: str) -> datetime | None:
    """When the environment's earliest waiting delivery is due (perhaps already); None when none waits.

    What an idle worker asks on every turn: one query on the (environment, state, next_attempt_at) index.
    """
    rows = _NEXT_DUE.rows(environment)
    return rows[0][0] if rows else None


# The earliest first: what MIN() gives (a waiting delivery always has its time), read off the same index.
_NEXT_DUE = CompiledQuery(
    lambda environment: (
        Delivery.objects.filter(environment=environment, state=DeliveryState.PENDING, next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at")[:1]
    ),
    ENVIRONMENT,
)
_WEBHOOK_FIELDS = [field.attname for field in Webhook._meta.concrete_fields]
_WEBHOOK = CompiledQuery(
    lambda environment: (
        Webhook.objects.filter(environment=environment).order_by("pk").values_list(*_WEBHOOK_FIELDS)[:1]
    ),
    ENVIRONMENT,
)


def webhook_of(environment: str) -> Webhook | None:
    """Webhook.objects.filter(environment=environment).first(), with its query compiled once: every
    batch a worker sends reads it afresh, and so does every single attempt (attempt_delivery)."""
    rows = _WEBHOOK.rows(environment)
    return Webhook.from_db(connection.alias, _WEBHOOK_FIELDS, rows[0]) if rows else None


def _give_up_unsendable(deliveries: list[Delivery]) -> None:
    """Deliveries whose webhook was deleted or disabled since they were queued are given up."""
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        state=DeliveryState.FAILED, leased_until=None, updated_at=timezone.now()
    )
    for delivery in deliveries:
        delivery.state, delivery.leased_until = DeliveryState.FAILED, None


def _attempt_batch(webhook: Webhook, deliveries: list[Delivery]) -> int:
    """Send each claimed delivery, then log and settle them all in one transaction.

    An attempt starts only within BATCH_SECONDS of the claim, so that it ends (by its deadline)
    well inside the lease; the deliveries not sent by then go back to waiting, due at once.
    """
    started = time.monotonic()
    attempts: list[tuple[Delivery, DeliveryResult]] = []
    for delivery in deliveries:
        if attempts and time.monotonic() - started > BATCH_SECONDS:
            break
        attempts.append((delivery, _send_guarded(webhook, delivery, keep_alive=True)))
    unsent = deliveries[len(attempts) :]
    now = timezone.now()
    settled = [_settle(webhook, delivery, result, now) for delivery, result in attempts]
    try:
        with transaction.atomic():
            _write_settled(webhook, settled, unsent, now)
            # After the log rows: the numbering lock they took orders the batches of the
            # environment's workers, so the health read here sees every batch logged before this
            # one, and the last batch logged sets it.
            _track_health(webhook, [result for _, result in attempts])
    except Exception:
        # Whatever stopped the batch's transaction, each attempt still gets its row and its next
        # step, one by one: a delivery is never sent again without the row of the attempt before.
        logger.exception(
            "Writing the results of %d %s deliveries failed; writing them one by one",
            len(attempts),
            webhook.environment,
        )
        for one in settled:
            with transaction.atomic():
                _write_settled(webhook, [one], [], now)
        with transaction.atomic():
            _write_settled(webhook, [], unsent, now)
    for delivery in unsent:
        delivery.state, delivery.attempts, delivery.leased_until = DeliveryState.PENDING, delivery.attempts - 1, None
    return len(attempts)


def _settle(webhook: Webhook, delivery: Delivery, result: DeliveryResult, now: datetime) -> tuple[Delivery, WebhookLog]:
    """What an attempt leaves: the delivery's next state (in memory) and the attempt's log row."""
    delay = retry_delay(delivery.attempts, result.retry_after) if is_retryable(result) else None
    next_at = now + timedelta(seconds=delay) if delay is not None else None
    log = WebhookLog(**_log_fields(webhook, delivery, result, delivery.attempts, next_at))
    delivery.next_attempt_at, delivery.leased_until, delivery.updated_at = next_at, None, now
    if result.success:
        delivery.state = DeliveryState.DELIVERED
    elif next_at is not None:
        delivery.state = DeliveryState.PENDING
    else:
        delivery.state = DeliveryState.FAILED
    return delivery, log


def _write_settled(
    webhook: Webhook, settled: list[tuple[Delivery, WebhookLog]], unsent: list[Delivery], now: datetime
) -> None:
    """In the caller's transaction: the deliveries' new states, the deliveries not attempted handed
    back (due at once), and last the attempts' log rows. Numbering the rows locks the environment's
    numbering until the commit, and every other worker of the environment waits for it there, so
    nothing that can come before it comes after it."""
    finished = {"next_attempt_at": None, "leased_until": None, "updated_at": now}
    for state in (DeliveryState.DELIVERED, DeliveryState.FAILED):
        done = [delivery.pk for delivery, _ in settled if delivery.state == state]
        if done:
            Delivery.objects.filter(pk__in=done).update(state=state, **finished)
    retried = [delivery for delivery, _ in settled if delivery.state == DeliveryState.PENDING]
    if retried:
        Delivery.objects.bulk_update(retried, ["state", "next_attempt_at", "leased_until", "updated_at"])
    if unsent:
        Delivery.objects.filter(pk__in=[d.pk for d in unsent]).update(
            state=DeliveryState.PENDING, attempts=F("attempts") - 1, leased_until=None, next_attempt_at=now
        )
        # Due again at once: an idle worker may take them before this one is back for them.
        announce_due(webhook.environment)
    WebhookLog.objects.append([log for _, log in settled])


def _send_guarded(webhook: Webhook, delivery: Delivery, keep_alive: bool = False) -> DeliveryResult:
    """send_signed never raises by design; should it ever, the attempt is still logged and retried
    on schedule, instead of the worker's loop failing the whole batch with no log row."""
    body = build_body(delivery.event, delivery.payload)
    # The secret in force: the current one, or the next one once a roll has switched over.
    secret = webhook.signing_secret()
    try:
        return send_signed(webhook.url, secret, delivery.event, body, delivery.id, keep_alive=keep_alive)
    except Exception as e:
        logger.exception("Sending delivery %s failed unexpectedly", delivery.id)
        headers = signed_headers(secret, delivery.event, body, delivery.id)
        return failed_result(headers, body, time.monotonic(), f"the delivery failed unexpectedly ({type(e).__name__})")


def _track_health(webhook: Webhook, results: list[DeliveryResult]) -> None:
    """Follow a batch's outcome: any success clears the failing clock; ending on a failure starts it.

    Disables a webhook that has not accepted a single delivery for WEBHOOK_DISABLE_AFTER_DAYS.
    """
    if any(result.success for result in results):
        _note_success(webhook)
    if not results[-1].success:
        _note_failure(webhook, results[-1])


def _note_success(webhook: Webhook) -> None:
    # Read afresh, not from `webhook` (read before the batch was sent): another worker's failure
    # may have started the clock since, and this later success must clear it.
    current = Webhook.objects.filter(pk=webhook.pk).values("failing_since", "alert_state").first()
    if current is None:
        return
    # Nothing to write while all is well, which is nearly always.
    if current["failing_since"] is None and current["alert_state"] not in (AlertState.FAILING, AlertState.DISABLED):
        return
    Webhook.objects.filter(pk=webhook.pk).update(failing_since=None)
    notifications.webhook_recovered(webhook, current["failing_since"])


def _note_failure(webhook: Webhook, result: DeliveryResult) -> None:
    now = timezone.now()
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


CUT_OFF = "the worker stopped during this attempt, so what the receiver answered is not known"


def recover_stalled() -> int:
    """Log and reschedule every attempt whose worker died mid-way.

    A cut-off attempt may well have reached the receiver, so it is logged (outcome unknown) and
    counts like a failed one: the next attempt waits its turn in the retry schedule, and a
    schedule that is spent gives the delivery up. Test events, never retried, are given up.
    """
    now = timezone.now()
    with transaction.atomic():
        stalled = list(
            Delivery.objects.select_for_update(skip_locked=True).filter(
                state=DeliveryState.IN_FLIGHT, leased_until__lt=now
            )
        )
        webhooks = {w.environment: w for w in Webhook.objects.filter(environment__in={d.environment for d in stalled})}
        settled = []
        for stalled_delivery in stalled:
            webhook = webhooks.get(stalled_delivery.environment)
            url = webhook.url if webhook is not None else ""
            settled.append(_settle_cut_off(stalled_delivery, url, now))
        WebhookLog.objects.append([log for _, log in settled])
        for cut_off, _ in settled:
            cut_off.save(update_fields=["state", "next_attempt_at", "leased_until", "updated_at"])
        # The idle workers learn when the next attempts are due, and wait for them.
        for environment in sorted({cut_off.environment for cut_off, _ in settled if cut_off.next_attempt_at}):
            announce_due(environment)
    if stalled:
        logger.info("Logged and rescheduled %d delivery attempt(s) cut off by a stopped worker", len(stalled))
    return len(stalled)


def _settle_cut_off(delivery: Delivery, url: str, now: datetime) -> tuple[Delivery, WebhookLog]:
    body = build_body(delivery.event, delivery.payload)
    attempt = max(delivery.attempts, 1)  # a lease is only ever taken with the attempt counted
    delay = retry_delay(attempt, None) if delivery.type == LogType.DATA_ALERT else None
    next_at = now + timedelta(seconds=delay) if delay is not None else None
    log = WebhookLog(
        environment=delivery.environment,
        delivery_id=delivery.id,
        attempt=attempt,
        project_id=delivery.project_id,
        type=delivery.type,
        event=delivery.event,
        status=LogStatus.FAILURE,
        url=url,
        error=CUT_OFF,
        # The body is the same on every attempt; the timestamp, and so the signature, are lost.
        request_headers={"AutoQL-Event": delivery.event, "AutoQL-Delivery-Id": str(delivery.id)},
        request_body=body.decode(),
        next_attempt_at=next_at,
    )
    delivery.state = DeliveryState.PENDING if next_at is not None else DeliveryState.FAILED
    delivery.next_attempt_at, delivery.leased_until, delivery.updated_at = next_at, None, now
    return delivery, log


def recover_forever(stop: threading.Event) -> None:
    """recover_stalled every WEBHOOK_RECOVERY_INTERVAL seconds until `stop` is set."""
    repeat(recover_stalled, settings.WEBHOOK_RECOVERY_INTERVAL, stop, "Recovering stalled deliveries")
