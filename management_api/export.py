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
from portal.signatures import hide_fresh_signature, is_replayable

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


# Read for each row, in the order of COLUMNS ("id" is the row's primary key).
FIELDS = ["pk", *COLUMNS[1:]]
TIMES = ("created_at", "next_attempt_at")
IDS = ("id", "delivery_id")
JSON_COLUMNS = frozenset({"response", "request_headers", "response_headers"})


def export_rows(logs: QuerySet[WebhookLog], now: datetime) -> Iterator[dict[str, Any]]:
    """Each row as the export shows it, newest first: read as plain values a chunk at a time (no
    model instance per row), the signature hidden while a receiver would still accept it."""
    for values in logs.order_by(*NEWEST_FIRST).values_list(*FIELDS).iterator(chunk_size=CHUNK_ROWS):
        row = dict(zip(COLUMNS, values, strict=True))
        row["request_headers"] = row["request_headers"] or {}
        # Decided on the row's exact time, before it is written in whole seconds.
        if is_replayable(row, now):
            row = hide_fresh_signature(row, now)
        for name in TIMES:
            if row[name] is not None:
                row[name] = iso(row[name])
        for name in IDS:
            row[name] = str(row[name])
        yield row


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


def csv_text(value: str | None) -> str:
    """csv_cell for a column that holds text or nothing, without its type checks."""
    if value is None:
        return ""
    return "'" + value if value[:1] in FORMULA_STARTS else value


# Text columns take the quicker csv_text; numbers and JSON go through csv_cell.
CSV_CELLS = [
    csv_cell if name in JSON_COLUMNS or name in ("code", "duration_ms", "attempt") else csv_text for name in COLUMNS
]


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV file in pieces of about FLUSH_BYTES: one write per row would be slow."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    cells = list(zip(COLUMNS, CSV_CELLS, strict=True))
    for row in rows:
        writer.writerow([cell(row[name]) for name, cell in cells])
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    pending: list[str] = []
    size = 0
    for row in rows:
        line = json.dumps(row, ensure_ascii=False) + "\n"
        pending.append(line)
        size += len(line)
        if size >= FLUSH_BYTES:
            yield "".join(pending)
            pending, size = [], 0
    yield "".join(pending)


def export_chunks(logs: QuerySet[WebhookLog], file_format: str) -> Iterator[bytes]:
    rows = export_rows(logs, timezone.now())
    for chunk in csv_chunks(rows) if file_format == "csv" else jsonl_chunks(rows):
        if chunk:
            yield chunk.encode()


def filename(environment: str, file_format: str) -> str:
    return f"webhook-logs-{environment}-{timezone.now():%Y%m%dT%H%M%SZ}.{file_format}"


def export_file(
    environment: str, logs: QuerySet[WebhookLog], file_format: str, filters: Mapping[str, str]
) -> Iterator[bytes]:
    """An export of `logs`, with its one audit event: the format and the filters that chose the rows."""
    record(Action.LOGS_EXPORTED, environment=environment, detail=export_detail(file_format, filters))
    return export_chunks(logs, file_format)
