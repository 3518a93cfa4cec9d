"""A delivery's signature, hidden while a receiver would still accept it.

A receiver accepts a signed delivery for five minutes after its AutoQL-Timestamp
(management_api/signing.py), so until then anyone who sees the signature beside the body can send
the delivery again. Wherever a logged attempt is shown to someone who may not resend it (a viewer
in the portal, anyone reading an export), the signature is replaced by HIDDEN_SIGNATURE: in the
request headers, and wherever the receiver's answer echoes it back (request-inspection services
answer with the request itself): its body, its headers, and the error sentence that quotes its
reason phrase or Location.

At the project level because both the portal's views and the embedded API's export need it, and
neither app imports the other (portal/credentials.py is here for the same reason).
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.utils import timezone
from django.utils.dateparse import parse_datetime

REPLAY_WINDOW = timedelta(minutes=5)
HIDDEN_SIGNATURE = "(hidden for 5 minutes after sending)"
SIGNATURE_HEADER = "autoql-signature"
TIMESTAMP_HEADER = "autoql-timestamp"
# Where a receiver's words are kept in a log row or an attempt.
ECHO_FIELDS = ("response", "response_headers", "error")


def _header(headers: Mapping[str, Any], name: str) -> str:
    return next((str(value) for key, value in headers.items() if str(key).lower() == name), "")


def sent_at(row: Mapping[str, Any]) -> datetime | None:
    """The later of the row's time and its AutoQL-Timestamp: a timestamp in the future is valid longer."""
    moments = []
    created_at = row.get("created_at")
    if isinstance(created_at, str):
        created_at = parse_datetime(created_at)
    if isinstance(created_at, datetime):
        moments.append(created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC))
    headers = row.get("request_headers")
    timestamp = _header(headers, TIMESTAMP_HEADER) if isinstance(headers, Mapping) else ""
    if timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 14:
        moments.append(datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC))
    return max(moments) if moments else None


def is_replayable(row: Mapping[str, Any], now: datetime | None = None) -> bool:
    moment = sent_at(row)
    return moment is None or (now or timezone.now()) - moment < REPLAY_WINDOW


def hide_fresh_signature(row: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """A copy of a logged attempt (the API's log row, an attempt of a delivery, an export row) with
    its signature hidden wherever it appears, while a receiver would still accept it."""
    shown = dict(row)
    headers = row.get("request_headers")
    if not isinstance(headers, Mapping) or not is_replayable(row, now):
        return shown
    signature = _header(headers, SIGNATURE_HEADER)
    shown["request_headers"] = {
        name: HIDDEN_SIGNATURE if str(name).lower() == SIGNATURE_HEADER else value for name, value in headers.items()
    }
    if signature:
        # As it was sent, and as an echo may spell it: JSON text escapes "/", a URL quotes "+/=".
        spellings = {signature, signature.replace("/", "\\/"), quote(signature, safe=""), quote(signature)}
        for field in ECHO_FIELDS:
            if field in shown:
                shown[field] = _without(shown[field], spellings)
    return shown


def _without(value: Any, spellings: set[str]) -> Any:
    """`value` (JSON: text, numbers, lists and objects) with every spelling of the signature hidden."""
    if isinstance(value, str):
        for spelling in spellings:
            value = value.replace(spelling, HIDDEN_SIGNATURE)
        return value
    if isinstance(value, list):
        return [_without(item, spellings) for item in value]
    if isinstance(value, dict):
        return {_without(key, spellings): _without(item, spellings) for key, item in value.items()}
    return value
