"""The management API's answers as the portal uses them: docs/api.md and docs/api-additions.md.

An upstream is a server the portal does not control. Every answer is read as JSON text that
Python can hold and a page can show (`parse_answer`), then its `data` is checked against the
shape of its call (the TypedDicts below, validated by pydantic) before any view or template sees
it: a field of the wrong type, a time that is not a time, an id the portal cannot link to, all
make the call fail as "an answer of an unknown shape" instead of a 500 further on. Strict: "5" is
not a number, 1 is not a string, true is not a number. What is checked is a plain dict of the
fields the portal uses (others are dropped, so an upstream may add its own).
"""

import json
import math
import re
from typing import Annotated, Any, NotRequired

from django.utils.dateparse import parse_datetime
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

# As deep as the embedded API keeps a receiver's JSON (management_api/sender.py, MAX_JSON_DEPTH).
# The templates indent such values with json.dumps, whose Python recursion a deeper one exhausts.
MAX_JSON_DEPTH = 32


class NotContractJson(ValueError):
    """The answer is not JSON the portal accepts; the message says why, for the operators."""


def _refuse_constant(name: str) -> Any:
    raise NotContractJson(f"JSON with {name}")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NotContractJson(f"a number too large ({text[:20]})")
    return number


# NUL and UTF-16 surrogates can only come in as \u escapes (the bytes are UTF-8): a quick look for
# them spares the walk over every string of the answers that have none.
_NUL_OR_SURROGATE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def parse_answer(content: bytes) -> Any:
    """The answer's JSON value, or NotContractJson: not UTF-8, not JSON, NaN or Infinity, a number
    beyond a float, nested too deep for Python's parser, or a string with NUL or half a surrogate
    pair (no page can encode it, no database keeps it).

    How deep the rest nests is the models' business: their fields have fixed shapes, and the
    free-form ones (a receiver's JSON) are JsonValue."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise NotContractJson("not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise NotContractJson("JSON nested too deep to read") from None
    except NotContractJson:
        raise
    except ValueError:
        raise NotContractJson("not JSON") from None
    if _NUL_OR_SURROGATE_ESCAPE.search(text) and not _strings_are_plain(value):
        raise NotContractJson("a string with NUL or half a surrogate pair")
    return value


def nests_at_most(value: Any, limit: int) -> bool:
    """Whether lists and objects in a parsed JSON value nest no deeper than `limit` ([] is 1 deep)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        inner = []
        for container in level:
            for child in container.values() if isinstance(container, dict) else container:
                if isinstance(child, dict | list):
                    inner.append(child)
        level = inner
    return True


def _strings_are_plain(value: Any) -> bool:
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
        elif isinstance(current, str):
            if "\x00" in current:
                return False
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


# Field types.


def _moment(value: str) -> str:
    """A time with its timezone, kept as the text the templates show (`as_datetime`)."""
    moment = parse_datetime(value)  # ValueError for a well-formed time that does not exist
    if moment is None or moment.tzinfo is None:
        raise ValueError("use an ISO 8601 time with a timezone")
    # Years 1 and 9999 overflow when shown in a timezone on the other side of UTC.
    if not 2 <= moment.year <= 9998:
        raise ValueError("use a time between the years 2 and 9998")
    return value


def _json_value(value: Any) -> Any:
    if not nests_at_most(value, MAX_JSON_DEPTH):
        raise ValueError(f"nest at most {MAX_JSON_DEPTH} deep")
    return value


Moment = Annotated[str, AfterValidator(_moment)]
# A number of things (or milliseconds): whole, not negative, and small enough to do sums with.
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
# A receiver's JSON, or its text.
JsonValue = Annotated[Any, AfterValidator(_json_value)]
# Ids the portal puts in its own URLs: the log row's converter (webhooks_app/urls.py, digits, as
# text or a number), and logs_views.DELIVERY_ID.
LogId = Annotated[str, Field(pattern=r"^[0-9]{1,19}$")] | Annotated[int, Field(ge=0, lt=10**19), AfterValidator(str)]
DeliveryId = Annotated[str, Field(pattern=r"^[0-9A-Fa-f-]{32,36}$")]
Headers = dict[str, str]
STRICT = ConfigDict(strict=True, extra="ignore")


class Envelope(BaseModel):
    """Every answer: the success envelope's `data`, or the error body's `message` and `errors`."""

    model_config = STRICT
    data: Any = None
    message: str | None = None
    errors: dict[str, list[str]] | None = None


# The payloads, by call (docs/api.md, "Payloads"). NotRequired: the portal does without it.


@with_config(STRICT)
class Webhook(TypedDict):
    environment: NotRequired[str | None]
    url: str
    secret: str
    created_at: Moment
    updated_at: Moment
    disabled: NotRequired[bool]
    disabled_reason: NotRequired[str | None]
    failing_since: NotRequired[Moment | None]
    last_error: NotRequired[str | None]
    recovered_at: NotRequired[Moment | None]
    # Its presence says the API rolls secrets (docs/api-additions.md): the card offers the roll.
    next_secret_activates_at: NotRequired[Moment | None]


@with_config(STRICT)
class WebhookList(TypedDict):
    items: list[Webhook]


@with_config(STRICT)
class RolledWebhook(Webhook):
    next_secret: str
    next_secret_activates_at: Moment  # type: ignore[misc]  # required here: the roll says when


@with_config(STRICT)
class ConnectionTestResult(TypedDict):
    success: bool
    status_code: NotRequired[int | None]
    response: NotRequired[JsonValue]
    error: NotRequired[str | None]
    duration_ms: NotRequired[Count | None]
    log_id: NotRequired[str | None]


@with_config(STRICT)
class LogRow(TypedDict):
    """Every field but the id may be left out: the embedded API answers only the fields asked for."""

    id: LogId
    environment: NotRequired[str | None]
    project_id: NotRequired[str | None]
    type: NotRequired[str | None]
    event: NotRequired[str | None]
    status: NotRequired[str | None]
    code: NotRequired[int | None]
    created_at: NotRequired[Moment | None]
    url: NotRequired[str | None]
    duration_ms: NotRequired[Count | None]
    error: NotRequired[str | None]
    response: NotRequired[JsonValue]
    delivery_id: NotRequired[DeliveryId | None]
    attempt: NotRequired[Count | None]
    next_attempt_at: NotRequired[Moment | None]
    request_headers: NotRequired[Headers | None]
    request_body: NotRequired[str | None]
    response_headers: NotRequired[Headers | None]


@with_config(STRICT)
class Pagination(TypedDict):
    offset: NotRequired[Count | None]
    limit: NotRequired[Count | None]
    total_items: Count
    total_is_lower_bound: NotRequired[bool]
    filters: NotRequired[list[str] | None]
    # This project's: "oldest" when the offset was counted from the oldest row.
    end: NotRequired[str | None]


# The largest page the management API gives (docs/api.md: limit 1..100).
MAX_PAGE = 100


@with_config(STRICT)
class LogsPage(TypedDict):
    items: Annotated[list[LogRow], Field(max_length=MAX_PAGE)]
    pagination: Pagination


@with_config(STRICT)
class Attempt(TypedDict):
    log_id: NotRequired[LogId | None]
    attempt: NotRequired[Count | None]
    created_at: NotRequired[Moment | None]
    status: NotRequired[str | None]
    code: NotRequired[int | None]
    duration_ms: NotRequired[Count | None]
    error: NotRequired[str | None]
    # Signature included: hidden from viewers while it could be replayed (portal/signatures.py).
    request_headers: NotRequired[Headers | None]


@with_config(STRICT)
class Delivery(TypedDict):
    id: DeliveryId
    event: NotRequired[str | None]
    type: NotRequired[str | None]
    project_id: NotRequired[str | None]
    created_at: NotRequired[Moment | None]
    state: str
    state_text: str
    next_attempt_at: NotRequired[Moment | None]
    recovery_of: NotRequired[DeliveryId | None]
    recovered_by: NotRequired[DeliveryId | None]
    timeline: list[Attempt]


@with_config(STRICT)
class DeliveryRow(TypedDict):
    """A row of the deliveries view (docs/api-additions.md, "Deliveries, one row each")."""

    id: DeliveryId
    type: NotRequired[str | None]
    event: NotRequired[str | None]
    project_id: NotRequired[str | None]
    outcome: str
    attempts: Count
    next_attempt_at: NotRequired[Moment | None]
    created_at: Moment
    last_log_id: NotRequired[LogId | None]
    last_status: NotRequired[str | None]
    last_code: NotRequired[int | None]
    last_duration_ms: NotRequired[Count | None]
    last_attempt_at: NotRequired[Moment | None]


@with_config(STRICT)
class DeliveriesPage(TypedDict):
    items: Annotated[list[DeliveryRow], Field(max_length=MAX_PAGE)]
    pagination: Pagination


@with_config(STRICT)
class StatsBucket(TypedDict):
    start: Moment
    successes: Count
    failures: Count


# The most buckets a window the portal asks for has: 7 days of hours.
MAX_BUCKETS = 7 * 24


@with_config(STRICT)
class Stats(TypedDict):
    window: NotRequired[str | None]
    attempts: NotRequired[Count | None]
    deliveries: NotRequired[Count | None]
    successes: NotRequired[Count | None]
    failures: NotRequired[Count | None]
    success_rate: NotRequired[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None]
    p50_duration_ms: NotRequired[Count | None]
    p95_duration_ms: NotRequired[Count | None]
    last_success_at: NotRequired[Moment | None]
    last_failure_at: NotRequired[Moment | None]
    buckets: NotRequired[Annotated[list[StatsBucket], Field(max_length=MAX_BUCKETS)]]


@with_config(STRICT)
class RecoverCount(TypedDict):
    count: Count


@with_config(STRICT)
class Recovered(TypedDict):
    queued: Count


@with_config(STRICT)
class QueuedEvent(TypedDict):
    delivery_id: str


# What the client checks each call's `data` with. Any: the views read them as plain dicts.
Shape = TypeAdapter[Any]
WEBHOOK: Shape = TypeAdapter(Webhook)
WEBHOOK_LIST: Shape = TypeAdapter(WebhookList)
ROLLED_WEBHOOK: Shape = TypeAdapter(RolledWebhook)
CONNECTION_TEST_RESULT: Shape = TypeAdapter(ConnectionTestResult)
LOG_ROW: Shape = TypeAdapter(LogRow)
LOGS_PAGE: Shape = TypeAdapter(LogsPage)
DELIVERY: Shape = TypeAdapter(Delivery)
DELIVERIES_PAGE: Shape = TypeAdapter(DeliveriesPage)
STATS: Shape = TypeAdapter(Stats)
RECOVER_COUNT: Shape = TypeAdapter(RecoverCount)
RECOVERED: Shape = TypeAdapter(Recovered)
QUEUED_EVENT: Shape = TypeAdapter(QueuedEvent)
