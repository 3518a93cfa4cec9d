import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import mark_safe

from webhooks_app.contract import MAX_JSON_DEPTH, nests_at_most

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """A logged response as people read it: indented JSON, or the text as it came."""
    if value is None:
        return "(no response body)"
    if isinstance(value, (dict, list, int, float, bool)):
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return str(value)


@register.filter
def as_datetime(value: str | None) -> datetime | None:
    """The API's ISO 8601 timestamps, as datetimes the date filters can format."""
    return parse_datetime(value) if value else None


@register.filter
def pretty_json_text(value: str) -> str:
    """A JSON document kept as text (a request body), indented when it parses, nests no deeper than
    the templates indent, and holds only text a page can encode (no half surrogate pair)."""
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError, RecursionError):
        return value
    if not nests_at_most(parsed, MAX_JSON_DEPTH):
        return value
    pretty = json.dumps(parsed, indent=2, ensure_ascii=False)
    try:
        pretty.encode("utf-8")
    except UnicodeEncodeError:
        return value
    return pretty


# Receivers accept a signed delivery for five minutes after its AutoQL-Timestamp
# (management_api/signing.py), so until then its signature would let anyone who sees it replay it.
REPLAY_WINDOW = timedelta(minutes=5)
SIGNATURE_HEADER = "autoql-signature"
HIDDEN_SIGNATURE = "(hidden for 5 minutes after sending)"


def _sent_at(row: dict[str, Any], headers: dict[str, str]) -> datetime | None:
    """The later of the row's time and its AutoQL-Timestamp: a future timestamp stays valid longer."""
    moments = []
    created_at = parse_datetime(row.get("created_at") or "")
    if created_at:
        moments.append(created_at)
    timestamp = next((v for k, v in headers.items() if k.lower() == "autoql-timestamp"), "")
    if timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 14:
        moments.append(datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC))
    return max(moments) if moments else None


@register.filter
def request_headers_shown(row: dict[str, Any], is_manager: bool) -> list[tuple[str, str]]:
    """A log row's request headers; for viewers, without a signature that could still be replayed."""
    headers = row.get("request_headers") or {}
    if is_manager:
        return list(headers.items())
    sent_at = _sent_at(row, headers)
    replayable = sent_at is None or timezone.now() - sent_at < REPLAY_WINDOW
    return [
        (name, HIDDEN_SIGNATURE if replayable and name.lower() == SIGNATURE_HEADER else value)
        for name, value in headers.items()
    ]


@register.filter
def wrap_at_slashes(value: str) -> str:
    """A URL that a narrow box breaks after its slashes rather than in the middle of a word."""
    # Safe: the text is escaped first, and only <wbr> is added.
    return mark_safe(escape(value).replace("/", "/<wbr>"))
