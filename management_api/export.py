"""The delivery log as a CSV or JSON Lines download, streamed newest first.

Rows are read from the database in chunks and written out as they come, so a million rows take
the memory of one chunk and the response starts at once. Log rows hold no secret; the signature
of a delivery sent less than five minutes ago is hidden wherever it appears (portal/signatures.py),
because a receiver would still accept it with the body next to it.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from audit.trail import Action, export_detail, record
from management_api.log_search import NEWEST_FIRST
from management_api.models import WebhookLog
from management_api.schemas import iso
from portal.signatures import hide_fresh_signature

CHUNK_ROWS = 2000
# Bytes gathered before they are handed to the server: one write per row would be slow.
FLUSH_BYTES = 64 * 1024
COLUMNS = [
    "id",
    "created_at",
    "environment",
    "type",
    "event",
    "project_id",
    "status",
    "code",
    "duration_ms",
    "error",
    "url",
    "delivery_id",
    "attempt",
    "next_attempt_at",
    "response",
    "request_headers",
    "request_body",
    "response_headers",
]
# What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list), and the full-width
# forms that some spreadsheets fold into them.
FORMULA_STARTS = frozenset("=+-@\t\r" + "\uff1d\uff0b\uff0d\uff20")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def export_row(log: WebhookLog, now: datetime) -> dict[str, Any]:
    return hide_fresh_signature(
        {
            "id": str(log.pk),
            "created_at": iso(log.created_at),
            "environment": log.environment,
            "type": log.type,
            "event": log.event,
            "project_id": log.project_id,
            "status": log.status,
            "code": log.code,
            "duration_ms": log.duration_ms,
            "error": log.error,
            "url": log.url,
            "delivery_id": str(log.delivery_id),
            "attempt": log.attempt,
            "next_attempt_at": iso(log.next_attempt_at) if log.next_attempt_at else None,
            "response": log.response,
            "request_headers": log.request_headers or {},
            "request_body": log.request_body,
            "response_headers": log.response_headers,
        },
        now,
    )


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula; receivers choose what their answers say.
    if text[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def export_chunks(logs: QuerySet[WebhookLog], file_format: str) -> Iterator[bytes]:
    now = timezone.now()
    rows = (export_row(log, now) for log in logs.order_by(*NEWEST_FIRST).iterator(chunk_size=CHUNK_ROWS))
    lines = csv_lines(rows) if file_format == "csv" else jsonl_lines(rows)
    pending: list[str] = []
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line)
        if size >= FLUSH_BYTES:
            yield "".join(pending).encode()
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode()


def filename(environment: str, file_format: str) -> str:
    return f"webhook-logs-{environment}-{timezone.now():%Y%m%dT%H%M%SZ}.{file_format}"


def export_file(
    environment: str, logs: QuerySet[WebhookLog], file_format: str, filters: Mapping[str, str]
) -> Iterator[bytes]:
    """An export of `logs`, with its one audit event: the format and the filters that chose the rows."""
    record(Action.LOGS_EXPORTED, environment=environment, detail=export_detail(file_format, filters))
    return export_chunks(logs, file_format)
