"""The management API's answers as the portal uses them: docs/api.md and docs/api-additions.md.

An upstream is a server the portal does not control. Every answer is read as JSON text that
Python can hold and a page can show (`parse_answer`), then its `data` is checked against the
shape of its call (the models below) before any view or template sees it: a field of the
wrong type, a time that is not a time, an id the portal cannot link to, all make the call fail as
"an answer of an unknown shape" instead of a 500 further on. Strict: "5" is not a number, 1 is
not a string, true is not a number. Fields the portal does not use are dropped, so an upstream may
add its own.
"""

import json
import math
import re
from datetime import UTC
from typing import Annotated, Any

from django.utils.dateparse import parse_datetime
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# As deep as the embedded API keeps a receiver's JSON (management_api/sender.py, MAX_JSON_DEPTH).
# The templates indent such values with json.dumps, whose Python recursion a deeper one exhausts.
MAX_JSON_DEPTH = 32
# The contract's whole answers are shallow (envelope, page, row, then a receiver's JSON).
MAX_ANSWER_DEPTH = MAX_JSON_DEPTH + 8


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
    beyond a float, nested deeper than MAX_ANSWER_DEPTH, or a string with NUL or half a surrogate
    pair (no page can encode it, no database keeps it)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise NotContractJson("not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise NotContractJson(f"JSON nested deeper than {MAX_ANSWER_DEPTH}") from None
    except NotContractJson:
        raise
    except ValueError:
        raise NotContractJson("not JSON") from None
    if not nests_at_most(value, MAX_ANSWER_DEPTH):
        raise NotContractJson(f"JSON nested deeper than {MAX_ANSWER_DEPTH}")
    if _NUL_OR_SURROGATE_ESCAPE.search(text) and not _strings_are_plain(value):
        raise NotContractJson("a string with NUL or half a surrogate pair")
    return value


def nests_at_most(value: Any, limit: int) -> bool:
    """Whether lists and objects in a parsed JSON value nest no deeper than `limit` ([] is 1 deep)."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        current, depth = pending.pop()
        if depth > limit:
            return False
        children = current.values() if isinstance(current, dict) else current
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
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
    try:
        year = moment.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not 2 <= year <= 9998:
        raise ValueError("use a time between the years 2 and 9998")
    return value


def _json_value(value: Any) -> Any:
    if not nests_at_most(value, MAX_JSON_DEPTH):
        raise ValueError(f"nest at most {MAX_JSON_DEPTH} deep")
    return value


def _log_id(value: str | int) -> str:
    text = str(value)
    if not re.fullmatch(r"[0-9]{1,19}", text):
        raise ValueError("use a log row id of digits (webhooks_app/urls.py links to rows by it)")
    return text


Moment = Annotated[str, AfterValidator(_moment)]
# A number of things (or milliseconds): whole, not negative, and small enough to do sums with.
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
# A receiver's JSON, or its text.
JsonValue = Annotated[Any, AfterValidator(_json_value)]
# Ids the portal puts in its own URLs: the log row's converter, and logs_views.DELIVERY_ID.
LogId = Annotated[str | Annotated[int, Field(ge=0)], AfterValidator(_log_id)]
DeliveryId = Annotated[str, Field(pattern=r"^[0-9A-Fa-f-]{32,36}$")]
Headers = dict[str, str]


class Answer(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class Envelope(Answer):
    """Every answer: the success envelope's `data`, or the error body's `message` and `errors`."""

    data: Any = None
    message: str | None = None
    errors: dict[str, list[str]] | None = None


# The payloads, by call (docs/api.md, "Payloads").


class Webhook(Answer):
    environment: str | None = None
    url: str
    secret: str
    created_at: Moment
    updated_at: Moment
    disabled: bool = False
    disabled_reason: str | None = None
    failing_since: Moment | None = None
    last_error: str | None = None
    recovered_at: Moment | None = None
    # Its presence says the API rolls secrets (docs/api-additions.md): the card offers the roll.
    next_secret_activates_at: Moment | None = None


class WebhookList(Answer):
    items: list[Webhook]


class RolledWebhook(Webhook):
    next_secret: str
    next_secret_activates_at: Moment


class ConnectionTestResult(Answer):
    success: bool
    status_code: int | None = None
    response: JsonValue = None
    error: str | None = None
    duration_ms: Count | None = None
    log_id: str | None = None


class LogRow(Answer):
    """Every field but the id is optional: the embedded API answers only the fields asked for."""

    id: LogId
    environment: str | None = None
    project_id: str | None = None
    type: str | None = None
    event: str | None = None
    status: str | None = None
    code: int | None = None
    created_at: Moment | None = None
    url: str | None = None
    duration_ms: Count | None = None
    error: str | None = None
    response: JsonValue = None
    delivery_id: DeliveryId | None = None
    attempt: Count | None = None
    next_attempt_at: Moment | None = None
    request_headers: Headers | None = None
    request_body: str | None = None
    response_headers: Headers | None = None


class Pagination(Answer):
    offset: Count | None = None
    limit: Count | None = None
    total_items: Count
    total_is_lower_bound: bool = False
    filters: list[str] | None = None


# The largest page the management API gives (docs/api.md: limit 1..100).
MAX_PAGE = 100


class LogsPage(Answer):
    items: list[LogRow] = Field(max_length=MAX_PAGE)
    pagination: Pagination


class Attempt(Answer):
    log_id: LogId | None = None
    attempt: Count | None = None
    created_at: Moment | None = None
    status: str | None = None
    code: int | None = None
    duration_ms: Count | None = None
    error: str | None = None


class Delivery(Answer):
    id: DeliveryId
    state: str
    state_text: str
    next_attempt_at: Moment | None = None
    recovery_of: DeliveryId | None = None
    recovered_by: DeliveryId | None = None
    timeline: list[Attempt]


class StatsBucket(Answer):
    start: Moment
    successes: Count
    failures: Count


# The most buckets a window the portal asks for has: 7 days of hours.
MAX_BUCKETS = 7 * 24


class Stats(Answer):
    window: str | None = None
    attempts: Count | None = None
    deliveries: Count | None = None
    successes: Count | None = None
    failures: Count | None = None
    success_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    p50_duration_ms: Count | None = None
    p95_duration_ms: Count | None = None
    last_success_at: Moment | None = None
    last_failure_at: Moment | None = None
    buckets: list[StatsBucket] = Field(default_factory=list, max_length=MAX_BUCKETS)


class RecoverCount(Answer):
    count: Count


class Recovered(Answer):
    queued: Count


class QueuedEvent(Answer):
    delivery_id: str
