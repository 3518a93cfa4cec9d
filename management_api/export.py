"""The delivery log as a CSV or JSON Lines download, streamed newest first.

Rows are read from the database in chunks and written out as they come, so a million rows take
the memory of one chunk and the response starts at once. Log rows hold no secret; the signature
of a delivery sent less than five minutes ago is hidden wherever it appears (portal/signatures.py),
because a receiver would still accept it with the body next to it.

On PostgreSQL the CSV of the rows older than that is written by the database itself (`COPY ... TO
STDOUT`), cell for cell what Python writes: Python's work per row (decoding three JSON columns to
encode them again, formatting times) held a million-row export to about 10,000 rows a second.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.trail import Action, export_detail, record
from management_api.log_search import NEWEST_FIRST
from management_api.models import WebhookLog
from management_api.schemas import iso
from portal.signatures import REPLAY_WINDOW, hide_fresh_signature, is_replayable

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
        yield shown(dict(zip(COLUMNS, values, strict=True)), now)


def shown(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One row (its values by COLUMNS, times as datetimes) as the export shows it."""
    row["request_headers"] = row["request_headers"] or {}
    # Decided on the row's exact time, before it is written in whole seconds.
    if is_replayable(row, now):
        row = hide_fresh_signature(row, now)
    for name in TIMES:
        if row[name] is not None:
            row[name] = iso(row[name])
    for name in IDS:
        row[name] = str(row[name])
    return row


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


class _LinesEndingInLineFeed(io.StringIO):
    """Lines end in "\n", as PostgreSQL's COPY ends them, so both parts of a file are alike. The
    writer keeps its "\r\n" (it quotes a cell holding "\r" only when "\r" ends its lines, as COPY
    does) and hands each line over in one write."""

    def write(self, line: str) -> int:
        return super().write(line[:-2] + "\n")


def csv_chunks(rows: Iterable[dict[str, Any]], header: bool = True) -> Iterator[str]:
    """The CSV file in pieces of about FLUSH_BYTES: one write per row would be slow."""
    buffer = _LinesEndingInLineFeed()
    writer = csv.writer(buffer)
    if header:
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
    now = timezone.now()
    if file_format == "csv" and connections[logs.db].vendor == "postgresql":
        yield from postgresql_csv(logs, now)
        return
    rows = export_rows(logs, now)
    yield from _encoded(csv_chunks(rows) if file_format == "csv" else jsonl_chunks(rows))


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield chunk.encode()


def postgresql_csv(logs: QuerySet[WebhookLog], now: datetime) -> Iterator[bytes]:
    """The CSV file: the last five minutes' rows, whose signature may still be hidden, written by
    Python, and the older ones by COPY, newest first throughout."""
    cutoff = now - REPLAY_WINDOW
    yield from _encoded(csv_chunks(export_rows(logs.filter(created_at__gte=cutoff), now)))
    yield from copied_csv(logs.filter(created_at__lt=cutoff), now)


# What COPY writes instead of a row whose AutoQL-Timestamp is later than its own time (no sender
# here writes one): "~" and the row as a JSON object, for Python to write it as export_rows would,
# with its signature hidden. No line of the export starts with "~": the first cell is the row's id.
SIGNED_LATER = b"~"


def copied_csv(logs: QuerySet[WebhookLog], now: datetime) -> Iterator[bytes]:
    """The rows' CSV lines, newest first, as PostgreSQL's COPY writes them from COPY_CELLS; a row
    whose signature is still to be hidden by its AutoQL-Timestamp is written by Python in its place.
    COPY sends a row at a time (libpq's PQgetCopyData)."""
    # Any header named AutoQL-Timestamp in any case, in digits (as portal/signatures.py reads it):
    # a row with one at or after the cutoff is left to Python, which knows which one counts.
    headers = _column("request_headers")
    signed_later = (
        f"EXISTS (SELECT 1 FROM jsonb_each_text(CASE WHEN jsonb_typeof({headers}) = 'object' THEN {headers} END)"
        " AS header (name, value) WHERE lower(header.name) = 'autoql-timestamp'"
        " AND header.value ~ '^[0-9]{1,14}$' AND header.value::bigint >= %s)"
    )
    cutoff_ms = int((now - REPLAY_WINDOW).timestamp() * 1000)
    document = ", ".join(f"'{name}', {_column(name)}" for name in COLUMNS)
    cells = [f"CASE WHEN later.signed THEN '~' ELSE {COPY_CELLS[0]} END"]
    cells.append(f"CASE WHEN later.signed THEN jsonb_build_object({document})::text ELSE {COPY_CELLS[1]} END")
    cells += [f"CASE WHEN later.signed THEN NULL ELSE {cell} END" for cell in COPY_CELLS[2:]]
    # The rows' filters as Django writes them (on this one table, no join), read in the order of
    # the log's index. OFFSET 0 keeps PostgreSQL from copying the timestamp's test into each of the
    # 18 cells that ask for it (4.7 s for 100,000 rows instead of 1.2 s, with a test of one key).
    try:
        where, where_params = logs.query.get_compiler(using=logs.db).compile(logs.query.where)
    except FullResultSet:
        where, where_params = "true", []
    except EmptyResultSet:
        return
    sql = (
        f"SELECT {', '.join(cells)} FROM {TABLE}, LATERAL (SELECT {signed_later} AS signed OFFSET 0) AS later"
        f" WHERE {where} ORDER BY {_column('created_at')} DESC, {_column('seq')} DESC"
    )
    params = (cutoff_ms, *where_params)
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    # One process reads the rows in the index's order: in parallel, the leader merged the workers'
    # rows in order and took two to three times as long.
    with transaction.atomic(using=logs.db), connections[logs.db].cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield from _copied(cursor, statement, params, logs, now)


def _copied(cursor: Any, statement: str, params: tuple, logs: QuerySet[WebhookLog], now: datetime) -> Iterator[bytes]:
    pending = bytearray()
    with cursor.cursor.copy(statement, params) as copy:
        for data in copy:
            if data[:1] == SIGNED_LATER:
                data = _signed_later_line(bytes(data), now)
            pending += data
            if len(pending) >= FLUSH_BYTES:
                yield bytes(pending)
                pending.clear()
    if pending:
        yield bytes(pending)


def _signed_later_line(line: bytes, now: datetime) -> bytes:
    """The CSV line of a row that COPY wrote as SIGNED_LATER and its JSON."""
    _, document, *_ = next(csv.reader(io.StringIO(line.decode())))
    row = json.loads(document)
    for name in TIMES:
        if row[name] is not None:
            row[name] = parse_datetime(row[name])
    return "".join(csv_chunks([shown(row, now)], header=False)).encode()


TABLE = f'"{WebhookLog._meta.db_table}"'


def _column(name: str) -> str:
    return f'{TABLE}."{name}"'


def _sql_text(text: str) -> str:
    """`text` as an SQL string literal (the formula starts include a tab and a carriage return)."""
    return "(" + " || ".join(f"chr({ord(c)})" if c in "\t\r'" else f"'{c}'" for c in text) + ")"


_STARTS = ", ".join(_sql_text(start) for start in sorted(FORMULA_STARTS))


def _guarded(text: str) -> str:
    """csv_text in SQL: a formula start gets a quote before it, and "" is NULL (an empty cell, as
    Python writes it, where COPY would quote an empty string)."""
    return f"NULLIF(CASE WHEN left({text}, 1) IN ({_STARTS}) THEN chr(39) || {text} ELSE {text} END, '')"


def _json_cell(value: str) -> str:
    """csv_cell of a JSON column in SQL: an object or a list as its JSON text (PostgreSQL spaces it
    as json.dumps does, and leaves other alphabets as they are), a string as its text, a number as
    its digits, true and false as Python names them, null as an empty cell."""
    as_text = f"({value} #>> '{{}}')"
    return (
        f"CASE jsonb_typeof({value}) WHEN 'object' THEN {value}::text WHEN 'array' THEN {value}::text"
        f" WHEN 'string' THEN {_guarded(as_text)}"
        f" WHEN 'number' THEN {_guarded(f'{value}::text')}"
        f" WHEN 'boolean' THEN CASE WHEN {value} = 'true'::jsonb THEN 'True' ELSE 'False' END END"
    )


def _time(value: str) -> str:
    """iso() in SQL: whole seconds, UTC, "Z"."""
    return f"""to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def _request_headers_cell() -> str:
    """export_rows shows missing headers, and any Python finds false, as {}."""
    headers = _column("request_headers")
    falsy = ", ".join(f"{_sql_text(text)}::jsonb" for text in ("{}", "[]", '""', "0", "false", "null"))
    return f"CASE WHEN {headers} IS NULL OR {headers} IN ({falsy}) THEN '{{}}' ELSE {_json_cell(headers)} END"


# Each column of COLUMNS, in its order, as the export writes it.
COPY_CELLS = [
    f"{_column('id')}::text",
    _time(_column("created_at")),
    *(_guarded(_column(name)) for name in ("environment", "type", "event", "project_id", "status")),
    _guarded(f"{_column('code')}::text"),
    _guarded(f"{_column('duration_ms')}::text"),
    _guarded(_column("error")),
    _guarded(_column("url")),
    f"{_column('delivery_id')}::text",
    _guarded(f"{_column('attempt')}::text"),
    _time(_column("next_attempt_at")),
    _json_cell(_column("response")),
    _request_headers_cell(),
    _guarded(_column("request_body")),
    _json_cell(_column("response_headers")),
]


def filename(environment: str, file_format: str) -> str:
    return f"webhook-logs-{environment}-{timezone.now():%Y%m%dT%H%M%SZ}.{file_format}"


def export_file(
    environment: str, logs: QuerySet[WebhookLog], file_format: str, filters: Mapping[str, str]
) -> Iterator[bytes]:
    """An export of `logs`, with its one audit event: the format and the filters that chose the rows."""
    record(Action.LOGS_EXPORTED, environment=environment, detail=export_detail(file_format, filters))
    return export_chunks(logs, file_format)
